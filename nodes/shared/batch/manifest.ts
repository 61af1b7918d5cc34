/**
 * What a job's requests are: one BatchEntry per request, keyed `item3` (item 3's request) or
 * `item3-2` (its second image), and the BatchManifest that Submit Only outputs and Batch Results
 * reads back.
 */
import type { IDataObject, INodeExecutionData, IPairedItemData } from 'n8n-workflow';

import { estimateCostUsd, findModel } from '../catalogue';
import { defaultFileBase } from '../pipeline/output';
import { readOutputSettings } from '../pipeline/settings';
import type { OutputSettings } from '../pipeline/settings';
import type { BatchStatus } from '../transport';
import { stateName } from './poll';

export const BATCH_MANIFEST_VERSION = 1;

/**
 * One request of a job, as Submit Only hands it to Collect: enough to write its output like
 * realtime.
 */
export interface BatchEntry {
	key: string;
	/** The input items the request was made from. */
	items: number[];
	model: string;
	imageSize?: string;
	asked: IDataObject;
	fileBase: string;
	imageIndex: number;
	several: boolean;
	output: OutputSettings;
	includeThoughts?: boolean;
	outputThoughtImages?: boolean;
}

/** What Submit Only outputs (as `batch`) and Collect reads back. */
export interface BatchManifest {
	version: number;
	job: string;
	node: string;
	model: string;
	input: 'inline' | 'file';
	submittedAt: string;
	requests: BatchEntry[];
}

export function keyOf(items: number[], image: number, count: number): string {
	return `item${items[0]}${count > 1 ? `-${image + 1}` : ''}`;
}

export function pairedItemOf(items: number[]): IPairedItemData | IPairedItemData[] {
	return items.length > 1 ? items.map((item) => ({ item })) : { item: items[0] };
}

/**
 * What Collect knows of a job given only its name: the requests are the results' keys, written
 * with the default output settings. `item3-2` is item 3's second image.
 */
export function entriesFromKeys(keys: string[], model: string): BatchEntry[] {
	const parsed = keys.map((key, n) => {
		const match = /^item(\d+)(?:-(\d+))?$/.exec(key);
		return {
			key,
			item: match ? Number(match[1]) : n,
			image: match?.[2] ? Number(match[2]) - 1 : 0,
		};
	});
	return parsed.map(({ key, item, image }) => ({
		key,
		items: [item],
		model,
		asked: {},
		fileBase: defaultFileBase(model || 'gemini', item),
		imageIndex: image,
		several: parsed.some((p) => p.item === item && p.key !== key),
		output: readOutputSettings({}),
	}));
}

/** The manifest of a job known by its name only: its requests are read from its results. */
export function manifestOfStatus(status: BatchStatus): BatchManifest {
	return {
		version: BATCH_MANIFEST_VERSION,
		job: status.name,
		node: '',
		model: status.model ?? '',
		input: status.responsesFile ? 'file' : 'inline',
		submittedAt: '',
		requests: [],
	};
}

/** Submit Only's one output item: the job, its estimated cost, and the manifest for Collect. */
export function submittedItem(manifest: BatchManifest, status: BatchStatus): INodeExecutionData {
	const items = [...new Set(manifest.requests.flatMap((r) => r.items))].sort((a, b) => a - b);
	const cost = manifest.requests.reduce<number | null>((sum, r) => {
		const each = estimateCostUsd(findModel(r.model), r.imageSize, 1, true);
		return sum === null || each === undefined ? null : sum + each;
	}, 0);
	return {
		json: {
			batchJob: status.name,
			state: stateName(status.state),
			model: manifest.model,
			requestCount: manifest.requests.length,
			input: manifest.input,
			submittedAt: manifest.submittedAt,
			estimatedCostUsd: cost === null ? null : Math.round(cost * 1e6) / 1e6,
			batch: manifest as unknown as IDataObject,
		},
		pairedItem: items.map((item) => ({ item })),
	};
}

/** Output of several runs (bad items before a job, results after), in input order. */
export function inItemOrder(...runs: INodeExecutionData[][]): INodeExecutionData[] {
	const first = (item: INodeExecutionData) => {
		const paired = item.pairedItem;
		const one = Array.isArray(paired) ? paired[0] : paired;
		return typeof one === 'object' ? one.item : Number(one ?? 0);
	};
	return runs
		.flat()
		.map((item, n) => ({ item, n }))
		.sort((a, b) => first(a.item) - first(b.item) || a.n - b.n)
		.map(({ item }) => item);
}
