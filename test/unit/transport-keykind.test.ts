/**
 * A key refused for being of the other kind (a Gemini API key on Vertex AI express, an express key
 * on the Gemini API) is told as such, with the Authentication that takes it.
 */
import { GeminiFailure } from '../../nodes/shared/transport';
import { withKeyKind } from '../../nodes/shared/transport/keyKind';

const refused = (reason: string, httpCode: number, google: string) =>
	new GeminiFailure({
		kind: 'http',
		message: `The Gemini API refused access: ${google}`,
		description: 'generic',
		httpCode,
		reason,
		retryable: false,
	});
const BLOCKED_GEMINI =
	'Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent are blocked.';

describe('withKeyKind', () => {
	it('tells an express key refused by the Gemini API, whether as invalid or blocked', () => {
		for (const failure of [
			refused('API_KEY_INVALID', 400, 'API key not valid. Please pass a valid API key.'),
			refused('API_KEY_SERVICE_BLOCKED', 403, BLOCKED_GEMINI),
		]) {
			const told = withKeyKind(failure, { apiKey: 'AQ.Ab8R-x', vertex: false, express: false });
			expect(told.message).toMatch(
				/^The key is a Vertex AI express key, which the Gemini API does not take: /,
			);
			expect(told.description).toMatch(/^Set Authentication to "Vertex AI Express \(API Key\)"/);
			expect(told.httpCode).toBe(failure.httpCode);
		}
	});

	it('tells a Gemini API key whose restrictions leave the API out, without calling it an express key', () => {
		const told = withKeyKind(refused('API_KEY_SERVICE_BLOCKED', 403, BLOCKED_GEMINI), {
			apiKey: 'AIzaSy-x',
			vertex: false,
			express: false,
		});
		expect(told.message).toBe(`The API key may not call the Gemini API: ${BLOCKED_GEMINI}`);
		expect(told.description).toMatch(/API restrictions leave out the Generative Language API/);
	});

	it('in express mode: a Gemini API key is sent to the Gemini API Key authentication, a restricted express key to its restrictions', () => {
		const blocked = refused('API_KEY_SERVICE_BLOCKED', 403, 'Requests to this API are blocked.');
		expect(
			withKeyKind(blocked, { apiKey: 'AIzaSy-x', vertex: true, express: true }).description,
		).toMatch(/works only with the Gemini API: set Authentication to "Gemini API Key"/);
		expect(
			withKeyKind(blocked, { apiKey: 'AQ.Ab8R-x', vertex: true, express: true }).description,
		).toMatch(/leave out the Vertex AI API/);
	});

	it('leaves every other failure as it is', () => {
		const invalid = refused('API_KEY_INVALID', 400, 'API key not valid.');
		expect(withKeyKind(invalid, { apiKey: 'AIzaSy-x', vertex: false, express: false })).toBe(
			invalid,
		);
		const denied = refused('IAM_PERMISSION_DENIED', 403, 'Permission denied.');
		expect(withKeyKind(denied, { apiKey: '', vertex: true, express: false })).toBe(denied);
	});
});
