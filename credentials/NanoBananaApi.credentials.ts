import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

import { CREDENTIAL_NAME, DEFAULT_HOST } from '../nodes/shared/constants';

export class NanoBananaApi implements ICredentialType {
	name = CREDENTIAL_NAME;

	displayName = 'Nano Banana (Gemini API)';

	icon: Icon = { light: 'file:nanoBanana.svg', dark: 'file:nanoBanana.dark.svg' };

	documentationUrl = 'https://aistudio.google.com/apikey';

	// Vertex AI will come as an authentication type beside the API key; nodes default to the API key.
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'A Gemini API key from Google AI Studio (aistudio.google.com/apikey). Image models need a project with billing.',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: DEFAULT_HOST,
			description:
				'Base URL of the Gemini API: https, no query, no user name, no /v1beta path. Change it only for a proxy or gateway that speaks the same API (a gateway\'s own path prefix is fine).',
		},
		{
			displayName: 'This Host uses plain http: the API key would cross the network readable. Use https unless the proxy is on this machine.',
			name: 'insecureHostNotice',
			type: 'notice',
			default: '',
			displayOptions: { show: { host: [{ _cnd: { regex: '^http://(?!(localhost|127\\.0\\.0\\.1|\\[::1\\])([:/]|$))' } }] } },
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'x-goog-api-key': '={{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.host.replace(/\\/+$/, "")}}/v1beta',
			url: '/models',
			qs: { pageSize: 1 },
		},
		// The API answers a bad key with 400, which n8n alone would show as "Bad Request".
		rules: [
			{ type: 'responseCode', properties: { value: 400, message: 'The API key is not valid. Paste a key from Google AI Studio (aistudio.google.com/apikey).' } },
			{ type: 'responseCode', properties: { value: 403, message: 'The key has no access to the Gemini API. Enable the Generative Language API for its project, or use another key.' } },
			{ type: 'responseCode', properties: { value: 404, message: 'No Gemini API at this Host. Use https://generativelanguage.googleapis.com or the address of your proxy.' } },
		],
	};
}
