import { NodeConnectionTypes } from 'n8n-workflow';
import type { INodeType, INodeTypeDescription } from 'n8n-workflow';

import { IMAGE_NODE_VERSIONS } from '../shared/descriptions';
import { imageNodeExecute, imageNodeMethods } from '../shared/skeleton/imageNode';
import { description } from './fuse.description';
import * as fuse from './fuse.operation';

export class NanoBananaFuse implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Nano Banana Fuse',
		name: 'nanoBananaFuse',
		icon: { light: 'file:nanoBananaFuse.svg', dark: 'file:nanoBananaFuse.dark.svg' },
		group: ['transform'],
		...IMAGE_NODE_VERSIONS,
		subtitle:
			'={{ ($parameter["source"] === "allItems" ? "all items together" : "each item") + ($parameter["executionMode"] === "batch" ? " · batch" : "") }}',
		description:
			'Combine several images into one with Google Gemini image models: a product in a scene, a garment on a person, a logo, a person and a background',
		defaults: { name: 'Nano Banana Fuse' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// As a tool the model reads this, not the node's description.
		usableAsTool: {
			replacements: {
				description:
					'Combine several images into one (e.g. a product placed into a scene). Name the images by refs earlier tool calls returned (nbimg:...) or http(s) URLs, separated by commas. Returns JSON with images[].ref. Errors come back as ok:false with a hint.',
			},
		},
		// Literal names: the community lint checks that every use of the credential names its test.
		credentials: [{ name: 'nanoBananaApi', required: true, testedBy: 'nanoBananaCredentialTest' }],
		properties: description,
	};

	methods = imageNodeMethods();

	execute = imageNodeExecute(fuse.execute);
}
