import type { INodeProperties } from 'n8n-workflow';

import { MODELS, modelsWith } from '../shared/catalogue';
import {
	executionModeParameters,
	aspectRatioParameter,
	generationOptions,
	imageSizeParameter,
	inputOptions,
	modelParameters,
	numberOfImagesParameter,
	optionsCollection,
	outputOptions,
	promptParameter,
	filledByModel,
	requestOptions,
	spendOptions,
} from '../shared/descriptions';

export const EACH_ITEM = 'eachItem';
export const ALL_ITEMS = 'allItems';
export const SAME_AS_IMAGE = 'sameAsImage';

const imageTypeOptions = [
	{ name: 'Not Set', value: 'unset' },
	{
		name: 'Character',
		value: 'character',
		description: 'A person or figure whose look must stay the same',
	},
	{
		name: 'Object',
		value: 'object',
		description: 'A product, garment, logo or other thing to keep at high fidelity',
	},
];
const consistencyLimits = MODELS.filter((m) => m.maxCharacterImages !== undefined)
	.map((m) => `${m.name} up to ${m.maxCharacterImages} characters and ${m.maxObjectImages} objects`)
	.join(', ');
const imageTypeDescription = `Said to the model with the label. Models keep a limited number consistent (${consistencyLimits}); more are refused before any paid call.`;

/** "14 for Nano Banana 2 and Nano Banana Pro, 3 for Nano Banana". */
const referenceLimits = [...new Set(MODELS.map((m) => m.maxReferenceImages))]
	.sort((a, b) => b - a)
	.map((limit) => `${limit} for ${modelsWith((m) => m.maxReferenceImages === limit)}`)
	.join(', ');

const fuseOptions: INodeProperties[] = [
	{
		displayName: 'Max Images',
		name: 'maxImages',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: `Refuse a request with more images than this, rather than pay for an unexpected one. 0: only the model's own limit (${referenceLimits}).`,
	},
];

export const description: INodeProperties[] = [
	...modelParameters,
	{
		displayName: 'Source',
		name: 'source',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Binary Properties of Each Item',
				value: EACH_ITEM,
				description: 'Each item carries all its images; one request per item',
			},
			{
				name: 'All Input Items Together',
				value: ALL_ITEMS,
				description:
					'Gather the images of every input item, in item order, into one request (e.g. after a Merge node). The other parameters are read from the first item.',
			},
		],
		default: EACH_ITEM,
	},
	{
		displayName: 'Images',
		name: 'imageProperties',
		type: 'options',
		options: [
			{ name: 'Named Binary Properties', value: 'named' },
			{
				name: 'All Binary Properties',
				value: 'all',
				description: 'Every binary property of the item, in the order they appear',
			},
		],
		default: 'named',
	},
	...filledByModel(
		{
			displayName: 'Input Binary Properties',
			name: 'binaryPropertyNames',
			type: 'string',
			default: 'data',
			required: true,
			placeholder: 'e.g. product, room',
			description:
				'Names of the binary properties holding the images, separated by commas, in the order they are sent (image 1, image 2, …). An image may also be named by its reference (nbimg:…) from an earlier Nano Banana node of this run, or by an http(s) URL.',
			displayOptions: { show: { imageProperties: ['named'] } },
		},
		'images',
		'The images to combine, separated by commas, in order (image 1, image 2, ...): each the ref (nbimg:...) an earlier Nano Banana tool call of this run returned, or an http(s) URL of an image file',
	),
	{
		displayName: 'Labels',
		name: 'imageLabels',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Label',
		description:
			'Tell the model which image is which: each label is sent just before its image, e.g. "Image 2 (the product):", so the prompt can say "put the product into the room"',
		displayOptions: { show: { source: [EACH_ITEM] } },
		options: [
			{
				displayName: 'Label',
				name: 'values',
				values: [
					{
						displayName: 'Binary Property',
						name: 'binaryProperty',
						type: 'string',
						default: '',
						placeholder: 'e.g. product',
					},
					{
						displayName: 'Label',
						name: 'label',
						type: 'string',
						default: '',
						placeholder: 'e.g. the product',
					},
					{
						displayName: 'Image Type',
						name: 'imageType',
						type: 'options',
						options: imageTypeOptions,
						default: 'unset',
						description: imageTypeDescription,
					},
				],
			},
		],
	},
	{
		displayName: 'Label',
		name: 'label',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.role }}',
		description:
			'Label of the item\'s images, worked out for each item, e.g. "the product". Sent just before each image, e.g. "Image 2 (the product):". Empty: the image is only numbered.',
		displayOptions: { show: { source: [ALL_ITEMS] } },
	},
	{
		displayName: 'Image Type',
		name: 'imageType',
		type: 'options',
		options: imageTypeOptions,
		default: 'unset',
		description: 'Worked out for each item. ' + imageTypeDescription,
		displayOptions: { show: { source: [ALL_ITEMS] } },
	},
	...filledByModel(
		promptParameter(
			'What to make of the images. Refer to them by number or label.',
			'e.g. Place the product from image 1 naturally into the room of image 2',
		),
		'prompt',
		'What to make of the images; refer to them as image 1, image 2, ... in the order given',
	),
	aspectRatioParameter(
		{
			name: 'Auto (Model Default)',
			value: 'auto',
			description: 'The model decides; it usually follows the first image',
		},
		{
			name: 'Same as Image N',
			value: SAME_AS_IMAGE,
			description: 'The supported ratio closest to the shape of the image chosen below',
		},
	),
	{
		displayName: 'Image Number',
		name: 'sameAsImage',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 1,
		description:
			"Which image's shape the output follows, counted from 1 in the order the images are sent",
		displayOptions: { show: { aspectRatio: [SAME_AS_IMAGE] } },
	},
	imageSizeParameter,
	numberOfImagesParameter,
	...executionModeParameters,
	optionsCollection(
		generationOptions,
		outputOptions,
		requestOptions,
		spendOptions,
		inputOptions,
		fuseOptions,
	),
];
