/**
 * What the items of Generate, Edit and Fuse share, read once before the item loop: the client made
 * from the credential, the request settings of item 0, the spend guards (the node's Max Spend per
 * Execution, the credential's Daily Budget) and Realtime or Batch. The node runs it
 * through the runner's `withSetup`, so a failure here is every item's error.
 */
import { randomUUID } from 'crypto';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { isBatchMode } from '../batch';
import { clientAndBudgetFor, readUsd } from '../pipeline/credentials';
import { autoConcurrencyUnlessSet, readRequestSettings } from '../pipeline/settings';
import { SpendGuard } from '../transport';
import type { SpendLimit } from '../transport';

/**
 * Max Spend per Execution, read from the first item like Max Concurrent Requests, and counted for
 * this node over the whole workflow execution: every run of the node in it (a loop) adds up.
 */
function executionCap(ctx: IExecuteFunctions, options: IDataObject): SpendLimit | undefined {
	const usd = readUsd(options.maxSpendUsd, 'Max Spend per Execution (USD)', "the node's options");
	if (usd === undefined) return undefined;
	const execution = ctx.getExecutionId?.() ?? randomUUID();
	return { usd, identity: JSON.stringify(['execution spend', execution, ctx.getNode().id]) };
}

export async function imageNodeSetup(ctx: IExecuteFunctions) {
	const { client, budget } = await clientAndBudgetFor(ctx);
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(options, autoConcurrencyUnlessSet(ctx));
	const spend = new SpendGuard({ cap: executionCap(ctx, options), budget });
	return { client, concurrency, call, spend, batch: isBatchMode(ctx) };
}

export type ImageNodeSetup = Awaited<ReturnType<typeof imageNodeSetup>>;
