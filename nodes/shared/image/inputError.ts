/**
 * Why an input image cannot be used. The nodes wrap this into a NodeOperationError that names the
 * item and the binary property, so nothing here mentions either.
 */

export type ImageInputReason =
	'empty' | 'not-an-image' | 'corrupt' | 'too-many-pixels' | 'unsupported-format' | 'too-large';

export class ImageInputError extends Error {
	readonly reason: ImageInputReason;
	/** What the user can do about it. */
	readonly hint: string;

	constructor(reason: ImageInputReason, message: string, hint: string) {
		super(message);
		this.name = 'ImageInputError';
		this.reason = reason;
		this.hint = hint;
	}
}
