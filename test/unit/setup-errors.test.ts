/**
 * Setup mistakes (the credential's Host, the key) are named as such before or instead of a
 * network error: not retried, and the message says which field to fix.
 */
import type { ICredentialTestFunctions, ICredentialsDecrypted } from 'n8n-workflow';

import { NanoBananaApi } from '../../credentials/NanoBananaApi.credentials';
import { connectionFor } from '../../nodes/shared/pipeline/credentials';
import { nanoBananaCredentialTest } from '../../nodes/shared/skeleton/methods/credentialTest';
import { classifyError, hostProblem, modelNotFound } from '../../nodes/shared/transport';
import { vertexFailure } from '../../nodes/shared/transport/failure';

const fetchError = (message: string, cause?: string) =>
	Object.assign(new TypeError(message), cause ? { cause: new Error(cause) } : {});

describe('the Host field', () => {
	it.each([
		['https://generativelanguage.googleapis.com', undefined],
		['https://generativelanguage.googleapis.com/', undefined],
		['http://127.0.0.1:8787', undefined],
		['https://gateway.example.com/v1/acct/gw/google-ai-studio', /without the API path/],
		['https://generativelanguage.googleapis.com/v1beta', /end it before "\/v1beta"\.$/],
		['https://gw.example.com/acct/gemini/v1beta/models', /end it before "\/v1beta\/"\.$/],
		['https://gw.example.com/@team/gemini', /must not contain a user name or password/],
		[
			'https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-image:generateContent',
			/without the API path/,
		],
		['https://proxy.example.com?key=abc', /must not have a query/],
		['https://user:secret@proxy.example.com', /must not contain a user name or password/],
		['ftp://proxy.example.com', /must start with https:\/\/ \(it starts with ftp:\/\/\)/],
		['generativelanguage.googleapis.com', /must start with https:\/\/ \(for example/],
		['https://gemini proxy.example.com', /server name or port of Host cannot be read/],
		['https://proxy.example.com:99999', /server name or port of Host cannot be read/],
		['https://proxy.example.com#models', /must not have a query/],
	])('%s', (host, problem) => {
		const found = hostProblem(host);
		if (problem === undefined) expect(found).toBeUndefined();
		else expect(found).toMatch(problem);
	});

	it('the credential warns about plain http to another machine, not to this one', () => {
		const notice = new NanoBananaApi().properties.find((p) => p.name === 'insecureHostNotice')!;
		const condition = (notice.displayOptions!.show!.host as Array<{ _cnd: { regex: string } }>)[0]
			._cnd.regex;
		const warns = (host: string) => new RegExp(condition).test(host);
		expect(
			['http://proxy.internal:8080', 'http://10.0.0.5', 'http://localhost.evil.com'].every(warns),
		).toBe(true);
		expect(
			[
				'https://proxy.example.com',
				'http://localhost:8787',
				'http://127.0.0.1',
				'http://[::1]:80/',
			].some(warns),
		).toBe(false);
	});
});

describe('a Host with a password in it', () => {
	// Each password has '#', '@', '%' or a space, which move the rest of the URL into another part
	// (or make it unreadable); none of its pieces may be repeated.
	const passwords = ['Pw#7kQz', 'a@b@cQz', '9%zzQz', 'two wordsQz', 'x/y?z#w@vQz', '#lead'];
	const hosts = (password: string) => [
		`http://proxy-user:${password}@127.0.0.1:8080`,
		`https://proxy-user:${password}@gateway.example.com/v1beta/`,
		`proxy-user:${password}@gateway.example.com`,
	];
	const pieces = (password: string) =>
		password.split(/[#@%/? ]/).filter((piece) => piece.length >= 2);

	const cases = passwords.flatMap((password) =>
		hosts(password).map((host) => ({ password, host })),
	);

	it.each(cases)('$host: the node names the part, never the value', ({ password, host }) => {
		let thrown: (Error & { description?: string }) | undefined;
		try {
			connectionFor({ apiKey: 'k', host });
		} catch (error) {
			thrown = error as Error & { description?: string };
		}
		expect(thrown?.message).toMatch(
			/^The credential's Host is not usable: Host must (not contain a user name or password|start with https)/,
		);
		const said = `${thrown?.message} ${thrown?.description}`;
		for (const piece of [...pieces(password), 'proxy-user']) expect(said).not.toContain(piece);
	});

	it.each(cases)('$host: the Test button says the same', async ({ password, host }) => {
		const credential = { data: { apiKey: 'k', host } } as unknown as ICredentialsDecrypted;
		const result = await nanoBananaCredentialTest.call({} as ICredentialTestFunctions, credential);
		let thrown: (Error & { description?: string }) | undefined;
		try {
			connectionFor({ apiKey: 'k', host });
		} catch (error) {
			thrown = error as Error & { description?: string };
		}
		expect(result).toEqual({
			status: 'Error',
			message: `${thrown?.message} ${thrown?.description}`,
		});
		for (const piece of [...pieces(password), 'proxy-user'])
			expect(result.message).not.toContain(piece);
	});

	it('the Vertex AI Host is checked the same way', () => {
		expect(() =>
			connectionFor({
				authentication: 'vertexExpress',
				apiKey: 'k',
				vertexHost: 'https://u:Pw#7kQz@proxy.example.com',
			}),
		).toThrow(/^The credential's Host is not usable: Host must not contain a user name/);
	});
});

describe('what fetch refuses before sending', () => {
	it.each([
		[fetchError('Invalid URL'), /Host is not a valid URL/],
		[
			fetchError(
				'Request cannot be constructed from a URL that includes credentials: http://user:pw@host/v1beta',
			),
			/Host contains a user name or password/,
		],
		[fetchError('fetch failed', 'bad port'), /port that fetch refuses/],
		[
			fetchError(
				'Cannot convert argument to a ByteString because the character at index 3 has a value of 8232 which is greater than 255.',
			),
			/API key contains a character/,
		],
	])('%s', (error, message) => {
		const failure = classifyError(error);
		expect(failure.kind).toBe('setup');
		expect(failure.retryable).toBe(false);
		expect(failure.message).toMatch(message);
		expect(failure.description).toMatch(/Open the Nano Banana credential/);
		// fetch's own words can hold the URL's password: they are not repeated.
		expect(`${failure.message} ${failure.description}`).not.toContain('pw@');
	});

	it('a refused connection is still a network error, retried', () => {
		const failure = classifyError(fetchError('fetch failed', 'connect ECONNREFUSED 127.0.0.1:1'));
		expect(failure.kind).toBe('network');
		expect(failure.retryable).toBe(true);
	});
});

describe('a 404', () => {
	const apiError = (status: number, body: string) =>
		Object.assign(new Error(body), { name: 'ApiError', status });
	/** What the SDK makes of a body that is not JSON: the text, the code and the status text. */
	const wrappedText = (text: string, statusText = 'Not Found') =>
		apiError(404, JSON.stringify({ error: { message: text, code: 404, status: statusText } }));
	const MODEL = 'gemini-9-image';
	const googleModel404 = JSON.stringify({
		error: {
			code: 404,
			status: 'NOT_FOUND',
			message: `models/${MODEL} is not found for API version v1beta, or is not supported for generateContent.`,
		},
	});

	it("Google's NOT_FOUND for a call about a model is that model's 404, worded by modelNotFound", () => {
		const failure = classifyError(apiError(404, googleModel404), undefined, MODEL);
		expect(modelNotFound(MODEL).message).toBe(`The model ${MODEL} was not found`);
		expect(failure.message).toBe(
			`The model ${MODEL} was not found: models/${MODEL} is not found for API version v1beta, or is not supported for generateContent.`,
		);
		expect(failure.description).toBe(modelNotFound(MODEL).description);
		expect(failure.reason).toBe('NOT_FOUND');
		expect(failure.retryable).toBe(false);
	});

	it("Google's NOT_FOUND for something else (a batch job, a file) is not called a model's", () => {
		const failure = classifyError(
			apiError(
				404,
				'{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}',
			),
		);
		expect(failure.message).toBe('Not found on the Gemini API: Requested entity was not found.');
		expect(failure.reason).toBe('NOT_FOUND');
	});

	it.each([
		[
			"Google's front end for a path that is not its API",
			'{"error":{"code":404,"message":"Method not found.","status":"NOT_FOUND"}}',
			'with no Gemini API error',
		],
		[
			'a page with a title',
			JSON.stringify({
				error: {
					message: '<html><title>404 Not Found</title></html>',
					code: 404,
					status: 'Not Found',
				},
			}),
			'with an HTML page',
		],
		// Express: its only title is "Error", which used to end the message as ": Error".
		[
			"Express's default page",
			JSON.stringify({
				error: {
					message: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><pre>Cannot POST /v1beta/models/${MODEL}:generateContent</pre></body></html>`,
					code: 404,
					status: 'Not Found',
				},
			}),
			'with an HTML page',
		],
		// Apache's has no title, and quotes the path: the model id, then "was not found".
		[
			"Apache's default page, quoting the model's path",
			JSON.stringify({
				error: {
					message: `<html><body><h1>Not Found</h1><p>The requested URL /v1beta/models/${MODEL}:generateContent was not found on this server.</p></body></html>`,
					code: 404,
					status: 'Not Found',
				},
			}),
			'with an HTML page',
		],
		// Over HTTP/2 there is no status text.
		[
			'plain text over HTTP/2',
			JSON.stringify({ error: { message: `models/${MODEL} is not found`, code: 404, status: '' } }),
			'with no Gemini API error',
		],
		[
			'JSON of another shape',
			'{"error":"Not Found","path":"/v1beta/models/gemini-9-image:generateContent"}',
			'with no Gemini API error',
		],
		[
			'JSON with the status but no code',
			'{"error":{"message":"model not found","status":"NOT_FOUND"}}',
			'with no Gemini API error',
		],
	])('from %s says there is no Gemini API at the Host, and nothing after', (_name, body, how) => {
		const failure = classifyError(apiError(404, body), undefined, MODEL);
		expect(failure.message).toBe(`No Gemini API at the credential's Host: it answered 404 ${how}`);
		expect(failure.description).toMatch(/Check the Host field of the Nano Banana credential/);
		expect(failure.reason).toBe('NO_API_AT_HOST');
		expect(failure.retryable).toBe(false);
	});

	it("the status text, not the words, tells a wrapped text body from Google's JSON", () => {
		const text = `models/${MODEL} is not found for API version v1beta`;
		expect(classifyError(wrappedText(text), undefined, MODEL).reason).toBe('NO_API_AT_HOST');
		expect(
			classifyError(
				apiError(404, JSON.stringify({ error: { code: 404, status: 'NOT_FOUND', message: text } })),
				undefined,
				MODEL,
			).message,
		).toMatch(/^The model gemini-9-image was not found/);
	});

	it("a web server's 405 page (nginx to a POST) is no Gemini API either", () => {
		const page = '<html><head><title>405 Not Allowed</title></head><body>nginx</body></html>';
		const failure = classifyError(
			apiError(405, JSON.stringify({ error: { message: page, code: 405, status: 'Not Allowed' } })),
		);
		expect(failure.message).toBe(
			"No Gemini API at the credential's Host: it answered 405 with an HTML page",
		);
		expect(failure.retryable).toBe(false);
	});

	it('a page titled only "Error" or the status text adds nothing after the message', () => {
		const page = (title: string) =>
			JSON.stringify({
				error: {
					message: `<html><title>${title}</title></html>`,
					code: 500,
					status: 'Internal Server Error',
				},
			});
		expect(classifyError(apiError(500, page('Error'))).message).toBe(
			'The Gemini API failed with HTTP 500',
		);
		expect(classifyError(apiError(500, page('Internal Server Error'))).message).toBe(
			'The Gemini API failed with HTTP 500',
		);
		expect(classifyError(apiError(500, page('Our wiki is down'))).message).toBe(
			'The Gemini API failed with HTTP 500: Our wiki is down',
		);
	});

	it('on Vertex AI, another server says there is no Vertex AI API at the Host', () => {
		const failure = vertexFailure(
			classifyError(wrappedText('<h1>Not Found</h1>'), undefined, MODEL),
			{
				project: 'p',
				location: 'us-central1',
				express: false,
			},
		);
		expect(failure.message).toBe(
			"No Vertex AI API at the credential's Host: it answered 404 with an HTML page",
		);
		expect(failure.description).toMatch(/leave it empty for Google's host/);
	});
});
