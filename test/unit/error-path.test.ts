/**
 * The one error path: what a thrower attaches with `withContext` is applied by the runner's
 * conversion (`nodeErrorOf`), once per conversion of a raw failure and once in all for an error
 * that is already a node error, however many items share it.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions, INode } from 'n8n-workflow';

import { withContext } from '../../nodes/shared/pipeline/errors';
import { nodeErrorOf } from '../../nodes/shared/pipeline/runner';
import { GeminiFailure } from '../../nodes/shared/transport';

const node: INode = {
	id: 'n1',
	name: 'Nano Banana Generate',
	type: 'n8n-nodes-nano-banana-studio.nanoBananaGenerate',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
// The conversion reads only the node from n8n's context.
const ctx = { getNode: () => node } as unknown as IExecuteFunctions;

const refused = () =>
	new GeminiFailure({
		kind: 'http',
		message: 'Gemini refused this request',
		description: 'Correct the request.',
		httpCode: 400,
		reason: 'INVALID_ARGUMENT',
		retryable: false,
	});

describe('withContext, applied by the conversion', () => {
	it("labels a raw failure with the items it names, not the task's own", () => {
		const error = nodeErrorOf(ctx, withContext(refused(), { items: [0, 1, 2, 3] }), [2]);
		expect(error.message).toBe('Gemini refused this request (item 0 and items 1-3)');
		expect(error.context.itemIndex).toBe(2);
		expect((error as { httpCode?: string }).httpCode).toBe('400');
	});

	it('says what the failure is about before the label, or in place of it', () => {
		const about = 'request item1 of batches/abc';
		expect(nodeErrorOf(ctx, withContext(refused(), { about }), [1]).message).toBe(
			`Gemini refused this request (${about}) (item 1)`,
		);
		const collected = withContext(refused(), { about: `${about}, from item 1`, items: [] });
		expect(nodeErrorOf(ctx, collected, [0]).message).toBe(
			`Gemini refused this request (${about}, from item 1)`,
		);
	});

	it('applies a prefix and context fields to every conversion of a raw failure', () => {
		const failure = withContext(refused(), {
			prefix: 'Step 2 ("Smile") failed: ',
			context: { failedStep: 2 },
		});
		const [first, second] = [nodeErrorOf(ctx, failure, [0]), nodeErrorOf(ctx, failure, [1])];
		expect(first).not.toBe(second);
		expect(first.message).toBe('Step 2 ("Smile") failed: Gemini refused this request (item 0)');
		expect(second.message).toBe('Step 2 ("Smile") failed: Gemini refused this request (item 1)');
		expect([first.context.failedStep, second.context.failedStep]).toEqual([2, 2]);
	});

	it('applies them once to a node error that several items share, and keeps its own label', () => {
		const shared = new NodeOperationError(node, 'This step would send too much (item 0)');
		withContext(shared, { prefix: 'Step 3 ("Add a lamp.") failed: ', items: [0, 1] });
		nodeErrorOf(ctx, shared, [0]);
		const again = nodeErrorOf(ctx, shared, [1]);
		expect(again).toBe(shared);
		expect(again.message).toBe(
			'Step 3 ("Add a lamp.") failed: This step would send too much (item 0)',
		);
		expect(again.context.itemIndex).toBe(0);
	});

	it('carries a thrown string as an Error with the same message', () => {
		const carried = withContext('the disk is full', { prefix: 'Step 1 ("x") failed: ' });
		expect(carried).toBeInstanceOf(Error);
		expect(nodeErrorOf(ctx, carried, [4]).message).toBe(
			'Step 1 ("x") failed: the disk is full (item 4)',
		);
	});
});
