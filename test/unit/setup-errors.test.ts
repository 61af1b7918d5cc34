/**
 * Setup mistakes (the credential's Host, the key) are named as such before or instead of a
 * network error: not retried, and the message says which field to fix.
 */
import { NanoBananaApi } from '../../credentials/NanoBananaApi.credentials';
import { classifyError, hostProblem } from '../../nodes/shared/transport';

const fetchError = (message: string, cause?: string) =>
	Object.assign(new TypeError(message), cause ? { cause: new Error(cause) } : {});

describe('the Host field', () => {
	it.each([
		['https://generativelanguage.googleapis.com', undefined],
		['https://generativelanguage.googleapis.com/', undefined],
		['http://127.0.0.1:8787', undefined],
		['https://gateway.example.com/v1/acct/gw/google-ai-studio', /without the API path/],
		[
			'https://generativelanguage.googleapis.com/v1beta',
			/use https:\/\/generativelanguage\.googleapis\.com instead/,
		],
		[
			'https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-image:generateContent',
			/without the API path/,
		],
		['https://proxy.example.com?key=abc', /must not have a query/],
		['https://user:secret@proxy.example.com', /must not contain a user name or password/],
		['ftp://proxy.example.com', /must start with https:\/\/ \(it starts with ftp:\/\/\)/],
		['generativelanguage.googleapis.com', /is not a URL/],
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

	it('for a model says to pick another model', () => {
		const failure = classifyError(
			apiError(
				404,
				JSON.stringify({
					error: {
						code: 404,
						status: 'NOT_FOUND',
						message:
							'models/gemini-9-image is not found for API version v1beta, or is not supported for generateContent.',
					},
				}),
			),
		);
		expect(failure.message).toMatch(/^The model was not found/);
	});

	it('from something that is not the Gemini API says to check the Host field', () => {
		for (const body of [
			'{"error":{"code":404,"message":"Method not found.","status":"NOT_FOUND"}}',
			'<html><title>404 Not Found</title></html>',
		]) {
			const failure = classifyError(apiError(404, body));
			expect(failure.message).toMatch(/^No Gemini API at the credential's Host \(404\)/);
			expect(failure.description).toMatch(/Check the Host field/);
			expect(failure.retryable).toBe(false);
		}
	});
});
