import type { Fault, FaultKind, FaultSpec, GenerateRequest } from './types';

/**
 * Faults, given as objects or in the directive form 'KIND[:ARG]...':
 *   429:0.2s            RetryInfo.retryDelay 0.2s
 *   429:retryAfter=2    also a retry-after: 2 header
 *   429:quotaValue=1000 the quota its QuotaFailure names (default 10 per minute)
 *   slow:300 / hang:500 delay in ms
 *   prompt-block:SAFETY blockReason
 *   replay:vercel-ai_google-image-no-image-live
 *   echo-key            400 whose message repeats the API key the client sent, as careless proxies do
 *   404-html            a web server's 404 page (Apache's) quoting the request path, model id and all:
 *                       what a Host that is not the Gemini API answers
 * Inside a prompt the same text is wrapped as [[sim:...]].
 */

export const FAULT_KINDS: readonly FaultKind[] = [
	'429',
	'429-no-details',
	'500',
	'503',
	'reset',
	'hang',
	'slow',
	'malformed-json',
	'html',
	'404-html',
	'prompt-block',
	'image-safety',
	'no-image',
	'text-only',
	'no-content',
	'replay',
	'echo-key',
];

/** Kinds answered with HTTP 200 and a well-formed body, decided after the request passed validation. */
const CONTENT_KINDS = new Set<FaultKind>([
	'prompt-block',
	'image-safety',
	'no-image',
	'text-only',
	'no-content',
]);

/** Kinds that only delay a normal answer. */
const DELAY_KINDS = new Set<FaultKind>(['slow', 'hang']);

export function isContentFault(fault: Fault): boolean {
	return CONTENT_KINDS.has(fault.kind);
}

/** 'slow', and 'hang' with ms, end in a normal answer. */
export function isDelayFault(fault: Fault): boolean {
	return DELAY_KINDS.has(fault.kind);
}

const KEYS = new Set([
	'retryDelay',
	'retryAfter',
	'ms',
	'blockReason',
	'text',
	'file',
	'quotaValue',
]);

export function parseFault(spec: FaultSpec): Fault {
	if (typeof spec !== 'string') {
		if (!spec || !FAULT_KINDS.includes(spec.kind))
			throw new Error(`Unknown fault kind: ${JSON.stringify(spec)}`);
		return { ...spec };
	}
	const [kind, ...args] = spec.trim().split(':');
	if (!FAULT_KINDS.includes(kind as FaultKind)) throw new Error(`Unknown fault kind: ${kind}`);
	const fault: Fault = { kind: kind as FaultKind };
	for (const arg of args) {
		const pair = /^(\w+)=(.*)$/.exec(arg);
		if (pair && KEYS.has(pair[1])) {
			const value = pair[2];
			if (pair[1] === 'ms') fault.ms = Number(value);
			else (fault as unknown as Record<string, string>)[pair[1]] = value;
		} else if (/^\d+(\.\d+)?s$/.test(arg)) {
			fault.retryDelay = arg;
		} else if (/^\d+$/.test(arg)) {
			fault.ms = Number(arg);
		} else if (fault.kind === 'prompt-block') {
			fault.blockReason = arg;
		} else if (fault.kind === 'replay') {
			fault.file = arg;
		} else if (fault.kind === 'text-only') {
			fault.text = arg;
		} else {
			throw new Error(`Cannot read fault argument "${arg}" in ${spec}`);
		}
	}
	return fault;
}

const DIRECTIVE = /\[\[sim:([^\]]+)\]\]/;

/** The first [[sim:...]] directive in the text of the last user turn. */
export function findDirective(body: unknown): Fault | undefined {
	const contents = (body as GenerateRequest | undefined)?.contents;
	if (!Array.isArray(contents)) return undefined;
	const lastUser = [...contents].reverse().find((c) => c && (c.role ?? 'user') === 'user');
	for (const part of lastUser?.parts ?? []) {
		const match = typeof part?.text === 'string' ? DIRECTIVE.exec(part.text) : null;
		if (!match) continue;
		try {
			return parseFault(match[1]);
		} catch {
			return undefined; // an unreadable directive is just prompt text
		}
	}
	return undefined;
}

/** A small seeded generator (mulberry32), so random-fault runs can be repeated. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export const DEFAULT_REFUSAL =
	"I can't create images of real people, or images that could be mistaken for them. " +
	'I can help with an illustration or a fictional character instead.';

export const IMAGE_SAFETY_MESSAGE =
	"Unable to show the generated image. The image was filtered out because it violated Google's Generative AI " +
	'Prohibited Use policy. You will not be charged for blocked images. Try rephrasing the prompt. If you think this ' +
	'was an error, send feedback.';

/** The candidate list (or prompt feedback) of a content fault; usage and ids are added by the caller. */
export function contentFaultBody(
	fault: Fault,
	textSignature?: (text: string) => string,
): Record<string, unknown> {
	switch (fault.kind) {
		case 'prompt-block':
			return { promptFeedback: { blockReason: fault.blockReason ?? 'PROHIBITED_CONTENT' } };
		case 'image-safety':
			return {
				candidates: [
					{ finishReason: 'IMAGE_SAFETY', finishMessage: IMAGE_SAFETY_MESSAGE, index: 0 },
				],
			};
		case 'no-image':
			return { candidates: [{ content: {}, finishReason: 'NO_IMAGE', index: 0 }] };
		case 'text-only': {
			const text = fault.text ?? DEFAULT_REFUSAL;
			const part: Record<string, unknown> = { text };
			if (textSignature) part.thoughtSignature = textSignature(text);
			return {
				candidates: [{ content: { parts: [part], role: 'model' }, finishReason: 'STOP', index: 0 }],
			};
		}
		case 'no-content':
			return { candidates: [{ finishReason: 'STOP', index: 0 }] };
		default:
			throw new Error(`${fault.kind} is not a content fault`);
	}
}
