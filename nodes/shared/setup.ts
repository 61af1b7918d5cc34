/**
 * What the items of Generate, Edit and Fuse share, read once before the item loop: the client made
 * from the credential, the request settings of item 0 and Realtime or Batch. The node runs it
 * through the runner's `withSetup`, so a failure here is every item's error.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { isBatchMode } from './batch';
import { geminiClientFor } from './credentials';
import { autoConcurrencyUnlessSet, readRequestSettings } from './settings';

export async function imageNodeSetup(ctx: IExecuteFunctions) {
	const client = await geminiClientFor(ctx);
	const { concurrency, call } = readRequestSettings(
		ctx.getNodeParameter('options', 0, {}) as IDataObject,
		autoConcurrencyUnlessSet(ctx),
	);
	return { client, concurrency, call, batch: isBatchMode(ctx) };
}

export type ImageNodeSetup = Awaited<ReturnType<typeof imageNodeSetup>>;
