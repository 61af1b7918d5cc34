import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, JsonObject } from 'n8n-workflow';

import { GeminiFailure } from './transport';

/** Appends the item to the message, so an error read out of context still says which item failed. */
export function forItem(message: string, itemIndex: number): string {
	return `${message} (item ${itemIndex})`;
}

/** Anything an item task throws, as the NodeApiError / NodeOperationError n8n expects, with itemIndex. */
export function toNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		return error;
	}
	const node = ctx.getNode();
	if (error instanceof GeminiFailure) {
		const retried = error.attempts > 1 ? ` Tried ${error.attempts} times.` : '';
		const apiError = new NodeApiError(
			node,
			{ message: error.message, reason: error.reason ?? null, httpCode: error.httpCode ?? null } as JsonObject,
			{
				message: forItem(error.message, itemIndex),
				description: `${error.description}${retried}`,
				httpCode: error.httpCode !== undefined ? String(error.httpCode) : undefined,
				itemIndex,
			},
		);
		apiError.context.reason = error.reason;
		apiError.context.kind = error.kind;
		return apiError;
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, forItem(message, itemIndex), { itemIndex });
}
