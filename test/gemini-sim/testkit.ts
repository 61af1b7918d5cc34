/** Small helpers shared by the simulator's own tests. */
import {
	GoogleGenAI,
	type GenerateContentResponse,
	type HttpOptions,
	type Part,
} from '@google/genai';
import { getGlobalDispatcher } from 'undici';

import type { GeminiSim } from './index';

// The SDK sends through undici's global dispatcher, which Node creates on its own global object,
// out of reach of Jest's sandbox. The undici package installs one in the sandbox when loaded.
getGlobalDispatcher();

export function client(
	sim: GeminiSim,
	httpOptions: Partial<HttpOptions> = {},
	apiKey = sim.apiKey,
): GoogleGenAI {
	return new GoogleGenAI({
		apiKey,
		httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta', ...httpOptions },
	});
}

export function partsOf(response: GenerateContentResponse): Part[] {
	return response.candidates?.[0]?.content?.parts ?? [];
}

/** The final image: the last inlineData part that is not a thought. */
export function finalImage(response: GenerateContentResponse): Buffer {
	const part = partsOf(response)
		.filter((p) => p.inlineData && !p.thought)
		.pop();
	if (!part?.inlineData?.data) throw new Error('no final image in the response');
	return Buffer.from(part.inlineData.data, 'base64');
}

export interface SurfacedError {
	name: string;
	status?: number;
	message: string;
	/** The parsed JSON the SDK put in an ApiError's message, when it is JSON. */
	body?: {
		error: {
			code: number;
			message: string;
			status: string;
			details?: Array<Record<string, unknown>>;
		};
	};
	cause?: unknown;
}

/** Runs a call that must fail and returns the error as the SDK surfaced it. */
export async function failure(call: Promise<unknown>): Promise<SurfacedError> {
	try {
		await call;
	} catch (error) {
		const e = error as Error & { status?: number; cause?: unknown };
		let body: SurfacedError['body'];
		try {
			body = JSON.parse(e.message);
		} catch {
			body = undefined;
		}
		return { name: e.name, status: e.status, message: e.message, body, cause: e.cause };
	}
	throw new Error('expected the call to fail');
}

/** A JSON body, typed loosely for inspection. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function readJson(response: Response): Promise<any> {
	return response.json();
}

/** A solid PNG of the given size and colour. */
export async function solidPng(
	width: number,
	height: number,
	colour: { r: number; g: number; b: number },
): Promise<Buffer> {
	const { default: sharp } = await import('sharp');
	return sharp({ create: { width, height, channels: 3, background: colour } })
		.png()
		.toBuffer();
}
