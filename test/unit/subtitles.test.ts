/**
 * What each node shows under its name on the canvas, evaluated as the editor does it: n8n-workflow's
 * expression engine over a workflow holding the node. `$parameter` there resolves a resource locator to its
 * value and evaluates a parameter that is itself an expression, which throws when it reads input data
 * the canvas does not have.
 */
import { Workflow, type INodeType, type INodeTypes } from 'n8n-workflow';

import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';

function subtitleOf(node: INodeType, parameters: Record<string, unknown>): string {
	const nodeTypes = {
		getByName: () => node,
		getByNameAndVersion: () => node,
		getKnownTypes: () => ({}),
	} as unknown as INodeTypes;
	const workflow = new Workflow({
		nodes: [
			{
				id: '1',
				name: 'Node',
				type: `n8n-nodes-nano-banana-studio.${node.description.name}`,
				typeVersion: 1,
				position: [0, 0],
				parameters: parameters as never,
			},
		],
		connections: {},
		active: false,
		nodeTypes,
	});
	const subtitle = workflow.expression.getSimpleParameterValue(
		workflow.nodes.Node,
		String(node.description.subtitle),
		'internal',
		{},
	);
	return String(subtitle);
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

	it('Batch Results names a typed job, and its default expression, which needs input the canvas lacks', () => {
		const node = new NanoBananaBatchResults();
		const jobName = node.description.properties.find((p) => p.name === 'jobName')?.default;
		expect(subtitleOf(node, { jobName })).toBe('job from the input item');
		expect(subtitleOf(node, { jobName: 'batches/abc123' })).toBe('batches/abc123');
	});
});
