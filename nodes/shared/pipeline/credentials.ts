import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
} from 'n8n-workflow';

import { CREDENTIAL_NAME } from '../descriptions';
import { GeminiClient, GeminiFailure, hostProblem, parseServiceAccountKey } from '../transport';
import type { GeminiConnection, SpendLimit } from '../transport';

export type AuthenticationType = 'apiKey' | 'vertexServiceAccount' | 'vertexExpress';

/**
 * Credentials saved before Vertex AI came have no `authentication`: they are API-key credentials.
 */
export function authenticationOf(credentials: ICredentialDataDecryptedObject): AuthenticationType {
	const value = String(credentials.authentication ?? 'apiKey');
	return value === 'vertexServiceAccount' || value === 'vertexExpress' ? value : 'apiKey';
}

/**
 * The connection a credential describes. Mistakes that can be seen without a request (Host, JSON
 * key) are GeminiFailures of kind `setup` naming the field; nothing is sent.
 */
export function connectionFor(credentials: ICredentialDataDecryptedObject): GeminiConnection {
	const authentication = authenticationOf(credentials);
	const vertex = authentication !== 'apiKey';
	const host = String((vertex ? credentials.vertexHost : credentials.host) ?? '').trim();
	const problem = host ? hostProblem(host) : undefined;
	if (problem) {
		throw new GeminiFailure({
			kind: 'setup',
			message: `The credential's Host is not usable: ${problem}`,
			description:
				'Open the Nano Banana credential and correct the Host field. Nothing was sent to Google.',
			reason: 'SETUP',
			retryable: false,
		});
	}
	const apiKey = String(credentials.apiKey ?? '');
	if (authentication === 'apiKey') return { apiKey, host };
	if (authentication === 'vertexExpress') return { apiKey, host, vertex: {} };
	const location = String(credentials.location ?? '').trim() || 'global';
	// The location is part of the host name: anything but a region id would send the token elsewhere.
	if (!/^[a-z0-9-]+$/.test(location)) {
		throw new GeminiFailure({
			kind: 'setup',
			message: `The credential's Location "${location}" is not a Google Cloud location`,
			description:
				'Open the Nano Banana credential and set Location to "global" or a region id in lower case, such as us-central1. Nothing was sent to Google.',
			reason: 'SETUP',
			retryable: false,
		});
	}
	return {
		apiKey: '',
		host,
		vertex: {
			serviceAccount: parseServiceAccountKey(String(credentials.privateKeyJson ?? '')),
			project: String(credentials.project ?? '').trim() || undefined,
			location,
		},
	};
}

/**
 * A client for this execution only, from the node's credential; never cached across executions. A
 * credential that cannot make one throws a GeminiFailure of kind `setup`, which the runner makes
 * every item's error.
 */
export async function geminiClientFor(
	ctx: IExecuteFunctions | ILoadOptionsFunctions,
): Promise<GeminiClient> {
	return new GeminiClient(connectionFor(await ctx.getCredentials(CREDENTIAL_NAME)));
}

/**
 * A spend limit in USD that may be left empty: undefined when empty; a setup failure naming `field`
 * when it is not an amount.
 */
export function readUsd(value: unknown, field: string, where: string): number | undefined {
	if (value === undefined || value === null || String(value).trim() === '') return undefined;
	const amount = Number(value);
	if (Number.isFinite(amount) && amount >= 0) return amount;
	throw new GeminiFailure({
		kind: 'setup',
		message: `${field} "${String(value)}" is not an amount in USD`,
		description: `Set ${field} in ${where} to an amount such as 5 or 0.50, or leave it empty for no limit. Nothing was sent to Google.`,
		reason: 'SETUP',
		retryable: false,
	});
}

/**
 * The credential's Daily Budget, counted per n8n credential (its id, the same on every worker);
 * where n8n gives no id, per key or service account. The identity is only hashed (see quota.ts).
 */
function dailyBudgetOf(
	ctx: IExecuteFunctions,
	credentials: ICredentialDataDecryptedObject,
	connection: GeminiConnection,
): SpendLimit | undefined {
	const usd = readUsd(
		credentials.dailyBudgetUsd,
		'Daily Budget (USD)',
		'the Nano Banana credential',
	);
	if (usd === undefined) return undefined;
	const id = ctx.getNode().credentials?.[CREDENTIAL_NAME]?.id;
	const account = connection.vertex?.serviceAccount;
	const who = id
		? `credential:${id}`
		: account
			? `serviceAccount:${account.clientEmail}`
			: `key:${connection.apiKey}`;
	return { usd, identity: JSON.stringify(['daily budget', who]) };
}

/** The execution's client and the credential's Daily Budget, from one read of the credential. */
export async function clientAndBudgetFor(
	ctx: IExecuteFunctions,
): Promise<{ client: GeminiClient; budget?: SpendLimit }> {
	const credentials = await ctx.getCredentials(CREDENTIAL_NAME);
	const connection = connectionFor(credentials);
	return {
		client: new GeminiClient(connection),
		budget: dailyBudgetOf(ctx, credentials, connection),
	};
}
