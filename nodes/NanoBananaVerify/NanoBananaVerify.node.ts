import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { asTool, verifyToolResult } from '../shared/skeleton/tool';
import { nanoBananaCredentialTest } from '../shared/skeleton/methods/credentialTest';
import { searchJudgeModels } from '../shared/skeleton/methods/listSearch';
import { description } from './verify.description';
import * as verify from './verify.operation';

export class NanoBananaVerify implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Nano Banana Verify',
		name: 'nanoBananaVerify',
		icon: { light: 'file:nanoBananaVerify.svg', dark: 'file:nanoBananaVerify.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["aiJudge"] ? "AI judge and local checks" : "local checks"}}',
		description:
			'Check generated images with an AI judge (prompt adherence, subject, text, rules) and local checks (size, format, similarity, C2PA/IPTC provenance), then route them to Pass or Fail',
		defaults: { name: 'Nano Banana Verify' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Pass', 'Fail'],
		// As a tool the model reads this, not the node's description.
		usableAsTool: {
			replacements: {
				description:
					'Check an image: does it show what the prompt asks for. Name the image by the ref an earlier tool call returned (nbimg:...) or an http(s) URL. Returns JSON { pass, scores, reasons }.',
			},
		},
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [
			{
				name: 'nanoBananaApi',
				required: true,
				testedBy: 'nanoBananaCredentialTest',
				displayOptions: { show: { aiJudge: [true] } },
			},
		],
		properties: description,
	};

	methods = { listSearch: { searchJudgeModels }, credentialTest: { nanoBananaCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await asTool(this, 2, async () => await verify.execute.call(this), verifyToolResult);
	}
}
