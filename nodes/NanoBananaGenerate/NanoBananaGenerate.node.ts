import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { IMAGE_NODE_VERSIONS } from '../shared/descriptions';
import { nanoBananaCredentialTest } from '../shared/methods/credentialTest';
import { searchImageModels } from '../shared/methods/listSearch';
import { description } from './generate.description';
import * as generate from './generate.operation';

export class NanoBananaGenerate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Nano Banana Generate',
		name: 'nanoBananaGenerate',
		icon: { light: 'file:nanoBananaGenerate.svg', dark: 'file:nanoBananaGenerate.dark.svg' },
		group: ['transform'],
		...IMAGE_NODE_VERSIONS,
		// The model may reach the subtitle as the resource locator or as its id: show the id either
		// way, and the mode when it is Batch.
		subtitle:
			'={{ (typeof $parameter["model"] === "object" ? ($parameter["model"].cachedResultName || $parameter["model"].value) : $parameter["model"]) + ($parameter["executionMode"] === "batch" ? " · batch" : "") }}',
		description:
			'Create images from text with Google Gemini image models (Nano Banana 2, Nano Banana Pro)',
		defaults: { name: 'Nano Banana Generate' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = { listSearch: { searchImageModels }, credentialTest: { nanoBananaCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await generate.execute.call(this);
	}
}
