import type { IAuthenticateGeneric, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { DEFAULT_HOST } from '../nodes/shared/constants';

const INSECURE_HOST = '^http://(?!(localhost|127\\.0\\.0\\.1|\\[::1\\])([:/]|$))';

/**
 * One credential for the Gemini API (an API key) and Vertex AI (a service account, or an express
 * API key). Its Test button is the nodes' `testedBy` function
 * (nodes/shared/skeleton/methods/credentialTest.ts):
 * a service account's token has to be minted first, which a declarative test request cannot do.
 */
export class NanoBananaApi implements ICredentialType {
	// CREDENTIAL_NAME, written out: the community lint matches it with the nodes' credential entries.
	name = 'nanoBananaApi';

	displayName = 'Nano Banana (Gemini / Vertex AI) API';

	icon: Icon = { light: 'file:nanoBanana.svg', dark: 'file:nanoBanana.dark.svg' };

	// the README's section covers all three kinds of authentication, not only Gemini API keys
	documentationUrl =
		'https://github.com/nano-banana-studio/n8n-nodes-nano-banana-studio#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'Gemini API Key', value: 'apiKey', description: 'A key from Google AI Studio' },
				{
					name: 'Vertex AI Service Account',
					value: 'vertexServiceAccount',
					description: 'A service account JSON key, a project and a location',
				},
				{
					name: 'Vertex AI Express (API Key)',
					value: 'vertexExpress',
					description: 'An API key from Vertex AI express mode',
				},
			],
			default: 'apiKey',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authentication: ['apiKey', 'vertexExpress'] } },
			description:
				'Gemini API Key: a key from Google AI Studio (aistudio.google.com/apikey); image models need a project with billing. Vertex AI Express: an API key from the Google Cloud console (Vertex AI > API keys).',
		},
		{
			displayName: 'Service Account Key (JSON)',
			name: 'privateKeyJson',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authentication: ['vertexServiceAccount'] } },
			description:
				'The whole JSON key file of a service account with the role "Vertex AI User" (roles/aiplatform.user): Google Cloud console > IAM & Admin > Service Accounts > Keys > Add key > JSON',
		},
		{
			displayName: 'Project ID',
			name: 'project',
			type: 'string',
			default: '',
			placeholder: 'my-project',
			displayOptions: { show: { authentication: ['vertexServiceAccount'] } },
			description: 'The Google Cloud project to bill. Empty uses the project_id of the JSON key.',
		},
		{
			displayName: 'Location',
			name: 'location',
			type: 'string',
			default: 'global',
			placeholder: 'global',
			displayOptions: { show: { authentication: ['vertexServiceAccount'] } },
			description:
				'Where requests are served: "global" (most image models, best availability) or a region such as us-central1 or europe-west4',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: DEFAULT_HOST,
			displayOptions: { show: { authentication: ['apiKey'] } },
			description:
				"Base URL of the Gemini API: https, no query, no user name, no /v1beta path. Change it only for a proxy or gateway that speaks the same API (a gateway's own path prefix is fine).",
		},
		{
			displayName: 'Host',
			name: 'vertexHost',
			type: 'string',
			default: '',
			placeholder: 'https://aiplatform.googleapis.com',
			displayOptions: { show: { authentication: ['vertexServiceAccount', 'vertexExpress'] } },
			description:
				"Empty uses Google's host for the location (https://aiplatform.googleapis.com for global, https://LOCATION-aiplatform.googleapis.com for a region). Set it only for a proxy that speaks the Vertex AI API: base URL, no /v1beta1 path.",
		},
		{
			displayName: 'Daily Budget (USD)',
			name: 'dailyBudgetUsd',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 2 },
			default: '',
			placeholder: 'No budget',
			description:
				"The most Generate, Edit and Fuse may spend with this credential per UTC day, at the catalogue's prices (Batch at half), across every execution and, in queue mode, every worker. A request that would pass it is not sent; its item fails with an error saying today's spend and when the budget resets (00:00 UTC). Empty: no budget.",
		},
		{
			displayName:
				'This Host uses plain http: the API key would cross the network readable. Use https unless the proxy is on this machine.',
			name: 'insecureHostNotice',
			type: 'notice',
			default: '',
			displayOptions: {
				show: { authentication: ['apiKey'], host: [{ _cnd: { regex: INSECURE_HOST } }] },
			},
		},
		{
			displayName:
				'This Host uses plain http: the key or access token would cross the network readable. Use https unless the proxy is on this machine.',
			name: 'insecureVertexHostNotice',
			type: 'notice',
			default: '',
			displayOptions: {
				show: {
					authentication: ['vertexServiceAccount', 'vertexExpress'],
					vertexHost: [{ _cnd: { regex: INSECURE_HOST } }],
				},
			},
		},
	];

	// For n8n's HTTP Request node with this credential (Gemini API key and Vertex express); the nodes
	// use the SDK.
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'x-goog-api-key': '={{$credentials.apiKey}}' } },
	};
}
