import { answer, faultAnswer, type AnswerEnv } from './generate';
import { isContentFault } from './faults';
import type { SimModel } from './models';
import type { ThoughtSigner } from './signatures';
import type { Fault } from './types';
import { validateGenerateRequest, type StoredFile } from './validate';

export interface PipelineEnv extends AnswerEnv {
	signer: ThoughtSigner;
	resolveFile(uri: string): StoredFile | undefined;
	/** The request came in on a Vertex AI route. */
	vertex?: boolean;
	/** Whether the project stores requests it is not told about (projects made since 2026-10-26). */
	storeByDefault: boolean;
	/** Keeps a request for the project's logs, as Google does unless told `store: false`. */
	keepLog(entry: StoredLog): void;
}

/** A request Google kept for AI Studio's Logs and datasets. */
export interface StoredLog {
	model: string;
	prompt: string;
	images: number;
}

/**
 * Validation, then a content fault or a normal answer: the part of generateContent that is the
 * same for the HTTP route and for each request of a batch. Throws SimHttpError on a bad request.
 */
export async function generateContent(
	env: PipelineEnv,
	model: SimModel,
	body: unknown,
	fault?: Fault,
): Promise<Record<string, unknown>> {
	const parsed = validateGenerateRequest(body, {
		model,
		signer: env.signer,
		resolveFile: env.resolveFile,
		vertex: env.vertex,
	});
	// Vertex AI has no request logs of this kind (its own logging is a BigQuery opt-in).
	const store = (parsed.request as { store?: boolean }).store ?? env.storeByDefault;
	if (!env.vertex && store)
		env.keepLog({ model: model.id, prompt: parsed.prompt, images: parsed.images.length });
	const response =
		fault && isContentFault(fault)
			? await faultAnswer(env, model, parsed, fault)
			: await answer(env, model, parsed);
	return env.vertex ? asVertexAnswers(response) : response;
}

/** Vertex AI's answers also say when they were made and how they were billed (trafficType). */
function asVertexAnswers(response: Record<string, unknown>): Record<string, unknown> {
	const { responseId, usageMetadata, ...rest } = response;
	return {
		...rest,
		usageMetadata: { ...(usageMetadata as object), trafficType: 'ON_DEMAND' },
		createTime: new Date().toISOString(),
		...(responseId !== undefined ? { responseId } : {}),
	};
}
