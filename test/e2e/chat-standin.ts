/**
 * A stand-in for an OpenAI-compatible chat model: n8n's OpenAI Chat Model node, pointed at it by
 * the credential's Base URL, gets scripted tool calls instead of a model's. Which script runs is
 * named in the agent's prompt (`script:<name>`); each step picks a tool by name pattern and makes
 * its arguments from what the tools returned so far. Every tool result is recorded as the model
 * saw it. Plain HTTP on 127.0.0.1; no key is checked.
 */
import { createServer } from 'http';
import type { IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo } from 'net';

export interface SeenResult {
	script: string;
	tool: string;
	/** The tool message content exactly as the model received it. */
	content: string;
}

export interface ScriptStep {
	/** Matched against the names of the tools the agent offers. */
	tool: RegExp;
	args: (seen: SeenResult[]) => Record<string, unknown>;
}

interface ChatMessage {
	role: string;
	content?: string | Array<{ type: string; text?: string }> | null;
	tool_calls?: Array<{ id: string; function: { name: string } }>;
	tool_call_id?: string;
}

const textOf = (content: ChatMessage['content']) =>
	typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join('');

/** The last image reference in a text, as a model would copy it from a tool result. */
export const lastRef = (text: string): string | undefined =>
	text.match(/nbimg:[a-z0-9-]+:[A-Za-z0-9_-]+:[0-9a-f-]{36}/gi)?.pop();

export class ChatStandIn {
	readonly seen: SeenResult[] = [];
	readonly toolsOffered = new Map<string, string[]>();
	private server?: Server;

	constructor(private readonly scripts: Record<string, ScriptStep[]>) {}

	get url(): string {
		return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
	}

	async start(): Promise<void> {
		this.server = createServer((req, res) => void this.handle(req, res));
		await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
	}

	async stop(): Promise<void> {
		await new Promise((resolve) => this.server?.close(resolve));
	}

	results(script: string): SeenResult[] {
		return this.seen.filter((s) => s.script === script);
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		if (req.method === 'GET' && req.url?.endsWith('/models')) {
			json(res, { object: 'list', data: [{ id: 'gpt-standin', object: 'model' }] });
			return;
		}
		if (!req.url?.endsWith('/chat/completions')) {
			res.writeHead(404).end();
			return;
		}
		const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
			messages: ChatMessage[];
			tools?: Array<{ function: { name: string } }>;
			stream?: boolean;
		};
		const script = /script:(\w+)/.exec(body.messages.map((m) => textOf(m.content)).join('\n'))?.[1];
		const steps = script ? this.scripts[script] : undefined;
		if (!script || !steps) {
			json(res, { error: { message: 'no script named in the prompt' } }, 400);
			return;
		}
		const names = (body.tools ?? []).map((t) => t.function.name);
		this.toolsOffered.set(script, names);
		// Record the tool results of the last turn, in order.
		const calls = new Map<string, string>();
		for (const message of body.messages)
			for (const call of message.tool_calls ?? []) calls.set(call.id, call.function.name);
		const answered = body.messages.filter((m) => m.role === 'tool');
		const done = this.results(script).length;
		for (const message of answered.slice(done)) {
			this.seen.push({
				script,
				tool: calls.get(message.tool_call_id ?? '') ?? '?',
				content: textOf(message.content),
			});
		}
		const step = steps[answered.length];
		const message = step
			? {
					role: 'assistant',
					content: null,
					tool_calls: [
						{
							id: `call_${script}_${answered.length}`,
							type: 'function',
							function: {
								name: names.find((name) => step.tool.test(name)) ?? `no tool like ${step.tool}`,
								arguments: JSON.stringify(step.args(this.results(script))),
							},
						},
					],
				}
			: {
					role: 'assistant',
					content: `Done. Last image: ${
						lastRef(
							this.results(script)
								.map((s) => s.content)
								.join('\n'),
						) ?? 'none'
					}`,
				};
		if (body.stream) stream(res, message);
		else
			json(res, {
				id: `chatcmpl-${Date.now()}`,
				object: 'chat.completion',
				created: Math.floor(Date.now() / 1000),
				model: 'gpt-standin',
				choices: [
					{ index: 0, message, finish_reason: step ? 'tool_calls' : 'stop', logprobs: null },
				],
				usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
			});
	}
}

function json(res: ServerResponse, value: unknown, status = 200): void {
	res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** The same answer as server-sent events, for a client that asks to stream. */
function stream(res: ServerResponse, message: Record<string, unknown>): void {
	res.writeHead(200, { 'content-type': 'text/event-stream' });
	const base = {
		id: `chatcmpl-${Date.now()}`,
		object: 'chat.completion.chunk',
		model: 'gpt-standin',
	};
	const calls = (message.tool_calls as Array<Record<string, unknown>> | undefined)?.map(
		(c, index) => ({
			index,
			...c,
		}),
	);
	const delta = calls
		? { role: 'assistant', tool_calls: calls }
		: { role: 'assistant', content: message.content };
	res.write(
		`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`,
	);
	res.write(
		`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: calls ? 'tool_calls' : 'stop' }] })}\n\n`,
	);
	res.end('data: [DONE]\n\n');
}
