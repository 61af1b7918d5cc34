/** Vertex AI pieces that need no server: the host per location, reading a JSON key, the signed assertion. */
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';

import { connectionFor } from '../../nodes/shared/pipeline/credentials';
import { GeminiClient, GeminiFailure, vertexBaseUrl } from '../../nodes/shared/transport';
import {
	parseServiceAccountKey,
	signAssertion,
	tokenUriProblem,
} from '../../nodes/shared/transport/vertexAuth';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyJson = {
	type: 'service_account',
	project_id: 'p1',
	private_key_id: 'kid1',
	private_key: pem,
	client_email: 'sa@p1.iam.gserviceaccount.com',
};

describe('Vertex AI host per location', () => {
	it.each([
		['global', 'https://aiplatform.googleapis.com'],
		[undefined, 'https://aiplatform.googleapis.com'],
		['us-central1', 'https://us-central1-aiplatform.googleapis.com'],
		['europe-west4', 'https://europe-west4-aiplatform.googleapis.com'],
		['eu', 'https://aiplatform.eu.rep.googleapis.com'],
	])('%s → %s', (location, host) => expect(vertexBaseUrl(location)).toBe(host));

	it('is where the client sends, unless the credential sets a Host', () => {
		const client = (extra: Record<string, string>) =>
			new GeminiClient(
				connectionFor({
					authentication: 'vertexServiceAccount',
					privateKeyJson: JSON.stringify(keyJson),
					...extra,
				}),
			);
		expect(client({ location: 'europe-west4' }).baseUrl).toBe(
			'https://europe-west4-aiplatform.googleapis.com',
		);
		expect(client({}).baseUrl).toBe('https://aiplatform.googleapis.com');
		expect(
			client({ location: 'us-central1', vertexHost: 'https://proxy.example/vertex/' }).baseUrl,
		).toBe('https://proxy.example/vertex');
		expect(
			new GeminiClient(connectionFor({ authentication: 'vertexExpress', apiKey: 'x' })).baseUrl,
		).toBe('https://aiplatform.googleapis.com');
		expect(new GeminiClient(connectionFor({ apiKey: 'x' })).baseUrl).toBe(
			'https://generativelanguage.googleapis.com',
		);
	});
});

describe('reading a service account JSON key', () => {
	it("takes the key as downloaded, with Google's token endpoint by default", () => {
		const key = parseServiceAccountKey(JSON.stringify(keyJson));
		expect(key).toMatchObject({
			clientEmail: keyJson.client_email,
			projectId: 'p1',
			privateKeyId: 'kid1',
			tokenUri: 'https://oauth2.googleapis.com/token',
		});
	});

	it('accepts a private key whose line breaks were pasted as \\n text', () => {
		const flattened = JSON.stringify(keyJson).replace(/\\n/g, '\\\\n');
		expect(parseServiceAccountKey(flattened).privateKey.asymmetricKeyType).toBe('rsa');
	});

	it('never quotes the key in its error', () => {
		const text = JSON.stringify(keyJson).slice(0, -5);
		let failure: GeminiFailure | undefined;
		try {
			parseServiceAccountKey(text);
		} catch (error) {
			failure = error as GeminiFailure;
		}
		expect(failure).toMatchObject({
			kind: 'setup',
			retryable: false,
			message: 'The Service Account Key is not valid JSON',
		});
		expect(`${failure!.message} ${failure!.description}`).not.toMatch(/BEGIN|PRIVATE|sa@p1/);
	});

	it('allows a token endpoint over http only on this machine', () => {
		expect(tokenUriProblem('https://oauth2.googleapis.com/token')).toBeUndefined();
		expect(tokenUriProblem('http://127.0.0.1:9999/token')).toBeUndefined();
		expect(tokenUriProblem('http://localhost/token')).toBeUndefined();
		expect(tokenUriProblem('http://10.0.0.1/token')).toMatch(/must use https/);
		expect(tokenUriProblem('ftp://example.com/token')).toMatch(/must use https/);
	});

	it("signs an RS256 assertion for the cloud-platform scope that the key's public key verifies", () => {
		const key = parseServiceAccountKey(JSON.stringify(keyJson));
		const now = Date.UTC(2026, 11, 1);
		const [header, claims, signature] = signAssertion(key, now).split('.');
		expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
			alg: 'RS256',
			typ: 'JWT',
			kid: 'kid1',
		});
		expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toEqual({
			iss: keyJson.client_email,
			scope: 'https://www.googleapis.com/auth/cloud-platform',
			aud: 'https://oauth2.googleapis.com/token',
			iat: now / 1000,
			exp: now / 1000 + 3600,
		});
		expect(
			verify(
				'RSA-SHA256',
				Buffer.from(`${header}.${claims}`),
				createPublicKey(pem),
				Buffer.from(signature, 'base64url'),
			),
		).toBe(true);
	});
});

describe('the credential as a connection', () => {
	it('keeps a credential saved before Vertex AI (no Authentication field) on the Gemini API', () => {
		expect(connectionFor({ apiKey: 'k', host: 'https://proxy.example' })).toEqual({
			apiKey: 'k',
			host: 'https://proxy.example',
		});
	});

	it('takes project and location from the fields, the project from the key when empty, and global by default', () => {
		const connection = connectionFor({
			authentication: 'vertexServiceAccount',
			privateKeyJson: JSON.stringify(keyJson),
			project: '',
			location: '',
		});
		expect(connection.vertex).toMatchObject({
			project: undefined,
			location: 'global',
			serviceAccount: { projectId: 'p1' },
		});
		expect(connectionFor({ authentication: 'vertexExpress', apiKey: 'x' })).toEqual({
			apiKey: 'x',
			host: '',
			vertex: {},
		});
	});

	it('names a bad Vertex Host before anything is sent', () => {
		expect(() =>
			connectionFor({
				authentication: 'vertexExpress',
				apiKey: 'x',
				vertexHost: 'https://aiplatform.googleapis.com/v1beta1/projects',
			}),
		).toThrow(/Host is not usable: Host must be the base URL without the API path/);
	});
});

describe('the Location field', () => {
	it.each(['us-central1.evil.com/', 'evil.com#', 'us-central1@evil.com', 'a/b', 'US-CENTRAL1 '])(
		'refuses %j before anything is sent: it would build another host',
		(location) => {
			expect(() =>
				connectionFor({
					authentication: 'vertexServiceAccount',
					privateKeyJson: JSON.stringify(keyJson),
					location,
				}),
			).toThrow(/Location/);
		},
	);

	it.each(['global', 'us', 'eu', 'us-central1', 'europe-west4', ' asia-northeast1 '])(
		'takes %j',
		(location) => {
			const connection = connectionFor({
				authentication: 'vertexServiceAccount',
				privateKeyJson: JSON.stringify(keyJson),
				location,
			});
			expect(new URL(new GeminiClient(connection).baseUrl).hostname).toMatch(
				/^([a-z0-9-]+-)?aiplatform(\.[a-z]+\.rep)?\.googleapis\.com$/,
			);
		},
	);
});
