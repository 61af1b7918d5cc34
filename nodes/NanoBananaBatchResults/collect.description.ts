import type { INodeProperties } from 'n8n-workflow';

import { OPTION_DEFAULTS } from '../shared/constants';
import { sortedOptions } from '../shared/descriptions';

/** Named one by one: n8n's lint reads a description's default as a name. */
const { pollIntervalSeconds: DEFAULT_POLL_INTERVAL_SECONDS, maxConcurrency: DEFAULT_MAX_WRITES } =
	OPTION_DEFAULTS;

export const description: INodeProperties[] = [
	{
		displayName: 'Batch Job',
		name: 'jobName',
		type: 'string',
		default: '={{ $json.batchJob }}',
		required: true,
		placeholder: 'e.g. batches/123abc',
		description:
			'The job name a Nano Banana node in Batch mode (Submit Only) output. The rest of that item (its `batch` field) tells how to write each image; keep it with the name when storing jobs for later.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: sortedOptions([
			{
				displayName: 'Wait Until Done (Minutes)',
				name: 'waitMinutes',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 2 },
				default: 0,
				description:
					'Wait up to this long for a job that is still running. 0: a running job is an error that says to collect later.',
			},
			{
				displayName: 'First Poll Interval (Seconds)',
				name: 'pollIntervalSeconds',
				type: 'number',
				typeOptions: { minValue: 0.01, numberPrecision: 2 },
				default: DEFAULT_POLL_INTERVAL_SECONDS,
				description:
					'When waiting: how long before asking about the job again. Each wait is 1.5 times longer, up to 60 seconds.',
			},
			{
				displayName: 'Max Concurrent Writes',
				name: 'maxConcurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 32 },
				default: DEFAULT_MAX_WRITES,
				description:
					'How many results are converted and stored at once; also how many images are in memory at once',
			},
		]),
	},
];
