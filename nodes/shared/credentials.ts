import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { CREDENTIAL_NAME } from './descriptions';
import { GeminiClient } from './transport';

/** A client for this execution only, from the node's credential; never cached across executions. */
export async function geminiClientFor(ctx: IExecuteFunctions | ILoadOptionsFunctions): Promise<GeminiClient> {
	const credentials = await ctx.getCredentials(CREDENTIAL_NAME);
	return new GeminiClient({ apiKey: String(credentials.apiKey ?? ''), host: String(credentials.host ?? '') });
}
