import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Thought signatures: opaque to the client, but checkable here, so a history whose
 * signatures were dropped or changed is refused the way Gemini 3 models refuse it.
 */

/** Values Google documents for skipping the check when history is built by hand. */
const BYPASS = new Set([
	'skip_thought_signature_validator',
	'context_engineering_is_the_way_to_go',
]);

export class ThoughtSigner {
	constructor(private readonly secret: string) {}

	forImage(base64Data: string): string {
		return this.sign('image', Buffer.from(base64Data, 'base64'));
	}

	forText(text: string): string {
		return this.sign('text', Buffer.from(text, 'utf8'));
	}

	checkImage(base64Data: string, signature: string): boolean {
		return BYPASS.has(signature) || same(signature, this.forImage(base64Data));
	}

	checkText(text: string, signature: string): boolean {
		return BYPASS.has(signature) || same(signature, this.forText(text));
	}

	private sign(kind: string, payload: Buffer): string {
		const mac = createHmac('sha256', this.secret)
			.update(kind)
			.update('\0')
			.update(payload)
			.digest();
		// A protobuf-looking prefix, like the real ones ("Ep..", "Ci..").
		return Buffer.concat([Buffer.from([0x0a, mac.length]), mac]).toString('base64');
	}
}

function same(a: string, b: string): boolean {
	const left = Buffer.from(a);
	const right = Buffer.from(b);
	return left.length === right.length && timingSafeEqual(left, right);
}
