/**
 * IPTC Digital Source Type codes (https://cv.iptc.org/newscodes/digitalsourcetype/), as written in
 * XMP and in C2PA actions: either the full URI or, in some Google JPEGs, a bare token such as
 * `TrainedAlgorithmicMedia`.
 */

const KNOWN_CODES = [
	'digitalCapture',
	'computationalCapture',
	'negativeFilm',
	'positiveFilm',
	'print',
	'humanEdits',
	'minorHumanEdits',
	'algorithmicallyEnhanced',
	'compositeCapture',
	'compositeSynthetic',
	'compositeWithTrainedAlgorithmicMedia',
	'trainedAlgorithmicMedia',
	'algorithmicMedia',
	'dataDrivenMedia',
	'digitalArt',
	'virtualRecording',
	'screenCapture',
	'digitalCreation',
];

// Only these say "made by a generative model". algorithmicMedia is media made by an algorithm
// "not based on any sampled training data" (a rendered gradient, say), so it is not counted.
const AI_GENERATED_CODES = new Set([
	'trainedAlgorithmicMedia',
	'compositeWithTrainedAlgorithmicMedia',
]);

const IPTC_VALUE = /^(https?:\/\/cv\.iptc\.org\/newscodes\/digitalsourcetype\/)?([A-Za-z]+)\/?$/i;

/**
 * The IPTC code in its published spelling, from the URI or a bare token in any letter case.
 * Undefined for other vocabularies, and for bare words that are not IPTC codes; a URI in the
 * IPTC scheme with a code newer than this list is kept as written.
 */
export function normaliseDigitalSourceType(raw: string): string | undefined {
	const match = IPTC_VALUE.exec(raw.trim());
	if (!match) return undefined;
	const [, scheme, token] = match;
	const known = KNOWN_CODES.find((code) => code.toLowerCase() === token.toLowerCase());
	return known ?? (scheme ? token : undefined);
}

export function isAiGeneratedSourceType(code: string | undefined): boolean {
	return code !== undefined && AI_GENERATED_CODES.has(code);
}
