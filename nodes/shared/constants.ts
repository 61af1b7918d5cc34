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

/**
 * The default of every numeric option, in one place: the descriptions show it, and the readers fall
 * back to it when n8n saved no value (it saves none for an option a user did not add).
 */
export const OPTION_DEFAULTS = {
	/** Max Concurrent Requests before Auto: what a node saved without the option keeps. */
	maxConcurrency: 4,
	maxAttempts: 4,
	maxRetryWaitSeconds: 300,
	timeoutSeconds: 900,
	quality: 90,
	maxInputMegapixels: 100,
	/** Google's limit for one request: lower it for proxies with smaller limits. */
	inlineLimitMb: 100,
	/** Google's limit for an inline batch job. */
	inlineBatchLimitMb: 20,
	maxWaitMinutes: 60,
	pollIntervalSeconds: 5,
} as const;

/** Number of Images: the most requests one item (or gathered fusion) may fan out to. */
export const MAX_IMAGES_PER_ITEM = 8;

/** The largest seed the API takes. */
export const MAX_SEED = 2147483647;

/** The largest side WebP can hold, so every output format can write it. */
export const MAX_RESIZE_SIDE = 16383;

/**
 * Inputs with more pixels are refused before decoding (decompression bombs): above it a decoded
 * image needs hundreds of MB; a 48 MP phone photo is well below it. The same bound holds for a
 * resize, since sharp holds the whole resized image in memory.
 */
export const DEFAULT_INPUT_PIXEL_LIMIT = OPTION_DEFAULTS.maxInputMegapixels * 1_000_000;
export const MAX_RESIZE_PIXELS = DEFAULT_INPUT_PIXEL_LIMIT;

/** Verify's pass marks (0 to 1): the fields' defaults, and what a field left unset counts as. */
export const VERIFY_THRESHOLDS = {
	promptAdherence: 0.7,
	sameSubject: 0.8,
	expectedText: 0.8,
	customRule: 0.7,
	similarity: 0.8,
} as const;
