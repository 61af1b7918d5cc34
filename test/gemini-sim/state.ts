import { join } from 'node:path';

import { BatchStore, type BatchResult } from './batch';
import { RPC_CODE, SimHttpError } from './errors';
import { findDirective, isContentFault, isDelayFault, parseFault, seededRandom } from './faults';
import { FileStore } from './files';
import { defaultJudge } from './judge';
import { SIM_MODELS, type SimModel } from './models';
import { generateContent, type PipelineEnv, type StoredLog } from './pipeline';
import { ThoughtSigner } from './signatures';
import { TextureCache } from './images';
import { VertexState } from './vertex';
import { ImageMemory, misspell, quotedText } from './vision';
import type {
	Fault,
	FaultSpec,
	GeminiSimOptions,
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

const MB = 1024 * 1024;

interface PendingDelay {
	timer: NodeJS.Timeout;
	done(): void;
}

/** Everything one simulator instance knows. Nothing lives at module level. */
export class SimState {
	readonly requests: RecordedRequest[] = [];
	readonly files: FileStore;
	readonly batches: BatchStore;
	readonly vertex: VertexState;
	readonly signer: ThoughtSigner;
	/** What the simulator drew or was taught; kept across reset(), like a model's knowledge. */
	readonly memory = new ImageMemory();
	/** Noise images already drawn, by size and format; kept across reset(). */
	readonly textures = new TextureCache();
	readonly apiKey: string;
	readonly inlineLimitBytes: number;
	readonly batchInlineLimitBytes: number;
	readonly fixturesDir: string;
	url = '';
	latencyMs: number;
	imageFormat: ImageFormat;
	imageTexture: ImageTexture;
	gzipAnswers: GzipAnswers;
	/**
	 * Google stores generate requests by default for projects created on or after 2026-10-26 ("Logs
	 * and datasets"); `store: false` in a request opts out. On by default: a new project.
	 */
	storeByDefault = true;
	/** What Google kept for the project's logs. */
	logs: StoredLog[] = [];
	/** The models served: Google's of today, and any a test adds (a model shipped after them). */
	models: SimModel[] = [...SIM_MODELS];
	batchDelayMs: number;
	batchCancelDelayMs: number;
	judge: Judge;
	inFlight = 0;
	maxInFlight = 0;
	quota?: Quota;

	private queue: Fault[] = [];
	private random?: { percent: number; kinds: Fault[]; seed: number };
	/** How often each request text was seen, so a random draw depends on the request, not on arrival order. */
	private seen = new Map<string, number>();
	private misrendering?: Required<TextMisrendering>;
	/** How often each prompt was drawn, so a resent prompt gets a new draw of its text. */
	private drawn = new Map<string, number>();
	private served: Record<string, number> = {};
	/** Start times of the requests the quota admitted, oldest first. */
	private admitted: number[] = [];
	private quotaRefused = 0;
	private readonly delays = new Set<PendingDelay>();
	private nextId = 1;

	constructor(options: GeminiSimOptions = {}) {
		this.apiKey = options.apiKey ?? 'test-api-key';
		this.latencyMs = options.latencyMs ?? 0;
		this.imageFormat = options.imageFormat ?? 'png';
		this.imageTexture = options.imageTexture ?? 'flat';
		this.gzipAnswers = options.gzipAnswers ?? 'accepted';
		this.batchDelayMs = options.batchDelayMs ?? 200;
		this.batchCancelDelayMs = options.batchCancelDelayMs ?? 100;
		this.inlineLimitBytes = options.inlineLimitBytes ?? 100 * MB;
		this.batchInlineLimitBytes = options.batchInlineLimitBytes ?? 20 * MB;
		this.fixturesDir = options.fixturesDir ?? join(__dirname, '..', 'fixtures', 'responses');
		this.judge = options.judge ?? defaultJudge;
		this.quota = options.quota;
		this.setTextMisrendering(options.misrenderText ?? null);
		this.signer = new ThoughtSigner(options.signatureSecret ?? 'gemini-sim thought signatures');
		this.files = new FileStore(() => this.url);
		for (const type of options.refuseUploadMimeTypes ?? []) this.files.refusedMimeTypes.add(type);
		this.vertex = new VertexState(() => this.url, options.expressApiKey ?? 'AQ.test-express-key');
		this.batches = new BatchStore(
			(model, request) => this.runBatchItem(model, request),
			this.files,
			() => this.batchDelayMs,
			() => this.batchCancelDelayMs,
		);
	}

	get pipeline(): PipelineEnv {
		return {
			signer: this.signer,
			imageFormat: this.imageFormat,
			imageTexture: this.imageTexture,
			textures: this.textures,
			judge: this.judge,
			memory: this.memory,
			writtenText: (prompt) => this.writtenText(prompt),
			resolveFile: (uri) => this.files.resolve(uri),
			storeByDefault: this.storeByDefault,
			keepLog: (entry) => this.logs.push(entry),
		};
	}

	inject(...faults: FaultSpec[]) {
		this.queue.push(...faults.map(parseFault));
	}

	get faultsQueued(): number {
		return this.queue.length;
	}

	setRandomFaults(config: RandomFaults | null) {
		if (!config || config.percent <= 0 || config.kinds.length === 0) {
			this.random = undefined;
			return;
		}
		this.random = {
			percent: config.percent,
			kinds: config.kinds.map(parseFault),
			seed: config.seed ?? 1,
		};
	}

	/** Kept across reset(), like the latency: it is how the simulated model behaves, not a scripted fault. */
	setTextMisrendering(config: TextMisrendering | null) {
		if (!config || !(Number(config.percent) > 0)) {
			this.misrendering = undefined;
			return;
		}
		this.misrendering = { percent: Number(config.percent), seed: Number(config.seed ?? 1) };
	}

	get textMisrendering(): TextMisrendering | null {
		return this.misrendering ? { ...this.misrendering } : null;
	}

	/**
	 * The words an image drawn for this prompt shows, when they differ from its quoted text (see
	 * TextMisrendering); undefined when the quoted text is written exactly.
	 */
	writtenText(prompt: string): string[] | undefined {
		const quoted = quotedText(prompt);
		if (!this.misrendering || quoted.length === 0) return undefined;
		const n = (this.drawn.get(prompt) ?? 0) + 1;
		this.drawn.set(prompt, n);
		const next = seededRandom(hash(`${this.misrendering.seed}|${n}|${prompt}`));
		if (next() * 100 >= this.misrendering.percent) return undefined;
		return quoted.map((text) => misspell(text, next));
	}

	/**
	 * Quota mode: admits a request, or returns how many ms until the oldest admitted one leaves
	 * the window (Google answers 429 then). Refused requests do not count against the quota.
	 */
	takeQuota(now = Date.now()): number | undefined {
		if (!this.quota) return undefined;
		const { requests, windowMs } = this.quota;
		while (this.admitted.length && this.admitted[0] <= now - windowMs) this.admitted.shift();
		if (this.admitted.length < requests) {
			this.admitted.push(now);
			return undefined;
		}
		this.quotaRefused++;
		return this.admitted[this.admitted.length - requests] + windowMs - now;
	}

	/** A [[sim:...]] directive in the prompt wins; then the scripted queue; then the random mode. */
	chooseFault(body: unknown): Fault | undefined {
		const directive = findDirective(body);
		if (directive) return directive;
		if (this.queue.length) return this.queue.shift();
		if (!this.random) return undefined;
		// Drawn from the request's text and how often it was sent, so a run with concurrency
		// gives each request the same fate whatever order the requests arrive in.
		const key = JSON.stringify((body as { contents?: unknown } | undefined)?.contents ?? null);
		const n = (this.seen.get(key) ?? 0) + 1;
		this.seen.set(key, n);
		const next = seededRandom(hash(`${this.random.seed}|${n}|${key}`));
		const { kinds, percent } = this.random;
		return next() * 100 < percent ? kinds[Math.floor(next() * kinds.length)] : undefined;
	}

	noteFault(record: RecordedRequest, fault: Fault) {
		record.fault = fault.kind;
		this.served[fault.kind] = (this.served[fault.kind] ?? 0) + 1;
	}

	newRecord(
		fields: Omit<RecordedRequest, 'id' | 'startedAt' | 'endedAt' | 'bodyBytes'>,
	): RecordedRequest {
		const record: RecordedRequest = {
			id: this.nextId++,
			startedAt: Date.now(),
			endedAt: 0,
			bodyBytes: 0,
			...fields,
		};
		this.requests.push(record);
		return record;
	}

	/** Counts a generateContent request as in flight; call the returned function once it is over. */
	beginGenerate(): () => void {
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		let ended = false;
		return () => {
			if (ended) return;
			ended = true;
			this.inFlight--;
		};
	}

	/** Waits ms (forever when ms is undefined); resolves early when stopped. Returns false if stopped. */
	delay(ms: number | undefined, onAbort?: (cancel: () => void) => void): Promise<boolean> {
		return new Promise((resolve) => {
			const pending: PendingDelay = {
				timer: setTimeout(() => finish(true), ms ?? 2 ** 31 - 1),
				done: () => finish(false),
			};
			const finish = (elapsed: boolean) => {
				clearTimeout(pending.timer);
				this.delays.delete(pending);
				resolve(elapsed);
			};
			this.delays.add(pending);
			onAbort?.(() => finish(false));
		});
	}

	cancelDelays() {
		for (const pending of [...this.delays]) pending.done();
	}

	stats(): SimStats {
		const byStatus: Record<string, number> = {};
		for (const r of this.requests) {
			if (r.status !== undefined) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
		}
		return {
			requests: this.requests.length,
			generateContent: this.requests.filter(
				(r) => r.action === 'generateContent' || r.action === 'streamGenerateContent',
			).length,
			inFlight: this.inFlight,
			maxInFlight: this.maxInFlight,
			faultsQueued: this.queue.length,
			faultsServed: { ...this.served },
			quotaRefused: this.quotaRefused,
			byStatus,
			files: this.files.count,
			batches: this.batches.count,
		};
	}

	/** Clears requests, faults, counters, files and batches; keeps the configuration. */
	reset() {
		this.requests.length = 0;
		this.nextId = 1;
		this.queue = [];
		this.random = undefined;
		this.seen.clear();
		this.drawn.clear();
		this.served = {};
		this.admitted = [];
		this.quotaRefused = 0;
		this.maxInFlight = this.inFlight;
		this.logs = [];
		this.files.clear();
		this.batches.clear();
		this.vertex.reset();
	}

	/** A served model by id (`models/x` or `x`); undefined answers 404, as Google does. */
	findModel(id: string): SimModel | undefined {
		const bare = id.replace(/^models\//, '');
		return this.models.find((m) => m.id === bare);
	}

	/** One request of a batch: transport faults become per-request errors, as Google reports them. */
	private async runBatchItem(model: SimModel, request: unknown): Promise<BatchResult> {
		const fault = findDirective(request);
		if (fault && !isContentFault(fault) && !isDelayFault(fault)) {
			const status = fault.kind.startsWith('429')
				? 'RESOURCE_EXHAUSTED'
				: fault.kind === '503'
					? 'UNAVAILABLE'
					: 'INTERNAL';
			return { error: { code: RPC_CODE[status], message: `Simulated ${fault.kind} fault.` } };
		}
		try {
			return { response: await generateContent(this.pipeline, model, request, fault) };
		} catch (error) {
			if (!(error instanceof SimHttpError)) throw error;
			return {
				error: { code: RPC_CODE[error.body.error.status] ?? 13, message: error.body.error.message },
			};
		}
	}
}

/** FNV-1a, enough to spread request texts over seeds. */
function hash(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
	return h >>> 0;
}
