import { NodeConnectionTypes } from 'n8n-workflow';
import type { INodeType, INodeTypeDescription } from 'n8n-workflow';

import { IMAGE_NODE_VERSIONS } from '../shared/descriptions';
import { imageNodeExecute, imageNodeMethods } from '../shared/skeleton/imageNode';
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
		// As a tool the model reads this, not the node's description.
		usableAsTool: {
			replacements: {
				description:
					'Edit an image by instruction, keeping its subject. Name the image by the ref an earlier tool call returned (nbimg:...) or an http(s) URL. Returns JSON with images[].ref of the edited image. Errors come back as ok:false with a hint.',
			},
		},
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = imageNodeMethods();

	execute = imageNodeExecute(edit.execute);
}
