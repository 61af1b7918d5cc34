import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * Recorded answers for the 'replay' fault. Understands the js-genai replay recordings
 * ({interactions:[{response:{statusCode, bodySegments}}]}), SSE chunk files (data: lines)
 * and plain response or error bodies.
 */

export interface Recording {
	status: number;
	/** The body, or the stream's chunks in order. */
	chunks: Array<Record<string, unknown>>;
}

export function loadRecording(file: string, fixturesDir: string): Recording {
	const path = resolveFile(file, fixturesDir);
	const text = readFileSync(path, 'utf8');
	if (/^\s*data:/.test(text)) {
		const chunks = text
			.split(/\r?\n/)
			.filter((line) => line.startsWith('data:'))
			.map((line) => JSON.parse(line.slice(5).trim()) as Record<string, unknown>);
		return { status: 200, chunks };
	}
	const json = JSON.parse(text) as Record<string, unknown>;
	const interactions = json.interactions as Array<{
		response: { statusCode: number; bodySegments: unknown[] };
	}>;
	if (Array.isArray(interactions) && interactions[0]?.response) {
		const { statusCode, bodySegments } = interactions[0].response;
		return { status: statusCode, chunks: bodySegments as Array<Record<string, unknown>> };
	}
	const error = json.error as { code?: number } | undefined;
	return { status: typeof error?.code === 'number' ? error.code : 200, chunks: [json] };
}

function resolveFile(file: string, fixturesDir: string): string {
	const candidates = isAbsolute(file)
		? [file]
		: [join(fixturesDir, file), join(fixturesDir, `${file}.json`)];
	const found = candidates.find((candidate) => existsSync(candidate));
	if (!found) throw new Error(`No recording named ${file} in ${fixturesDir}`);
	return found;
}

type Part = Record<string, unknown>;
type Candidate = {
	content?: { parts?: Part[]; role?: string };
	finishReason?: string;
	index?: number;
} & Part;

/** Joins stream chunks into the one response a non-streaming call would have had. */
export function mergeChunks(chunks: Array<Record<string, unknown>>): Record<string, unknown> {
	if (chunks.length === 1) return chunks[0];
	const merged: Record<string, unknown> = {};
	const parts: Part[] = [];
	let candidate: Candidate | undefined;
	for (const chunk of chunks) {
		for (const [key, value] of Object.entries(chunk)) if (key !== 'candidates') merged[key] = value;
		const next = (chunk.candidates as Candidate[] | undefined)?.[0];
		if (!next) continue;
		candidate = { ...candidate, ...next };
		for (const part of next.content?.parts ?? []) appendPart(parts, part);
	}
	if (candidate) {
		merged.candidates = [
			{ ...candidate, content: { parts, role: candidate.content?.role ?? 'model' } },
		];
	}
	return merged;
}

/** Plain text pieces of a stream belong to one text part. */
function appendPart(parts: Part[], part: Part) {
	const last = parts[parts.length - 1];
	const plainText = (p: Part | undefined) =>
		p !== undefined && typeof p.text === 'string' && Object.keys(p).length === 1;
	if (plainText(last) && plainText(part)) {
		parts[parts.length - 1] = { text: (last.text as string) + (part.text as string) };
	} else {
		parts.push(part);
	}
}
