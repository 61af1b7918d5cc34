/**
 * A job's requests as they are sent: inline while the job stays under the inline limit, else as a
 * JSONL file on disk, uploaded through the Files API.
 */
import { createWriteStream } from 'fs';
import type { WriteStream } from 'fs';
import { mkdtemp, rm } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';

import { restRequest } from '../transport';
import type {
	BatchRequest,
	BatchStatus,
	CallSettings,
	GeminiClient,
	GenerateRequest,
} from '../transport';

/** Room for the envelope of an inline job around its requests. */
const ENVELOPE_BYTES = 64 * 1024;
const JSONL_MIME_TYPE = 'application/jsonl';
const JSONL_FALLBACK_MIME_TYPE = 'text/plain';

/** The stream's next `event`, or its next error, as events.once waits for them. */
function nextEvent(stream: WriteStream, event: 'drain' | 'finish'): Promise<void> {
	return new Promise((resolve, reject) => {
		const onError = (error: Error) => {
			stream.off(event, onEvent);
			reject(error);
		};
		const onEvent = () => {
			stream.off('error', onError);
			resolve();
		};
		stream.once(event, onEvent).once('error', onError);
	});
}

/**
 * Collects the requests of a job: in memory while the job stays under the inline limit, then in a
 * JSONL file on disk.
 */
export class BatchBuilder {
	private requests: BatchRequest[] = [];
	private bytes = 0;
	private dir?: string;
	private file?: WriteStream;
	private spilling?: Promise<void>;

	constructor(private readonly inlineLimitBytes: number) {}

	async add(key: string, request: GenerateRequest): Promise<void> {
		const line = `${JSON.stringify({ key, request: restRequest(request) })}\n`;
		const size = Buffer.byteLength(line);
		if (!this.spilling && this.bytes + size + ENVELOPE_BYTES <= this.inlineLimitBytes) {
			this.requests.push({ key, request });
			this.bytes += size;
			return;
		}
		// Items prepare concurrently: the first one over the limit moves the job to a file, the others
		// wait for it.
		await (this.spilling ??= this.spill());
		await this.write(line);
	}

	get isFile(): boolean {
		return !!this.spilling;
	}

	private async spill() {
		this.dir = await mkdtemp(join(tmpdir(), 'nano-banana-batch-'));
		this.file = createWriteStream(join(this.dir, 'requests.jsonl'));
		const kept = this.requests;
		this.requests = [];
		for (const { key, request } of kept)
			await this.write(`${JSON.stringify({ key, request: restRequest(request) })}\n`);
	}

	private async write(line: string) {
		if (!this.file!.write(line)) await nextEvent(this.file!, 'drain');
	}

	async submit(
		client: GeminiClient,
		model: string,
		displayName: string,
		call: CallSettings,
	): Promise<BatchStatus> {
		if (!this.spilling)
			return await client.createBatch(model, { requests: this.requests }, displayName, call);
		await this.spilling;
		this.file!.end();
		await nextEvent(this.file!, 'finish');
		// Google's Files API has at times refused the JSONL types (400 "Unsupported MIME type"); then
		// the file goes once more as text/plain, which Google's staff suggested.
		const uploaded = await client.uploadFilePath(
			join(this.dir!, 'requests.jsonl'),
			JSONL_MIME_TYPE,
			`${displayName}.jsonl`,
			call,
			JSONL_FALLBACK_MIME_TYPE,
		);
		return await client.createBatch(model, { fileName: uploaded.name }, displayName, call);
	}

	async dispose() {
		this.requests = [];
		this.file?.destroy();
		if (this.dir) await rm(this.dir, { recursive: true, force: true });
	}
}
