import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { nanoBananaCredentialTest } from '../shared/skeleton/methods/credentialTest';
import * as collect from './collect.operation';
import { description } from './collect.description';

// Not an AI Agent tool: collecting a batch job may wait for hours, longer than any tool call.
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class NanoBananaBatchResults implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Nano Banana Batch Results',
		name: 'nanoBananaBatchResults',
		icon: {
			light: 'file:nanoBananaBatchResults.svg',
			dark: 'file:nanoBananaBatchResults.dark.svg',
		},
		group: ['transform'],
		version: 1,
		// The editor evaluates an expression in $parameter, and the default one throws there (no input
		// yet): name it rather than lose the subtitle. A typed job name is shown.
		subtitle:
			'={{ (() => { let job; try { job = $parameter["jobName"]; } catch { return "job from the input item"; } return job === undefined || String(job).startsWith("=") ? "job from the input item" : job; })() }}',
		description:
			'Collect the images of a Nano Banana batch job (Batch mode, Submit Only): one item per request, paired by key',
		defaults: { name: 'Nano Banana Batch Results' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = { credentialTest: { nanoBananaCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await collect.execute.call(this);
	}
}
