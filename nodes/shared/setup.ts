/**
 * What the items of Generate, Edit and Fuse share, read once before the item loop: the client made
 * from the credential, the request settings of item 0, the spend guards (the node's Max Spend per
 * Execution, the credential's Daily Budget) and Realtime or Batch. The node runs it
 * through the runner's `withSetup`, so a failure here is every item's error.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { isBatchMode } from './batch';
import { clientAndBudgetFor, readUsd } from './credentials';
import { autoConcurrencyUnlessSet, readRequestSettings } from './settings';
import { SpendGuard } from './transport';

export async function imageNodeSetup(ctx: IExecuteFunctions) {
	const { client, budget } = await clientAndBudgetFor(ctx);
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const { concurrency, call } = readRequestSettings(options, autoConcurrencyUnlessSet(ctx));
	// One cap for the execution: read from the first item, like Max Concurrent Requests.
	const capUsd = readUsd(
		options.maxSpendUsd,
		'Max Spend per Execution (USD)',
		"the node's options",
	);
	const spend = new SpendGuard({ capUsd, budget });
	return { client, concurrency, call, spend, batch: isBatchMode(ctx) };
}

export type ImageNodeSetup = Awaited<ReturnType<typeof imageNodeSetup>>;
