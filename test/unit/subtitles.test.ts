/**
 * What each node shows under its name on the canvas. The editor evaluates `subtitle` as a JavaScript
 * expression over the node's parameters as stored (unevaluated), so it is evaluated the same way here.
 */
import type { INodeType } from 'n8n-workflow';

import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';

function subtitleOf(node: INodeType, parameters: Record<string, unknown>): string {
	const expression = /^=\{\{(.*)\}\}$/s.exec(String(node.description.subtitle))?.[1];
	if (!expression) throw new Error(`${node.description.name} has no subtitle expression`);
	return String(new Function('$parameter', `return (${expression});`)(parameters));
}

const locator = (value: string) => ({ __rl: true, mode: 'list', value, cachedResultName: value });

describe('canvas subtitles', () => {
	it('Generate shows the model, given as a resource locator or as its id', () => {
		expect(subtitleOf(new NanoBananaGenerate(), { model: locator('gemini-3-pro-image') })).toBe(
			'gemini-3-pro-image',
		);
		expect(subtitleOf(new NanoBananaGenerate(), { model: 'gemini-3.1-flash-image' })).toBe(
			'gemini-3.1-flash-image',
		);
	});

	it('Generate, Edit and Fuse add the mode when it is Batch', () => {
		const batch = { executionMode: 'batch' };
		expect(
			subtitleOf(new NanoBananaGenerate(), { model: locator('gemini-3.1-flash-image'), ...batch }),
		).toBe('gemini-3.1-flash-image · batch');
		expect(subtitleOf(new NanoBananaEdit(), { mode: 'instruction', ...batch })).toBe(
			'all at once · batch',
		);
		expect(subtitleOf(new NanoBananaFuse(), { source: 'allItems', ...batch })).toBe(
			'all items together · batch',
		);
		expect(subtitleOf(new NanoBananaEdit(), { mode: 'steps', executionMode: 'realtime' })).toBe(
			'step by step',
		);
	});

	it('Verify names its checks', () => {
		expect(subtitleOf(new NanoBananaVerify(), { aiJudge: true })).toBe('AI judge and local checks');
		expect(subtitleOf(new NanoBananaVerify(), { aiJudge: false })).toBe('local checks');
	});

	it('Batch Results names a typed job, and does not print its default expression', () => {
		const node = new NanoBananaBatchResults();
		const jobName = node.description.properties.find((p) => p.name === 'jobName')?.default;
		expect(subtitleOf(node, { jobName })).toBe('job from the input item');
		expect(subtitleOf(node, { jobName: 'batches/abc123' })).toBe('batches/abc123');
	});
});
