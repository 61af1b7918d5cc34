import type { INodeProperties } from 'n8n-workflow';

import {
	executionModeParameters,
	aspectRatioParameter,
	generationOptions,
	imageSizeParameter,
	inputOptions,
	modelParameters,
	optionsCollection,
	outputOptions,
	requestOptions,
	spendOptions,
	filledByModel,
	inputImageParameter,
} from '../shared/descriptions';

const editOptions: INodeProperties[] = [
	{
		displayName: 'Mask Binary Property',
		name: 'maskBinaryProperty',
		type: 'string',
		default: '',
		placeholder: 'e.g. mask',
		description:
			'Region lock: a black-and-white image on the item. White may change, black stays bit-identical to the original. Empty: no mask.',
	},
	{
		displayName: 'Mask Feather (Px)',
		name: 'maskFeatherPx',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			'Soften the edge of the white area over this many pixels, inside the white area only',
	},
	{
		displayName: 'Output Step Images',
		name: 'outputStepImages',
		type: 'boolean',
		default: true,
		description:
			"Whether to keep each step's image as binary step1, step2, …. These are what a later Edit node needs to continue the conversation.",
	},
];

export const description: INodeProperties[] = [
	...modelParameters,
	{
		displayName: 'Continue Previous Edit',
		name: 'continueEdit',
		type: 'boolean',
		default: false,
		description:
			"Whether to carry on the conversation of a previous Nano Banana Edit node (from the item's editSession), so the subject stays the same. Uses that conversation's model.",
	},
	...inputImageParameter(
		'Name of the binary property holding the image to edit, or an image reference (nbimg:…) from an earlier Nano Banana node of this run, or an http(s) URL of an image',
		{ show: { continueEdit: [false] } },
	),
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		options: [
			{ name: 'All at Once', value: 'single', description: 'One instruction, one request' },
			{
				name: 'Step by Step',
				value: 'steps',
				description:
					'Several instructions as successive turns of one conversation, each refining the last result',
			},
		],
		default: 'single',
	},
	...filledByModel(
		{
			displayName: 'Instruction',
			name: 'prompt',
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			required: true,
			placeholder: 'e.g. Remove all people from the background',
			description: 'What to change. Say what must stay the same, too.',
			displayOptions: { show: { mode: ['single'] } },
		},
		'instruction',
		'What to change in the image, and what must stay the same',
	),
	{
		displayName: 'Steps',
		name: 'steps',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: { values: [{ instruction: '' }] },
		placeholder: 'Add Step',
		displayOptions: { show: { mode: ['steps'] } },
		options: [
			{
				displayName: 'Step',
				name: 'values',
				values: [
					{
						displayName: 'Instruction',
						name: 'instruction',
						type: 'string',
						typeOptions: { rows: 2 },
						default: '',
						placeholder: 'e.g. Remove skin imperfections and marks',
					},
				],
			},
		],
	},
	aspectRatioParameter({
		name: "Keep Input's",
		value: 'keep',
		description: "The output follows the input image's shape",
	}),
	imageSizeParameter,
	...executionModeParameters,
	{
		displayName:
			'Batch mode sends one instruction per item: Step by Step, Continue Edit and the region lock (Mask Binary Property) need Realtime',
		name: 'batchNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { executionMode: ['batch'] } },
	},
	optionsCollection(
		generationOptions,
		outputOptions,
		requestOptions,
		spendOptions,
		inputOptions,
		editOptions,
	),
];
