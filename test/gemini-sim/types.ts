export type FaultKind =
	| '429'
	| '429-no-details'
	| '500'
	| '503'
	| 'reset'
	| 'hang'
	| 'slow'
	| 'malformed-json'
	| 'html'
	| 'prompt-block'
	| 'image-safety'
	| 'no-image'
	| 'text-only'
	| 'no-content'
	| 'replay'
	| 'echo-key';

export interface Fault {
	kind: FaultKind;
	/** 429: RetryInfo.retryDelay, e.g. '0.35s' (default). */
	retryDelay?: string;
	/** 429: the per-minute quota its QuotaFailure names (default '10', the free tier). */
	quotaValue?: string;
	/** Any error kind: also send a `retry-after` header with this value (seconds). */
	retryAfter?: string | number;
	/** 'slow': delay before the headers; 'hang': answer normally after this long (default: never). */
	ms?: number;
	/** 'prompt-block': promptFeedback.blockReason (default PROHIBITED_CONTENT). */
	blockReason?: string;
	/** 'text-only': the refusal text. */
	text?: string;
	/** 'replay': a file name in test/fixtures/responses (with or without .json), or an absolute path. */
	file?: string;
}

/** A fault as an object, or in the directive form without brackets: '429', '429:0.2s', 'slow:300'. */
export type FaultSpec = Fault | string;

export interface RandomFaults {
	/** Share of generateContent requests that fail, 0..100. */
	percent: number;
	kinds: FaultSpec[];
	/** Seed of the instance's own random generator, so a load run can be repeated. */
	seed?: number;
}

/**
 * Image models sometimes misspell the text a prompt asks them to write; with this set, the simulator
 * does too. Whether an image gets its quoted text wrong is drawn from the prompt and how often that
 * prompt was sent, so a run is repeatable and a resent prompt may come out right. Off by default.
 */
export interface TextMisrendering {
	/** Share of images with quoted text in their prompt that get that text wrong, 0..100. */
	percent: number;
	/** Seed of the draw; default 1. */
	seed?: number;
}

/** A rate quota, as Google enforces per project and model: at most `requests` in any `windowMs`. */
export interface Quota {
	requests: number;
	windowMs: number;
}

export interface RecordedRequest {
	id: number;
	method: string;
	/** Path without the query string. */
	path: string;
	/** Query parameters. */
	query: Record<string, string>;
	apiVersion?: string;
	model?: string;
	/** generateContent, streamGenerateContent, listModels, getModel, uploadFile, getBatch, ... */
	action?: string;
	/** Request headers, lower-case names. The control API shows the API key as '<redacted>'. */
	headers: Record<string, string>;
	/** Where the API key came from, and whether it was the right one. */
	apiKeySource?: 'header' | 'query';
	apiKeyValid?: boolean;
	/** Vertex AI routes: how the caller authenticated, as whom, and the project and location of the path (none in express mode). */
	vertex?: { auth: 'bearer' | 'api-key'; principal?: string; project?: string; location?: string };
	/** Parsed JSON body (undefined for binary or empty bodies); typed loosely for inspection in tests. */
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	body?: any;
	bodyBytes: number;
	/** Date.now() when the request arrived, and when its answer ended (0 while in flight). */
	startedAt: number;
	endedAt: number;
	/** Date.now() when a generateContent answer was made, ready to send (made while the latency runs). */
	answerMadeAt?: number;
	/** HTTP status sent; 0 when the socket was destroyed or the client went away first. */
	status?: number;
	/** The fault kind served, if any. */
	fault?: FaultKind;
	/** Refused with 429 by the quota mode. */
	quotaRefused?: boolean;
	/** The client closed the connection before an answer was sent. */
	aborted?: boolean;
}

/** A generateContent request body as sent on the wire (camelCase). */
export type GenerateRequest = Record<string, unknown> & {
	contents?: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
	generationConfig?: Record<string, unknown>;
};

export interface JudgeContext {
	model: string;
	/** generationConfig.responseSchema or responseJsonSchema, if any. */
	schema?: unknown;
	/** The text of the last user turn. */
	prompt: string;
	/** The images of the last user turn, in order (inline or through the Files API). */
	images?: Buffer[];
	/** The text of the system instruction, '' when there is none. */
	systemInstruction?: string;
	/** What the simulator can tell about an image (see vision.ts). */
	describe?: (image: Buffer) => Promise<ImageFacts>;
}

/** What the simulator sees in an image. */
export interface ImageFacts {
	/** The prompt the image was drawn for, when the simulator drew it (or was told). */
	prompt?: string;
	/** The flat fill colour of a simulator image; undefined for other pictures. */
	fill?: { r: number; g: number; b: number };
	/** Words written in the image: quoted text of its prompt (as drawn, see TextMisrendering), and text it was taught. */
	text: string[];
}

/**
 * Produces the JSON answer of a structured-output request (text models, responseMimeType
 * application/json). It may return a promise.
 */
export type Judge = (request: GenerateRequest, context: JudgeContext) => unknown;

export type ImageFormat = 'png' | 'jpeg';

/**
 * What generated images look like. 'flat' (default): the prompt's fill colour with a strip, tiny files.
 * 'noise': a gradient with fine per-pixel grain, so files are the size of real ones (about 1 MB at 1K
 * and 10 MB at 4K as PNG); the pixels are drawn once per size and format and reused, so every answer of
 * that size has the same pixels (the prompt is still in the file's text), and no fill colour to tell
 * the prompt by.
 */
export type ImageTexture = 'flat' | 'noise';

export type GzipAnswers = 'accepted' | 'always';

export interface GeminiSimOptions {
	/** Default 'test-api-key'. */
	apiKey?: string;
	/** Default 0 (a free port). */
	port?: number;
	/** Added before every generateContent answer. */
	latencyMs?: number;
	/** Largest accepted JSON body; default 104857600 (100 MB), as on the Gemini API. */
	inlineLimitBytes?: number;
	/** Largest accepted batchGenerateContent body; default 20 MB. */
	batchInlineLimitBytes?: number;
	/** Format of generated images; default 'png'. */
	imageFormat?: ImageFormat;
	/** Look (and so file size) of generated images; default 'flat'. */
	imageTexture?: ImageTexture;
	/**
	 * When generateContent answers are gzipped: 'accepted' (the default) when the client's
	 * Accept-Encoding allows gzip, as Google's front end does; 'always' also when it asks for
	 * identity, as a proxy in between might.
	 */
	gzipAnswers?: GzipAnswers;
	/** How long a batch job runs before it succeeds; default 200 ms. */
	batchDelayMs?: number;
	/** How long a cancelled batch job shows BATCH_STATE_CANCELLING before it is CANCELLED; default 100 ms. */
	batchCancelDelayMs?: number;
	/** MIME types the Files API refuses to upload (400 "Unsupported MIME type: …"); default none. */
	refuseUploadMimeTypes?: string[];
	/** The Vertex AI express key; default 'AQ.test-express-key'. The Gemini API refuses it, and Vertex the Gemini key. */
	expressApiKey?: string;
	/** Key of the HMAC behind thought signatures; the default survives restarts. */
	signatureSecret?: string;
	/** Where 'replay' looks for recordings; default test/fixtures/responses. */
	fixturesDir?: string;
	judge?: Judge;
	/** Quota mode: refuse generateContent requests over this rate with 429 and RetryInfo. */
	quota?: Quota;
	/** Misspell the quoted text of some prompts in the image, as real models do; off by default. */
	misrenderText?: TextMisrendering;
}

export interface SimStats {
	requests: number;
	generateContent: number;
	inFlight: number;
	maxInFlight: number;
	faultsQueued: number;
	faultsServed: Record<string, number>;
	quotaRefused: number;
	byStatus: Record<string, number>;
	files: number;
	batches: number;
}
