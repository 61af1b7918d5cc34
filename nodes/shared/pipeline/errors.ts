import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, JsonObject } from 'n8n-workflow';

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
 * Anything an item task throws, as the NodeApiError / NodeOperationError n8n expects, with
 * itemIndex.
 * `requestItems`: the items one request was made from, when there are several, for the message.
 */
export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	requestItems?: number[],
): NodeApiError | NodeOperationError {
	const where = (message: string) =>
		requestItems ? forItems(message, requestItems) : forItem(message, itemIndex);
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		return error;
	}
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
