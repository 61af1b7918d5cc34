/**
 * Vertex AI on the simulator, through the SDK in Vertex mode and raw HTTP: the keys and tokens each
 * route takes, the token endpoint's audience check, models a location does not offer, and what a
 * Vertex answer carries that a Gemini API answer does not.
 */
import { createPrivateKey, sign } from 'node:crypto';

import { GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';

import { GeminiSim, SIM_PROJECT } from './index';
import { client, failure, readJson } from './testkit';

let sim: GeminiSim;

beforeAll(async () => {
	sim = await GeminiSim.start();
});
afterAll(async () => sim.stop());
beforeEach(() => sim.reset());

const MODEL = 'gemini-3.1-flash-image';
const contents = [{ role: 'user', parts: [{ text: 'a lemon' }] }];

function express(apiKey: string): GoogleGenAI {
	return new GoogleGenAI({
		vertexai: true,
		apiKey,
		httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta1' },
	});
}

/** A service-account client whose token the simulator issued, for `location`. */
function project(location = 'global'): GoogleGenAI {
	const auth = new OAuth2Client();
	auth.setCredentials({
		access_token: sim.vertex.issueToken('n8n@sim-project.iam.gserviceaccount.com'),
		expiry_date: Date.now() + 3_600_000,
	});
	return new GoogleGenAI({
		vertexai: true,
		project: SIM_PROJECT,
		location,
		googleAuthOptions: { authClient: auth },
		httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta1' },
	});
}

describe('keys: a Gemini API key and an express key refuse each other', () => {
	it('express mode takes its own key', async () => {
		const response = await express(sim.expressApiKey).models.generateContent({
			model: MODEL,
			contents,
		});
		expect(response.candidates?.[0]?.finishReason).toBe('STOP');
		expect(sim.expressApiKey).toMatch(/^AQ\./);
	});

	it('express mode blocks a Gemini API key (API_KEY_SERVICE_BLOCKED)', async () => {
		const error = await failure(
			express(sim.apiKey).models.generateContent({ model: MODEL, contents }),
		);
		expect(error.status).toBe(403);
		expect(error.body?.error).toMatchObject({
			status: 'PERMISSION_DENIED',
			message:
				'Requests to this API aiplatform.googleapis.com method google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent are blocked.',
			details: [
				{
					reason: 'API_KEY_SERVICE_BLOCKED',
					metadata: { service: 'aiplatform.googleapis.com' },
				},
			],
		});
		expect(error.message).not.toContain(sim.apiKey);
	});

	it('the Gemini API finds an express key not valid (API_KEY_INVALID), and express mode any other key', async () => {
		const gemini = await failure(
			client(sim, {}, sim.expressApiKey).models.generateContent({ model: MODEL, contents }),
		);
		expect(gemini.status).toBe(400);
		expect(gemini.body?.error.details?.[0]).toMatchObject({
			reason: 'API_KEY_INVALID',
			metadata: { service: 'generativelanguage.googleapis.com' },
		});
		const other = await failure(
			express('AQ.not-a-key').models.generateContent({ model: MODEL, contents }),
		);
		expect(other.status).toBe(400);
		expect(other.body?.error.details?.[0]).toMatchObject({
			reason: 'API_KEY_INVALID',
			metadata: { service: 'aiplatform.googleapis.com' },
		});
	});

	it('refuses any API key on a projects/ path: 401 CREDENTIALS_MISSING', async () => {
		const path = `/v1beta1/projects/${SIM_PROJECT}/locations/global/publishers/google/models/${MODEL}:generateContent`;
		for (const key of [sim.expressApiKey, sim.apiKey]) {
			const response = await fetch(`${sim.url}${path}`, {
				method: 'POST',
				headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
				body: JSON.stringify({ contents }),
			});
			expect(response.status).toBe(401);
			expect(await readJson(response)).toEqual({
				error: {
					code: 401,
					message:
						'API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal. See https://cloud.google.com/docs/authentication',
					status: 'UNAUTHENTICATED',
					details: [
						{
							'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
							reason: 'CREDENTIALS_MISSING',
							domain: 'googleapis.com',
							metadata: {
								method: 'google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent',
								service: 'aiplatform.googleapis.com',
							},
						},
					],
				},
			});
		}
		expect(sim.generateRequests.every((r) => r.status === 401)).toBe(true);
	});
});

describe('the token endpoint', () => {
	const assertion = (
		key: { private_key: string; private_key_id: string; client_email: string },
		aud: string,
	) => {
		const now = Math.floor(Date.now() / 1000);
		const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
		const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: key.private_key_id })}.${part({
			iss: key.client_email,
			scope: 'https://www.googleapis.com/auth/cloud-platform',
			aud,
			iat: now,
			exp: now + 3600,
		})}`;
		const signature = sign('RSA-SHA256', Buffer.from(unsigned), createPrivateKey(key.private_key));
		return `${unsigned}.${signature.toString('base64url')}`;
	};
	const exchange = async (jwt: string) => {
		const response = await fetch(`${sim.url}/token`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({
				grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
				assertion: jwt,
			}).toString(),
		});
		return { status: response.status, body: await readJson(response) };
	};

	it('issues a token for a JWT addressed to it, and refuses one for another audience with invalid_grant', async () => {
		const key = sim.vertex.createServiceAccountKey();
		const issued = await exchange(assertion(key, `${sim.url}/token`));
		expect(issued.status).toBe(200);
		expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });

		const elsewhere = await exchange(assertion(key, 'https://oauth2.googleapis.com/token'));
		expect(elsewhere).toEqual({
			status: 400,
			body: { error: 'invalid_grant', error_description: 'Invalid JWT: Failed audience check.' },
		});
		expect(sim.vertex.exchanges.map((e) => e.outcome)).toEqual(['issued', 'invalid_grant']);
	});
});

describe('models by location', () => {
	it('answers 404 for a model the location does not offer, and serves it elsewhere', async () => {
		sim.vertex.withholdModel('europe-west4', 'gemini-3-pro-image');
		const error = await failure(
			project('europe-west4').models.generateContent({ model: 'gemini-3-pro-image', contents }),
		);
		expect(error.status).toBe(404);
		expect(error.body?.error).toMatchObject({
			status: 'NOT_FOUND',
			message: expect.stringMatching(
				/^Publisher Model `projects\/sim-project\/locations\/europe-west4\/publishers\/google\/models\/gemini-3-pro-image` was not found or your project does not have access to it\./,
			),
		});
		const there = await project('global').models.generateContent({
			model: 'gemini-3-pro-image',
			contents,
		});
		expect(there.candidates?.[0]?.finishReason).toBe('STOP');
		const other = await project('europe-west4').models.generateContent({ model: MODEL, contents });
		expect(other.candidates?.[0]?.finishReason).toBe('STOP');
	});
});

describe('Vertex answers', () => {
	const post = async (path: string, headers: Record<string, string>) =>
		await fetch(`${sim.url}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify({ contents }),
		}).then((r) => r.text());

	it('carry createTime and usageMetadata.trafficType, which the Gemini API does not send', async () => {
		const token = sim.vertex.issueToken('n8n@sim-project.iam.gserviceaccount.com');
		const onProject = JSON.parse(
			await post(
				`/v1beta1/projects/${SIM_PROJECT}/locations/global/publishers/google/models/${MODEL}:generateContent`,
				{ authorization: `Bearer ${token}` },
			),
		);
		expect(onProject.usageMetadata.trafficType).toBe('ON_DEMAND');
		expect(Date.parse(onProject.createTime)).toBeGreaterThan(Date.now() - 60_000);

		const streamed = await post(
			`/v1beta1/publishers/google/models/${MODEL}:streamGenerateContent?alt=sse`,
			{ 'x-goog-api-key': sim.expressApiKey },
		);
		const events = streamed
			.split('\n')
			.filter((line) => line.startsWith('data: '))
			.map((line) => JSON.parse(line.slice(6)));
		expect(events.length).toBeGreaterThan(0);
		for (const event of events) {
			expect(event.createTime).toEqual(expect.any(String));
			expect(event.usageMetadata.trafficType).toBe('ON_DEMAND');
		}

		const gemini = JSON.parse(
			await post(`/v1beta/models/${MODEL}:generateContent`, { 'x-goog-api-key': sim.apiKey }),
		);
		expect(gemini.usageMetadata).toBeDefined();
		expect(gemini.createTime).toBeUndefined();
		expect(gemini.usageMetadata.trafficType).toBeUndefined();
	});
});
