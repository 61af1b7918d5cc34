import { GeminiFailure } from './failure';

/**
 * Google has two kinds of API key for these models, and each API refuses the other's: Gemini API
 * keys from AI Studio, and Vertex AI express keys (they begin with "AQ."). A refusal of a key of
 * the other kind says so, and which Authentication of the credential takes it.
 */
const EXPRESS_KEY = /^AQ\./;
const AI_STUDIO = 'https://aistudio.google.com/apikey';
const EXPRESS_CONSOLE = 'Google Cloud console > Vertex AI > API keys';

export interface KeyContext {
	apiKey: string;
	/** The credential is a Vertex AI express key (Vertex AI without a service account). */
	express: boolean;
	vertex: boolean;
}

function keyRefusal(failure: GeminiFailure, message: string, description: string): GeminiFailure {
	const google = failure.message.replace(/^[^:]*: /, '');
	const copy = new GeminiFailure({ ...failure, message: `${message}: ${google}`, description });
	copy.attempts = failure.attempts;
	copy.quotaWaitMs = failure.quotaWaitMs;
	return copy;
}

/** The failure told for the kind of key that was refused; others unchanged. */
export function withKeyKind(failure: GeminiFailure, key: KeyContext): GeminiFailure {
	const blocked = failure.reason === 'API_KEY_SERVICE_BLOCKED';
	const expressKey = EXPRESS_KEY.test(key.apiKey);
	if (!key.vertex && (blocked || failure.reason === 'API_KEY_INVALID') && expressKey) {
		return keyRefusal(
			failure,
			'The key is a Vertex AI express key, which the Gemini API does not take',
			`Set Authentication to "Vertex AI Express (API Key)" in the Nano Banana credential, or paste a Gemini API key from Google AI Studio (${AI_STUDIO}).`,
		);
	}
	if (!key.vertex && blocked) {
		return keyRefusal(
			failure,
			'The API key may not call the Gemini API',
			`The key's API restrictions leave out the Generative Language API. Allow it for the key in the Google Cloud console (APIs & Services > Credentials), or paste a key from Google AI Studio (${AI_STUDIO}).`,
		);
	}
	if (key.express && blocked) {
		return keyRefusal(
			failure,
			'The API key may not call Vertex AI',
			expressKey
				? `The key's API restrictions leave out the Vertex AI API. Allow it for the key in the Google Cloud console (APIs & Services > Credentials), or create a new express key (${EXPRESS_CONSOLE}).`
				: `A Gemini API key from Google AI Studio works only with the Gemini API: set Authentication to "Gemini API Key" in the Nano Banana credential, or paste a Vertex AI express key (${EXPRESS_CONSOLE}).`,
		);
	}
	return failure;
}
