import type {
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import { MODELS } from '../catalogue';
import { geminiClientFor } from '../credentials';
import type { RemoteModel } from '../transport';

/**
 * Image-output models answer generateContent and carry "image" in their id (Imagen uses predict).
 */
export function isImageModel(model: RemoteModel): boolean {
	return (
		/-image/.test(model.id) &&
		!/^imagen/.test(model.id) &&
		(model.methods.length === 0 || model.methods.includes('generateContent'))
	);
}

function matches(filter: string | undefined, ...fields: Array<string | undefined>): boolean {
	if (!filter) return true;
	const wanted = filter.toLowerCase();
	return fields.some((f) => f?.toLowerCase().includes(wanted));
}

function fallbackList(filter?: string): INodeListSearchItems[] {
	return MODELS.filter((m) => m.status !== 'shutdown' && matches(filter, m.id, m.name)).map(
		(m) => ({
			name: `${m.name} (${m.id})${m.status === 'deprecated' ? ' - deprecated' : ''}`,
			value: m.id,
		}),
	);
}

/**
 * Live list of the key's image models; the built-in table when listing fails (offline, proxy,
 * quota).
 */
export async function searchImageModels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	try {
		const client = await geminiClientFor(this);
		const models = (await client.listModels()).filter(isImageModel);
		if (models.length === 0) return { results: fallbackList(filter) };
		const known = new Map(MODELS.map((m) => [m.id, m]));
		const results = models
			.filter((m) => matches(filter, m.id, m.displayName))
			.map((m) => {
				const info = known.get(m.id);
				const label = info ? `${info.name} (${m.id})` : `${m.displayName} (${m.id})`;
				return {
					name: info?.status === 'deprecated' ? `${label} - deprecated` : label,
					value: m.id,
					description: m.description,
				};
			});
		return { results };
	} catch {
		return { results: fallbackList(filter) };
	}
}
