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
import { description } from './edit.description';
import * as edit from './edit.operation';

export class NanoBananaEdit implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Nano Banana Edit',
		name: 'nanoBananaEdit',
		icon: { light: 'file:nanoBananaEdit.svg', dark: 'file:nanoBananaEdit.dark.svg' },
		group: ['transform'],
		...IMAGE_NODE_VERSIONS,
		subtitle:
			'={{ ($parameter["mode"] === "steps" ? "step by step" : "all at once") + ($parameter["executionMode"] === "batch" ? " · batch" : "") }}',
		description:
			'Edit an image with instructions using Google Gemini image models, in one go or step by step, keeping the subject',
		defaults: { name: 'Nano Banana Edit' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = { listSearch: { searchImageModels }, credentialTest: { nanoBananaCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await edit.execute.call(this);
	}
}
