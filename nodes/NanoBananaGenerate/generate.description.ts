import type { INodeProperties } from 'n8n-workflow';

import {
	executionModeParameters,
	filledByModel,
	aspectRatioParameter,
	generationOptions,
	imageSizeParameter,
	modelParameters,
	numberOfImagesParameter,
	optionsCollection,
	outputOptions,
	promptParameter,
	requestOptions,
	spendOptions,
} from '../shared/descriptions';

export const description: INodeProperties[] = [
	...modelParameters,
	...filledByModel(
		promptParameter(
			'What to draw. Use an expression to take it from each item.',
			'e.g. A flat-lay photo of a banana on a pastel desk, soft daylight',
		),
		'prompt',
		'What to draw: subject, setting, style, light; any text to show in quotes',
	),
	aspectRatioParameter({
		name: 'Auto (Model Default)',
		value: 'auto',
		description: 'Square unless the prompt says otherwise',
	}),
	imageSizeParameter,
	numberOfImagesParameter,
	...executionModeParameters,
	optionsCollection(generationOptions, outputOptions, requestOptions, spendOptions),
];
