import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { CREDENTIAL_NAME } from './descriptions';
import { GeminiClient, hostProblem } from './transport';

/** A client for this execution only, from the node's credential; never cached across executions. */
export async function geminiClientFor(ctx: IExecuteFunctions | ILoadOptionsFunctions): Promise<GeminiClient> {
	const credentials = await ctx.getCredentials(CREDENTIAL_NAME);
	const host = String(credentials.host ?? '').trim();
	const problem = host ? hostProblem(host) : undefined;
	if (problem) {
		throw new NodeOperationError(ctx.getNode(), `The credential's Host is not usable: ${problem}`, {
			description: 'Open the Nano Banana credential and correct the Host field. Nothing was sent to Google.',
		});
	}
	return new GeminiClient({ apiKey: String(credentials.apiKey ?? ''), host });
}
