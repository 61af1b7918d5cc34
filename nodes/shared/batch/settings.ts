/** Whether a node runs in batch mode, whether its credential can, and the Batch Options. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { normaliseModelId } from '../catalogue';
import { OPTION_DEFAULTS } from '../constants';
import { GeminiFailure } from '../transport';
import type { GeminiClient } from '../transport';

const MB = 1024 * 1024;

/** Why this client cannot use the Batch API, or undefined when it can (Gemini API keys can). */
export function batchUnavailableReason(client: GeminiClient): string | undefined {
	// Vertex AI batches are batch prediction jobs reading Cloud Storage or BigQuery, not inline
	// requests or uploaded files.
	if (client.isVertex)
		return 'Batch mode needs a Gemini API key credential: Vertex AI runs batches only from Cloud Storage or BigQuery';
	return undefined;
}

export interface BatchSettings {
	submitOnly: boolean;
	maxWaitMs: number;
	firstPollMs: number;
	cancelOnStop: boolean;
	inlineLimitBytes: number;
}

export function readBatchSettings(ctx: IExecuteFunctions): BatchSettings {
	const options = ctx.getNodeParameter('batchOptions', 0, {}) as IDataObject;
	return {
		submitOnly: ctx.getNodeParameter('batchResults', 0, 'wait') === 'submit',
		maxWaitMs: Number(options.maxWaitMinutes ?? OPTION_DEFAULTS.maxWaitMinutes) * 60_000,
		firstPollMs: Number(options.pollIntervalSeconds ?? OPTION_DEFAULTS.pollIntervalSeconds) * 1000,
		cancelOnStop: options.cancelJobOnStop !== false,
		inlineLimitBytes: Number(options.inlineBatchLimitMb ?? OPTION_DEFAULTS.inlineBatchLimitMb) * MB,
	};
}

export function isBatchMode(ctx: IExecuteFunctions): boolean {
	return ctx.getNodeParameter('executionMode', 0, 'realtime') === 'batch';
}

export interface BatchSetup {
	settings: BatchSettings;
	/** The model of the job, which every item must ask for. */
	jobModel: string;
}

/** Throws when this client cannot use the Batch API; `cure` tells the user what to change. */
export function checkBatchAvailable(client: GeminiClient, cure: string): void {
	const unavailable = batchUnavailableReason(client);
	if (unavailable)
		throw new GeminiFailure({
			kind: 'setup',
			message: unavailable,
			description: cure,
			reason: 'SETUP',
			retryable: false,
		});
}

/** What the job needs before any item is read: a failure here is every item's. */
export function batchSetup(ctx: IExecuteFunctions, client: GeminiClient): BatchSetup {
	checkBatchAvailable(
		client,
		'Set Execution Mode to Realtime, or use a Gemini API key credential.',
	);
	const model = String(ctx.getNodeParameter('model', 0, '', { extractValue: true }));
	return { settings: readBatchSettings(ctx), jobModel: normaliseModelId(model) };
}
