import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, JsonObject } from 'n8n-workflow';

import { GeminiFailure } from '../transport';

/**
 * Appends the item to the message, so an error read out of context still says which item failed.
 */
export function forItem(message: string, itemIndex: number): string {
	return `${message} (item ${itemIndex})`;
}

/**
 * An error about one item's input or settings: the message names the item, the description the
 * cure.
 */
export function itemError(
	ctx: IExecuteFunctions,
	itemIndex: number,
	message: string,
	description?: string,
): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), forItem(message, itemIndex), {
		itemIndex,
		description,
	});
}

/**
 * The same for a request made from several items, the first of them the error's itemIndex:
 * `(item 0 and items 1-3)` or `(item 0 and items 2, 5)`. n8n's editor adds `[item N]` to a
 * message that does not say `item N` already: naming the first item so keeps the label single.
 */
export function forItems(message: string, itemIndices: number[]): string {
	const [first, ...rest] = itemIndices;
	if (!rest.length) return forItem(message, first);
	const consecutive = rest.every((item, n) => n === 0 || item === rest[n - 1] + 1);
	const list =
		rest.length === 1
			? `item ${rest[0]}`
			: `items ${consecutive ? `${rest[0]}-${rest[rest.length - 1]}` : rest.join(', ')}`;
	return `${message} (item ${first} and ${list})`;
}

/**
 * What a failure is about beyond the task it failed in, known only where it is thrown. The thrower
 * attaches it with `withContext`; the runner's conversion (`toNodeError`) applies it, so a failure
 * is converted once, in one place.
 */
export interface FailureContext {
	/** Put before the message: the step of several that failed (Edit). */
	prefix?: string;
	/** Said in brackets after the message, before the item label: the request of a batch job. */
	about?: string;
	/**
	 * The items the label names, when not the task's own: every item of a batch job that could not
	 * be sent. `[]`: no label, as `about` names them (a collected result, whose task is Collect's).
	 */
	items?: number[];
	/** Added to the node error's context: Edit's failedStep. */
	context?: IDataObject;
}

const CONTEXT = Symbol('failure context');

type WithContext = { [CONTEXT]?: FailureContext };

/**
 * Attaches what the failure is about to the error, for the runner to apply when it converts it;
 * returns the error (a thrown string or number as an Error, which can carry it).
 */
export function withContext(error: unknown, context: FailureContext): object {
	const carrier = (
		error && typeof error === 'object' ? error : new Error(String(error))
	) as WithContext;
	const before = carrier[CONTEXT];
	carrier[CONTEXT] = {
		...before,
		...context,
		context: { ...before?.context, ...context.context },
	};
	return carrier;
}

/**
 * Anything an item task throws, as the NodeApiError / NodeOperationError n8n expects, with
 * itemIndex and what the thrower attached (`withContext`). Called by the runner only.
 * `requestItems`: the items one request was made from, when there are several, for the message.
 */
export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	requestItems?: number[],
): NodeApiError | NodeOperationError {
	const attached = (error as WithContext | undefined)?.[CONTEXT] ?? {};
	const items = attached.items ?? requestItems;
	const where = (message: string) => {
		const said = attached.about ? `${message} (${attached.about})` : message;
		if (!items) return forItem(said, itemIndex);
		return items.length ? forItems(said, items) : said;
	};
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		// Already a node error, naming its item: converted in place, so what is attached is applied
		// once, however many items share it.
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		delete (error as WithContext)[CONTEXT];
		return applied(error, attached);
	}
	return applied(convert(ctx, error, itemIndex, where), attached);
}

/** The prefix and context fields of what the thrower attached. */
function applied<E extends NodeApiError | NodeOperationError>(
	nodeError: E,
	attached: FailureContext,
): E {
	if (attached.prefix) nodeError.message = `${attached.prefix}${nodeError.message}`;
	Object.assign(nodeError.context, attached.context);
	return nodeError;
}

/** A raw failure as a node error; `where` labels its message. */
function convert(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	where: (message: string) => string,
): NodeApiError | NodeOperationError {
	const node = ctx.getNode();
	if (error instanceof GeminiFailure) {
		const retried = error.attempts > 1 ? ` Tried ${error.attempts} times.` : '';
		const waited =
			error.quotaWaitMs >= 1000
				? ` Waited ${Math.round(error.quotaWaitMs / 1000)} s for quota.`
				: '';
		const apiError = new NodeApiError(
			node,
			{
				message: error.message,
				reason: error.reason ?? null,
				httpCode: error.httpCode ?? null,
			} as JsonObject,
			{
				message: where(error.message),
				description: `${error.description}${retried}${waited}`,
				httpCode: error.httpCode !== undefined ? String(error.httpCode) : undefined,
				itemIndex,
			},
		);
		// n8n swaps a message that mentions ECONNREFUSED & co. for its generic one; ours says more.
		apiError.message = where(error.message);
		apiError.context.reason = error.reason;
		apiError.context.kind = error.kind;
		return apiError;
	}
	const message = error instanceof Error ? error.message : String(error);
	const operationError = new NodeOperationError(node, where(message), { itemIndex });
	operationError.message = where(message);
	return operationError;
}
