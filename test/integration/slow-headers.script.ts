/**
 * Run by generate-failures.test.ts in a plain Node process. Sets the header timeout of Node's
 * fetch (undici's global dispatcher) to HEADERS_TIMEOUT_MS, then calls a slow simulator once with
 * a plain fetch and once through the node's Gemini client, and prints what happened as one JSON
 * line.
 */
import { Agent, setGlobalDispatcher } from 'undici';

import { GeminiClient } from '../../nodes/shared/transport';

async function main() {
	const timeout = Number(process.env.HEADERS_TIMEOUT_MS);
	setGlobalDispatcher(new Agent({ headersTimeout: timeout, bodyTimeout: timeout }));
	const url = process.env.SIM_URL!;
	const apiKey = process.env.SIM_KEY!;
	const body = { contents: [{ role: 'user', parts: [{ text: 'a slow 4K poster' }] }] };

	const plainFetch = await fetch(`${url}/v1beta/models/gemini-3.1-flash-image:generateContent`, {
		method: 'POST',
		headers: { 'x-goog-api-key': apiKey, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	}).then(
		(response) => `status ${response.status}`,
		(error: { cause?: { code?: string } }) => error.cause?.code ?? String(error),
	);

	const started = Date.now();
	const client = await new GeminiClient({ apiKey, host: url })
		.generate(
			{
				model: 'gemini-3.1-flash-image',
				contents: body.contents,
				generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
			},
			{ retry: { maxAttempts: 1, maxTotalWaitMs: 0 }, timeoutMs: 0 },
		)
		.then(
			(result) => ({ ok: true, images: result.images.length }),
			(error: Error) => ({ ok: false, error: error.message }),
		);
	console.log(JSON.stringify({ plainFetch, client, clientMs: Date.now() - started }));
}

void main();
