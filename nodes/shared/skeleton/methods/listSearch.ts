import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import {
	DEFAULT_MODEL,
	DEFAULT_TEXT_MODEL,
	MODELS,
	TEXT_MODELS,
	isImageModelId,
	lifecycleLabel,
} from '../../catalogue';
import type { Lifecycle } from '../../catalogue';
import { geminiClientFor } from '../../pipeline/credentials';
import type { RemoteModel } from '../../transport';

const answersGenerateContent = (model: RemoteModel) =>
	model.methods.length === 0 || model.methods.includes('generateContent');

/** Image-output models that answer generateContent (Imagen uses predict). */
export function isImageModel(model: RemoteModel): boolean {
	return isImageModelId(model.id, model.displayName) && answersGenerateContent(model);
}

/** Text-output models that can look at an image: not image, embedding, speech or video models. */
export function isJudgeModel(model: RemoteModel): boolean {
	return (
		!isImageModelId(model.id, model.displayName) &&
		!/imagen|embedding|tts|audio|veo|lyria|aqa|live|robotics|computer-use/.test(model.id) &&
		answersGenerateContent(model)
	);
}

const UNKNOWN =
	"Not in this package's model table: sent as is, with no checks before sending and no price estimate";

function matches(filter: string | undefined, ...fields: Array<string | undefined>): boolean {
	if (!filter) return true;
	const wanted = filter.toLowerCase();
	return fields.some((f) => f?.toLowerCase().includes(wanted));
}

interface Known extends Lifecycle {
	id: string;
	name: string;
}

/** One list entry: the catalogue's name and lifecycle where it knows the model. */
function entry(id: string, known: Known | undefined, remote?: RemoteModel): INodeListSearchItems {
	if (!known)
		return { name: `${remote?.displayName ?? id} (${id})`, value: id, description: UNKNOWN };
	const name = `${known.name} (${id})${lifecycleLabel(known)}`;
	return remote?.description
		? { name, value: id, description: remote.description }
		: { name, value: id };
}

/**
 * The key's models of one kind, live from the API, the default first; the catalogue's when listing
 * fails (offline, proxy, quota) or finds none. A shut-down model shows only if Google still lists
 * it.
 */
async function searchModels(
	ctx: ILoadOptionsFunctions,
	kind: { table: readonly Known[]; fits: (m: RemoteModel) => boolean; defaultId: string },
	filter?: string,
): Promise<INodeListSearchResult> {
	const known = new Map(kind.table.map((m) => [m.id, m]));
	const fallback = () => ({
		results: kind.table
			.filter((m) => m.status !== 'shutdown' && matches(filter, m.id, m.name))
			.map((m) => entry(m.id, m)),
	});
	try {
		const client = await geminiClientFor(ctx);
		const models = (await client.listModels()).filter(kind.fits);
		if (models.length === 0) return fallback();
		const results = models
			.filter((m) => matches(filter, m.id, m.displayName, known.get(m.id)?.name))
			.sort((a, b) => Number(b.id === kind.defaultId) - Number(a.id === kind.defaultId))
			.map((m) => entry(m.id, known.get(m.id), m));
		return { results };
	} catch {
		return fallback();
	}
}

export async function searchImageModels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	return await searchModels(
		this,
		{ table: MODELS, fits: isImageModel, defaultId: DEFAULT_MODEL },
		filter,
	);
}

/** Text models for Verify's AI judge (image input, structured output). */
export async function searchJudgeModels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	return await searchModels(
		this,
		{ table: TEXT_MODELS, fits: isJudgeModel, defaultId: DEFAULT_TEXT_MODEL },
		filter,
	);
}
