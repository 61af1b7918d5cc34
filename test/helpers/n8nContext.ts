/**
 * A small, honest stand-in for n8n's IExecuteFunctions, so a node's execute() can run in jest
 * against the Gemini simulator over real HTTP. It behaves like n8n's filesystem binary mode:
 * prepareBinaryData keeps the bytes in a store and the item only holds an id, so a node that
 * read `binary.data` itself would find no image. The real n8n runs in test/e2e.
 */
import { NodeOperationError } from 'n8n-workflow';
import type {
	IBinaryData,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeProperties,
	INodeType,
} from 'n8n-workflow';
import { randomUUID } from 'crypto';
import { Readable } from 'stream';

/** A parameter value, or a function of the item standing in for an n8n expression. */
export type ParamValue = unknown | ((itemIndex: number, item: INodeExecutionData) => unknown);

export interface RunOptions {
	parameters: Record<string, ParamValue>;
	items?: INodeExecutionData[];
	credentials?: IDataObject;
	continueOnFail?: boolean;
	/** The node's On Error setting; 'continueRegularOutput' and 'continueErrorOutput' also set continueOnFail. */
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
	cancelSignal?: AbortSignal;
	binaryStore?: BinaryStore;
	/** The node's typeVersion; default: what a new node gets. */
	typeVersion?: number;
	/** Run the node's AI Agent tool variant (type name + `Tool`), as n8n does for an agent. */
	asTool?: boolean;
	/** Stands in for n8n's httpRequest helper (real HTTP, no SSRF filter). */
	httpRequest?: (options: IDataObject) => Promise<unknown>;
}

export class BinaryStore {
	private readonly files = new Map<
		string,
		{ buffer: Buffer; fileName?: string; mimeType?: string }
	>();

	/** Files are stored as n8n's filesystem mode names them: per workflow and execution. */
	constructor(
		readonly workflowId = 'wf-test',
		readonly executionId = '1001',
	) {}

	async put(data: Buffer | Readable, fileName?: string, mimeType?: string): Promise<IBinaryData> {
		const buffer = Buffer.isBuffer(data) ? data : await streamToBuffer(data);
		const id = `filesystem-v2:workflows/${this.workflowId}/executions/${this.executionId}/binary_data/${randomUUID()}`;
		this.files.set(id, { buffer, fileName, mimeType });
		const extension = fileName?.split('.').pop();
		return {
			id,
			data: 'filesystem-v2',
			mimeType: mimeType ?? 'application/octet-stream',
			fileName,
			fileExtension: extension,
			fileSize: `${buffer.length} B`,
			bytes: buffer.length,
		} as IBinaryData;
	}

	get(binary: IBinaryData): Buffer {
		const file = binary.id ? this.files.get(binary.id) : undefined;
		if (!file) throw new Error(`No stored file for binary ${binary.id ?? '(no id)'}`);
		return file.buffer;
	}

	/** What n8n's getBinaryMetadata gives. */
	metadata(id: string) {
		const file = this.files.get(id);
		if (!file) throw new Error(`No stored file ${id}`);
		return { fileName: file.fileName, mimeType: file.mimeType, fileSize: file.buffer.length };
	}

	/** An input item's binary, stored as n8n would store an upload. */
	async binaryItem(
		json: IDataObject,
		files: Record<string, { data: Buffer; fileName: string; mimeType: string }>,
	): Promise<INodeExecutionData> {
		const binary: Record<string, IBinaryData> = {};
		for (const [prop, file] of Object.entries(files))
			binary[prop] = await this.put(file.data, file.fileName, file.mimeType);
		return { json, binary };
	}
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(Buffer.from(chunk));
	return Buffer.concat(chunks);
}

/** Whether a property is shown at this node version (its `@version` display option, as n8n reads it). */
function atVersion(property: INodeProperties, version: number, tool = false): boolean {
	const asTool = property.displayOptions?.show?.['@tool'];
	if (asTool && !asTool.includes(tool)) return false;
	const wanted = property.displayOptions?.show?.['@version'];
	if (!wanted) return true;
	return wanted.some((v) =>
		typeof v === 'object' && v && '_cnd' in v
			? version >= Number((v._cnd as { gte?: number }).gte ?? -Infinity)
			: v === version,
	);
}

function defaultOf(
	properties: INodeProperties[],
	name: string,
	version: number,
	tool: boolean,
): unknown {
	return properties.find((p) => p.name === name && atVersion(p, version, tool))?.default;
}

/** The version n8n gives a new node of this type. */
export function newNodeVersion(nodeType: INodeType): number {
	const { version, defaultVersion } = nodeType.description;
	return defaultVersion ?? (Array.isArray(version) ? Math.max(...version) : version);
}

export interface RunResult {
	outputs: INodeExecutionData[][];
	store: BinaryStore;
	node: INode;
}

/** Runs `nodeType.execute` once, like n8n runs a node for one batch of input items. */
export async function runNode(nodeType: INodeType, options: RunOptions): Promise<RunResult> {
	const items: INodeExecutionData[] = options.items ?? [{ json: {} }];
	const store = options.binaryStore ?? new BinaryStore();
	const description = nodeType.description;
	const node: INode = {
		id: 'test-node',
		name: description.defaults.name ?? description.displayName,
		type: `n8n-nodes-nano-banana-studio.${description.name}${options.asTool ? 'Tool' : ''}`,
		typeVersion: options.typeVersion ?? newNodeVersion(nodeType),
		position: [0, 0],
		parameters: {},
		...(options.onError ? { onError: options.onError } : {}),
	};
	const cancel = options.cancelSignal ?? new AbortController().signal;

	const getNodeParameter = (
		name: string,
		itemIndex: number,
		fallback?: unknown,
		extra?: { extractValue?: boolean },
	) => {
		const [head, ...path] = name.split('.');
		let value: unknown =
			head in options.parameters
				? options.parameters[head]
				: defaultOf(description.properties, head, node.typeVersion, options.asTool === true);
		if (typeof value === 'function')
			value = (value as (i: number, item: INodeExecutionData) => unknown)(
				itemIndex,
				items[itemIndex],
			);
		for (const key of path) value = (value as IDataObject | undefined)?.[key];
		if (value === undefined) {
			// As n8n does: a missing value without a fallback is an error, not undefined.
			if (fallback === undefined) throw new Error(`Could not get parameter "${name}"`);
			value = fallback;
		}
		// A resource locator ({__rl, mode, value}) gives its value, as n8n's extractValue does.
		if (
			extra?.extractValue &&
			value &&
			typeof value === 'object' &&
			'mode' in (value as IDataObject)
		) {
			return (value as IDataObject).value;
		}
		return value;
	};

	const context = {
		getInputData: () => items,
		getNodeParameter,
		getNode: () => node,
		getExecutionId: () => store.executionId,
		getWorkflow: () => ({ id: store.workflowId, name: 'Test workflow', active: false }),
		getCredentials: async () => options.credentials ?? {},
		continueOnFail: () =>
			options.continueOnFail ??
			(options.onError !== undefined && options.onError !== 'stopWorkflow'),
		getExecutionCancelSignal: () => cancel,
		logger: { debug() {}, info() {}, warn() {}, error() {} },
		helpers: {
			prepareBinaryData: (data: Buffer | Readable, fileName?: string, mimeType?: string) =>
				store.put(data, fileName, mimeType),
			assertBinaryData: (itemIndex: number, propertyName: string) => {
				const binary = items[itemIndex]?.binary?.[propertyName];
				if (!binary) {
					throw new NodeOperationError(
						node,
						`This operation expects the node's input data to contain a binary file '${propertyName}', but none was found [item ${itemIndex}]`,
						{ itemIndex },
					);
				}
				return binary;
			},
			getBinaryDataBuffer: async (itemIndex: number, propertyName: string | IBinaryData) => {
				const binary =
					typeof propertyName === 'string'
						? items[itemIndex]?.binary?.[propertyName]
						: propertyName;
				if (!binary)
					throw new Error(`No binary property ${String(propertyName)} on item ${itemIndex}`);
				return store.get(binary);
			},
			getBinaryStream: async (id: string) => Readable.from(store.get({ id } as IBinaryData)),
			getBinaryMetadata: async (id: string) => store.metadata(id),
			binaryToBuffer: async (body: Buffer | Readable) =>
				Buffer.isBuffer(body) ? body : await streamToBuffer(body),
			httpRequest: async (request: IDataObject) => {
				if (!options.httpRequest) throw new Error('No HTTP in this test');
				return await options.httpRequest(request);
			},
		},
	} as unknown as IExecuteFunctions;

	const outputs = await nodeType.execute!.call(context);
	return { outputs: outputs as INodeExecutionData[][], store, node };
}
