import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { DEFAULT_MODEL } from '../../catalogue';
import { authenticationOf, connectionFor } from '../../pipeline/credentials';
import { GeminiClient, GeminiFailure } from '../../transport';

const TEST_TIMEOUT_MS = 30_000;

function failed(error: unknown): INodeCredentialTestResult {
	if (error instanceof GeminiFailure) {
		const stop = /[.!?]$/.test(error.message) ? '' : '.';
		return { status: 'Error', message: `${error.message}${stop} ${error.description}` };
	}
	return {
		status: 'Error',
		message: `The test failed: ${(error as Error)?.message ?? String(error)}`,
	};
}

/**
 * The credential's Test button, for every authentication type (nodes point at it with
 * `testedBy`): the Gemini API lists one model; Vertex AI mints the token and counts tokens
 * with the default model in the project and location, which is free.
 */
export async function nanoBananaCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = credential.data ?? {};
	let client: GeminiClient;
	try {
		client = new GeminiClient(connectionFor(data));
	} catch (error) {
		return failed(error);
	}
	try {
		await client.testConnection(DEFAULT_MODEL, AbortSignal.timeout(TEST_TIMEOUT_MS));
	} catch (error) {
		return failed(error);
	}
	switch (authenticationOf(data)) {
		case 'vertexServiceAccount':
			return {
				status: 'OK',
				message: `Connected to Vertex AI: project ${client.project}, location ${client.location}, as ${client.tokens?.key.clientEmail}`,
			};
		case 'vertexExpress':
			return { status: 'OK', message: 'Connected to Vertex AI in express mode' };
		default:
			return { status: 'OK', message: 'Connected to the Gemini API' };
	}
}
