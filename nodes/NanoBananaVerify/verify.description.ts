import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';

import { CHEAP_TEXT_MODEL, DEFAULT_TEXT_MODEL } from '../shared/catalogue';
import { VERIFY_THRESHOLDS } from '../shared/constants';
import {
	inputOptions,
	optionsCollection,
	requestOptions,
	sortedOptions,
	filledByModel,
	inputImageParameter,
} from '../shared/descriptions';

/** A 0..1 score a check must reach, as every judge criterion and the similarity check have. */
const scoreThreshold = (name: string, fallback: number, description: string): INodeProperties => ({
	displayName: 'Threshold',
	name,
	type: 'number',
	typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
	default: fallback,
	description,
});

const thresholdParameter = (
	name: string,
	fallback: number,
	what: string,
	show: IDisplayOptions['show'],
): INodeProperties => ({
	...scoreThreshold(
		name,
		fallback,
		`Lowest score (0 to 1) the AI judge may give ${what} for the check to pass`,
	),
	displayOptions: { show },
});

const technicalChecks: INodeProperties[] = [
	{
		displayName: 'Allowed Formats',
		name: 'allowedFormats',
		type: 'multiOptions',
		options: [
			{ name: 'AVIF', value: 'avif' },
			{ name: 'GIF', value: 'gif' },
			{ name: 'HEIC', value: 'heic' },
			{ name: 'HEIF', value: 'heif' },
			{ name: 'JPEG', value: 'jpeg' },
			{ name: 'PNG', value: 'png' },
			{ name: 'SVG', value: 'svg' },
			{ name: 'TIFF', value: 'tiff' },
			{ name: 'WebP', value: 'webp' },
		],
		default: ['png', 'jpeg'],
		description: 'The file format, read from the bytes (not from the file name or MIME type)',
	},
	{
		displayName: 'Aspect Ratio',
		name: 'aspectRatio',
		type: 'string',
		default: '',
		placeholder: 'e.g. 16:9',
		description: 'Width to height as displayed (after EXIF orientation), as 16:9, 16/9 or 1.78',
	},
	{
		displayName: 'Aspect Ratio Tolerance (%)',
		name: 'aspectRatioTolerance',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 1 },
		default: 3.5,
		description:
			'How far the ratio may be off, relative to the expected one. Generated images miss their nominal ratio by up to 3.1 %; standard ratios are 6.7 % apart.',
	},
	{
		displayName: 'Max File Size (MB)',
		name: 'maxFileSizeMb',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 2 },
		default: 10,
	},
	{
		displayName: 'Max Height (Px)',
		name: 'maxHeight',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 4096,
	},
	{
		displayName: 'Max Width (Px)',
		name: 'maxWidth',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 4096,
	},
	{
		displayName: 'Min Height (Px)',
		name: 'minHeight',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 1024,
	},
	{
		displayName: 'Min Width (Px)',
		name: 'minWidth',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 1024,
	},
	{
		displayName: 'Not Blank',
		name: 'notBlank',
		type: 'boolean',
		default: true,
		description:
			'Whether to fail empty placeholders: images of one flat colour (black, grey, white)',
	},
	{
		displayName: 'Transparency',
		name: 'transparency',
		type: 'options',
		options: [
			{
				name: 'Must Have Transparency',
				value: 'transparent',
				description: 'At least one pixel is not fully opaque, e.g. a cut-out product',
			},
			{
				name: 'Must Be Opaque',
				value: 'opaque',
				description:
					'Every pixel is fully opaque (an alpha channel that is opaque everywhere is fine)',
			},
		],
		default: 'transparent',
	},
];

const verifyOptions: INodeProperties[] = [
	{
		displayName: 'Fail Output Only on Errors',
		name: 'failOutputOnlyOnErrors',
		type: 'boolean',
		default: false,
		description:
			'Whether to send every verified item to the Pass output, failed checks included (read verification.passed), and only items whose verification could not run (with Continue On Fail) to Fail',
	},
	{
		displayName: 'Skip AI Judge When a Local Check Fails',
		name: 'skipJudgeOnLocalFailure',
		type: 'boolean',
		default: true,
		description:
			"Whether to save the AI judge's request (and its cost) when a technical, similarity or provenance check has already failed the image",
	},
];

const judgeShown = { aiJudge: [true] };

export const description: INodeProperties[] = [
	...inputImageParameter(
		'Name of the binary property holding the image to verify. It passes through untouched. An image reference (nbimg:…) from an earlier Nano Banana node of this run, or an http(s) URL, also works: the image is then output as binary "data".',
	),
	{
		displayName: 'AI Judge',
		name: 'aiJudge',
		type: 'boolean',
		default: true,
		description:
			'Whether to have a Gemini model look at the image and score it against the criteria below. Uses the credential; one text request per item.',
	},
	{
		displayName: 'Judge Model',
		name: 'judgeModel',
		type: 'resourceLocator',
		default: { mode: 'list', value: DEFAULT_TEXT_MODEL },
		required: true,
		description:
			'The Gemini model that judges. The list comes live from the API (text models that see images); an ID typed by hand is sent as is.',
		displayOptions: { show: judgeShown },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchJudgeModels', searchable: true },
			},
			{
				displayName: 'ID',
				name: 'id',
				type: 'string',
				placeholder: `e.g. ${CHEAP_TEXT_MODEL}`,
			},
		],
	},
	{
		displayName: 'Check Prompt Adherence',
		name: 'promptAdherence',
		type: 'boolean',
		default: true,
		description: 'Whether the image must show what the prompt asks for',
		displayOptions: { show: judgeShown },
	},
	...filledByModel(
		{
			displayName: 'Prompt',
			name: 'prompt',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '={{ $json.prompt }}',
			description:
				'The prompt the image should follow. The default is the prompt a Nano Banana Generate or Edit node put on the item.',
			displayOptions: { show: { ...judgeShown, promptAdherence: [true] } },
		},
		'prompt',
		'The prompt the image was made from, or what it must show',
	),
	thresholdParameter(
		'promptAdherenceThreshold',
		VERIFY_THRESHOLDS.promptAdherence,
		'prompt adherence',
		{
			...judgeShown,
			promptAdherence: [true],
		},
	),
	{
		displayName: 'Check Same Subject',
		name: 'sameSubject',
		type: 'boolean',
		default: false,
		description:
			"Whether the image must show the same subject as reference images: a person's identity, a product, a character",
		displayOptions: { show: judgeShown },
	},
	{
		displayName: 'Reference Binary Properties',
		name: 'referenceBinaryProperties',
		type: 'string',
		default: 'reference',
		placeholder: 'e.g. reference, reference2',
		description:
			'Binary properties on the item that hold the reference images, separated by commas',
		displayOptions: { show: { ...judgeShown, sameSubject: [true] } },
	},
	thresholdParameter('sameSubjectThreshold', VERIFY_THRESHOLDS.sameSubject, 'the same subject', {
		...judgeShown,
		sameSubject: [true],
	}),
	{
		displayName: 'Expected Text',
		name: 'expectedText',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Expected Text',
		description:
			'Text that must be rendered in the image exactly, e.g. a headline or a price. Each is its own check.',
		displayOptions: { show: judgeShown },
		options: [
			{
				displayName: 'Text',
				name: 'values',
				values: [
					{
						displayName: 'Text',
						name: 'text',
						type: 'string',
						default: '',
						placeholder: 'e.g. SUMMER SALE -50%',
					},
					scoreThreshold(
						'threshold',
						VERIFY_THRESHOLDS.expectedText,
						'Lowest score (0 to 1) for the check to pass',
					),
				],
			},
		],
	},
	{
		displayName: 'Custom Rules',
		name: 'customRules',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Rule',
		description: 'Rules in plain words that the image must follow. Each is its own check.',
		displayOptions: { show: judgeShown },
		options: [
			{
				displayName: 'Rule',
				name: 'values',
				values: [
					{
						displayName: 'Rule',
						name: 'rule',
						type: 'string',
						default: '',
						placeholder: 'e.g. No logos other than ours',
					},
					scoreThreshold(
						'threshold',
						VERIFY_THRESHOLDS.customRule,
						'Lowest score (0 to 1) for the check to pass',
					),
				],
			},
		],
	},
	{
		displayName: 'Technical Checks',
		name: 'technicalChecks',
		type: 'collection',
		placeholder: 'Add Check',
		default: {},
		description: 'Checks of the file itself, made locally with no API call',
		options: sortedOptions(technicalChecks),
	},
	{
		displayName: 'Similarity to Reference',
		name: 'similarity',
		type: 'fixedCollection',
		default: {},
		placeholder: 'Add Similarity Check',
		description:
			'Compare the picture with a reference image, locally (structural similarity of small copies)',
		options: [
			{
				displayName: 'Check',
				name: 'check',
				values: [
					{
						displayName: 'Reference Binary Property',
						name: 'referenceBinaryProperty',
						type: 'string',
						default: 'reference',
						description: 'Binary property on the item holding the reference image',
					},
					{
						displayName: 'Mode',
						name: 'mode',
						type: 'options',
						options: [
							{
								name: 'At Least This Similar',
								value: 'atLeast',
								description: 'E.g. an edit kept the composition.',
							},
							{
								name: 'At Most This Similar',
								value: 'atMost',
								description: 'E.g. not a near-duplicate of an earlier image.',
							},
						],
						default: 'atLeast',
					},
					scoreThreshold(
						'threshold',
						VERIFY_THRESHOLDS.similarity,
						'Similarity from 0 (unrelated) to 1 (the same picture). A resized or recompressed copy scores above 0.95.',
					),
				],
			},
		],
	},
	{
		displayName: 'Provenance',
		name: 'provenance',
		type: 'options',
		options: [
			{ name: "Don't Check", value: 'off' },
			{ name: 'Must Carry AI-Generation Marking (C2PA or IPTC)', value: 'requireAiMarking' },
			{
				name: 'Must Carry Valid C2PA',
				value: 'requireValidC2pa',
				description:
					'An embedded Content Credentials manifest whose signature and hashes check out',
			},
			{
				name: 'Must Not Be Marked AI-Generated',
				value: 'requireNotAiMarked',
				description: 'For uploads that must be real photos',
			},
			{
				name: 'Report Only',
				value: 'reportOnly',
				description: 'Always passes; the report says what was found',
			},
		],
		default: 'off',
		description:
			'Read C2PA Content Credentials and IPTC metadata, locally. SynthID watermarks cannot be checked: Google offers no public detection API.',
	},
	{
		displayName: 'Trust Anchors (PEM)',
		name: 'trustAnchorsPem',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		placeholder: '-----BEGIN CERTIFICATE-----',
		description:
			"Root certificates to judge the C2PA signer against. Empty: the signer's trust is reported as unknown.",
		displayOptions: { hide: { provenance: ['off'] } },
	},
	optionsCollection(verifyOptions, requestOptions, inputOptions),
];
