/**
 * Names the credential, the nodes and the transport share; kept free of imports so the credential
 * can load it alone.
 */
export const CREDENTIAL_NAME = 'nanoBananaApi';
export const DEFAULT_HOST = 'https://generativelanguage.googleapis.com';

/**
 * Display names of the options only Vertex AI takes: the client refuses them on the Gemini API,
 * naming them.
 */
export const VERTEX_ONLY_OPTION_NAMES = {
	personGeneration: 'People in Images (Vertex AI Only)',
	prominentPeople: 'Prominent People (Vertex AI Only)',
} as const;
