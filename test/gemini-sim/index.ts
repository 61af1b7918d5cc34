import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { BatchStore } from './batch';
import type { FileStore } from './files';
import type { VertexState } from './vertex';
import { createHandler } from './server';
import { SimState } from './state';
import { readImageText } from './images';
import type { SimModel } from './models';
import type { StoredLog } from './pipeline';
import type {
	FaultSpec,
	GeminiSimOptions,
	ImageFacts,
	ImageFormat,
	GzipAnswers,
	ImageTexture,
	Judge,
	Quota,
	RandomFaults,
	RecordedRequest,
	SimStats,
	TextMisrendering,
} from './types';

export { FAULT_KINDS, parseFault } from './faults';
export { colourForPrompt, readImageText } from './images';
export { defaultJudge, readCriteria } from './judge';
export { findSimModel, pixelSize, SIM_MODELS } from './models';
export type * from './types';
export { SIM_PROJECT } from './vertex';
export type { ServiceAccountKeyJson } from './vertex';

/**
 * A fake of Google's Gemini API on 127.0.0.1, for testing a real client over HTTP.
 *
 *   const sim = await GeminiSim.start();
 *   const ai = new GoogleGenAI({ apiKey: sim.apiKey, httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta' } });
 *   sim.inject('429:0.2s');            // the next generateContent answers 429
 *   ...
 *   await sim.stop();
 */
export class GeminiSim {
	private constructor(
		private readonly state: SimState,
		private readonly server: Server,
	) {}

	static async start(options: GeminiSimOptions = {}): Promise<GeminiSim> {
		const state = new SimState(options);
		const server = createServer(createHandler(state));
		// Long uploads and 'hang' faults must not be cut by Node's own request timeout.
		server.requestTimeout = 0;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
		});
		const { port } = server.address() as AddressInfo;
		state.url = `http://127.0.0.1:${port}`;
		return new GeminiSim(state, server);
	}

	/** The prompt a generated image was made from (stored in the PNG text chunks or the JPEG comment). */
	static promptOf(image: Buffer): string | undefined {
		return readImageText(image).prompt;
	}

	/** 'http://127.0.0.1:PORT', the credential host or the SDK's httpOptions.baseUrl. */
	get url(): string {
		return this.state.url;
	}

	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}

	/** The Gemini API key. Vertex AI express mode refuses it (API_KEY_SERVICE_BLOCKED). */
	get apiKey(): string {
		return this.state.apiKey;
	}

	/** The Vertex AI express key. The Gemini API refuses it (API_KEY_INVALID). */
	get expressApiKey(): string {
		return this.state.vertex.expressKey;
	}

	/** Every HTTP request, oldest first (the control API's own calls excepted). */
	get requests(): RecordedRequest[] {
		return this.state.requests;
	}

	/** generateContent and streamGenerateContent requests only, answered or refused. */
	get generateRequests(): RecordedRequest[] {
		// By path, so a call refused before routing (a bad key) still counts.
		return this.state.requests.filter((r) => /:(stream)?generateContent$/i.test(r.path));
	}

	get inFlight(): number {
		return this.state.inFlight;
	}

	/** Highest number of generateContent requests in flight at once since the last reset. */
	get maxInFlight(): number {
		return this.state.maxInFlight;
	}

	get faultsQueued(): number {
		return this.state.faultsQueued;
	}

	/** Answers structured-output requests (responseMimeType application/json on text models). */
	get judge(): Judge {
		return this.state.judge;
	}

	set judge(judge: Judge) {
		this.state.judge = judge;
	}

	/**
	 * Tells the judge what an image it did not draw shows, e.g. the words written in it (the
	 * simulator cannot read pixels as text). It recognises the image later by its pixels, so a
	 * re-encoded or metadata-stripped copy counts too.
	 */
	async teach(image: Buffer, facts: Partial<ImageFacts>): Promise<void> {
		await this.state.memory.teach(image, facts);
	}

	/** What the judge sees in an image: the prompt it was drawn for, its fill colour, the text in it. */
	async describe(image: Buffer): Promise<ImageFacts> {
		return await this.state.memory.describe(image);
	}

	get files(): FileStore {
		return this.state.files;
	}

	get batches(): BatchStore {
		return this.state.batches;
	}

	/** Vertex AI: service account keys, the token endpoint at /token, the project and its permissions. */
	get vertex(): VertexState {
		return this.state.vertex;
	}

	/** Scripted faults: each generateContent request takes the next one; none left means a normal answer. */
	inject(...faults: FaultSpec[]): void {
		this.state.inject(...faults);
	}

	/** Load mode: `percent` of generateContent requests fail with one of `kinds`; null switches it off. */
	setRandomFaults(config: RandomFaults | null): void {
		this.state.setRandomFaults(config);
	}

	/**
	 * `percent` of images whose prompt quotes text show it misspelled, as real image models sometimes
	 * do (see TextMisrendering); null (the default) writes quoted text exactly.
	 */
	setTextMisrendering(config: TextMisrendering | null): void {
		this.state.setTextMisrendering(config);
	}

	setLatency(ms: number): void {
		this.state.latencyMs = ms;
	}

	setImageFormat(format: ImageFormat): void {
		this.state.imageFormat = format;
	}

	/** 'noise': generated images the size of real ones (see ImageTexture); 'flat' is the default. */
	setImageTexture(texture: ImageTexture): void {
		this.state.imageTexture = texture;
	}

	/** 'always': gzip generateContent answers even for a client that asks for identity. */
	setGzipAnswers(when: GzipAnswers): void {
		this.state.gzipAnswers = when;
	}

	/**
	 * The requests Google kept for the project's AI Studio logs: every Gemini API generate request
	 * (realtime or in a batch) not sent `store: false`, while the project stores by default.
	 */
	get storedLogs(): StoredLog[] {
		return [...this.state.logs];
	}

	/** Serves one more model (or replaces one of the same id), e.g. one Google shipped later. */
	addModel(model: SimModel): void {
		this.state.models = [...this.state.models.filter((m) => m.id !== model.id), model];
	}

	/** false: a project made before 2026-10-26, which stores only requests sent `store: true`. */
	setStoreByDefault(on: boolean): void {
		this.state.storeByDefault = on;
	}

	/** Quota mode: at most `requests` generateContent requests in any `windowMs`, else 429; null switches it off. */
	setQuota(quota: Quota | null): void {
		this.state.quota = quota ?? undefined;
	}

	setBatchDelay(ms: number): void {
		this.state.batchDelayMs = ms;
	}

	/** How long a cancelled batch job shows BATCH_STATE_CANCELLING before it is CANCELLED. */
	setBatchCancelDelay(ms: number): void {
		this.state.batchCancelDelayMs = ms;
	}

	/** The Files API refuses uploads of these MIME types (400 "Unsupported MIME type"); [] accepts all. */
	refuseUploadMimeTypes(types: string[]): void {
		this.state.files.refusedMimeTypes.clear();
		for (const type of types) this.state.files.refusedMimeTypes.add(type);
	}

	stats(): SimStats {
		return this.state.stats();
	}

	/** Clears requests, faults, counters, files and batches; configuration stays. */
	reset(): void {
		this.state.reset();
	}

	async stop(): Promise<void> {
		this.state.cancelDelays();
		const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
		this.server.closeAllConnections();
		await closed;
	}
}
