import { NodeConnectionTypes } from 'n8n-workflow';
import type { INodeType, INodeTypeDescription } from 'n8n-workflow';

import { IMAGE_NODE_VERSIONS } from '../shared/descriptions';
import { imageNodeExecute, imageNodeMethods } from '../shared/skeleton/imageNode';
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
		// As a tool the model reads this, not the node's description.
		usableAsTool: {
			replacements: {
				description:
					'Make an image from a text prompt. Returns JSON with images[].ref: pass that ref to the Edit, Fuse or Verify tools to work on the image. Errors come back as ok:false with a hint on what to change.',
			},
		},
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = imageNodeMethods();

	execute = imageNodeExecute(generate.execute);
}
