import { createHash, randomBytes } from 'node:crypto';

import { googleError, invalidArgument, notFound, permissionDenied, SimHttpError } from './errors';
import type { StoredFile } from './validate';

/**
 * The Files API (Gemini API only): resumable uploads in the protocol @google/genai speaks,
 * plus get, list, delete and download. Files live in memory on the simulator instance.
 */

export interface SimFile extends StoredFile {
	id: string;
	displayName?: string;
	createTime: string;
	source: 'UPLOADED' | 'GENERATED';
}

interface UploadSession {
	apiVersion: string;
	id?: string;
	displayName?: string;
	mimeType: string;
	expectedBytes?: number;
	chunks: Buffer[];
	received: number;
}

export interface ChunkResult {
	status: 'active' | 'final';
	received: number;
	file?: SimFile;
}

const HOURS_48 = 48 * 3600 * 1000;

export class FileStore {
	/**
	 * MIME types an upload is refused for (400 "Unsupported MIME type"), as Google's Files API has
	 * refused `jsonl` and `application/jsonl` at times. Configuration: kept across clear().
	 */
	readonly refusedMimeTypes = new Set<string>();
	private readonly files = new Map<string, SimFile>();
	private readonly sessions = new Map<string, UploadSession>();

	/** `baseUrl` is read late: the port is only known once the server listens. */
	constructor(private readonly baseUrl: () => string) {}

	get count(): number {
		return this.files.size;
	}

	/** X-Goog-Upload-Command: start. Returns the upload URL for the chunks. */
	start(
		apiVersion: string,
		body: unknown,
		headers: Record<string, string | string[] | undefined>,
	): string {
		if (String(headers['x-goog-upload-protocol']).toLowerCase() !== 'resumable') {
			throw invalidArgument(
				'This server only accepts the resumable upload protocol (X-Goog-Upload-Protocol: resumable).',
			);
		}
		const file = ((body as { file?: Record<string, unknown> } | undefined)?.file ?? {}) as Record<
			string,
			unknown
		>;
		const mimeType = String(headers['x-goog-upload-header-content-type'] ?? file.mimeType ?? '');
		if (!mimeType) throw invalidArgument('Missing MIME type for the uploaded file.');
		if (this.refusedMimeTypes.has(mimeType))
			throw invalidArgument(`Unsupported MIME type: ${mimeType}`);
		const length = headers['x-goog-upload-header-content-length'] ?? file.sizeBytes;
		const requested = typeof file.name === 'string' ? file.name.replace(/^files\//, '') : undefined;
		if (requested && this.files.has(requested)) {
			throw new SimHttpError(
				409,
				googleError(409, 'ALREADY_EXISTS', `File files/${requested} already exists.`),
			);
		}
		const uploadId = randomBytes(18).toString('base64url');
		this.sessions.set(uploadId, {
			apiVersion,
			id: requested,
			displayName: typeof file.displayName === 'string' ? file.displayName : undefined,
			mimeType,
			expectedBytes: length === undefined ? undefined : Number(length),
			chunks: [],
			received: 0,
		});
		return `${this.baseUrl()}/upload/${apiVersion}/files?upload_id=${uploadId}&upload_protocol=resumable`;
	}

	/** X-Goog-Upload-Command: upload / upload, finalize / query. */
	chunk(uploadId: string, command: string, offset: number, data: Buffer): ChunkResult {
		const session = this.sessions.get(uploadId);
		if (!session) throw notFound(`Upload session ${uploadId} was not found.`);
		const commands = command.split(',').map((c) => c.trim().toLowerCase());
		if (commands.includes('query')) return { status: 'active', received: session.received };
		if (commands.includes('upload')) {
			if (offset !== session.received) {
				throw invalidArgument(
					`Invalid X-Goog-Upload-Offset ${offset}; ${session.received} bytes were received so far.`,
				);
			}
			session.chunks.push(data);
			session.received += data.length;
		}
		if (!commands.includes('finalize')) return { status: 'active', received: session.received };
		this.sessions.delete(uploadId);
		if (session.expectedBytes !== undefined && session.expectedBytes !== session.received) {
			throw invalidArgument(
				`Upload ended after ${session.received} of ${session.expectedBytes} bytes.`,
			);
		}
		const file = this.add(Buffer.concat(session.chunks), session.mimeType, {
			id: session.id,
			displayName: session.displayName,
		});
		return { status: 'final', received: session.received, file };
	}

	add(
		data: Buffer,
		mimeType: string,
		options: { id?: string; displayName?: string; generated?: boolean } = {},
	): SimFile {
		const id = options.id ?? randomBytes(9).toString('hex').slice(0, 12);
		const file: SimFile = {
			id,
			displayName: options.displayName,
			mimeType,
			data,
			createTime: new Date().toISOString(),
			source: options.generated ? 'GENERATED' : 'UPLOADED',
		};
		this.files.set(id, file);
		return file;
	}

	get(id: string): SimFile {
		const file = this.files.get(id);
		if (!file)
			throw permissionDenied(
				`You do not have permission to access the File ${id} or it may not exist.`,
			);
		return file;
	}

	delete(id: string) {
		this.get(id);
		this.files.delete(id);
	}

	list(): SimFile[] {
		return [...this.files.values()];
	}

	/** `https://host/v1beta/files/abc`, `files/abc` or `abc`. */
	resolve(uri: string): SimFile | undefined {
		const id = /(?:^|\/)files\/([^/?#]+)$/.exec(uri)?.[1] ?? uri;
		return this.files.get(id);
	}

	clear() {
		this.files.clear();
		this.sessions.clear();
	}

	/** The File resource as the API shows it. */
	resource(file: SimFile, apiVersion = 'v1beta'): Record<string, unknown> {
		const created = Date.parse(file.createTime);
		return {
			name: `files/${file.id}`,
			...(file.displayName ? { displayName: file.displayName } : {}),
			mimeType: file.mimeType,
			sizeBytes: String(file.data.length),
			createTime: file.createTime,
			updateTime: file.createTime,
			expirationTime: new Date(created + HOURS_48).toISOString(),
			sha256Hash: Buffer.from(createHash('sha256').update(file.data).digest('hex')).toString(
				'base64',
			),
			uri: `${this.baseUrl()}/${apiVersion}/files/${file.id}`,
			downloadUri: `${this.baseUrl()}/download/${apiVersion}/files/${file.id}:download?alt=media`,
			state: 'ACTIVE',
			source: file.source,
		};
	}
}
