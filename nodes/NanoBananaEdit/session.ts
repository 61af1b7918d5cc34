/**
 * The edit conversation carried in an item's json, so a later Edit node can continue it and the
 * model keeps the subject. Images are not copied into the json: they are named by the binary
 * property that holds them on the same item. Thought signatures are kept verbatim, as the API
 * requires for every earlier model image. The shape is documented in the README; keep it stable.
 */
import { NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { forItem } from '../shared/pipeline/errors';
import type { WireContent, WirePart } from '../shared/transport';

export const SESSION_VERSION = 1;
export const SESSION_FIELD = 'editSession';
export const SOURCE_PROPERTY = 'editSource';

export interface SessionImage {
	binaryProperty: string;
	mimeType: string;
}

export interface SessionPart {
	text?: string;
	image?: SessionImage;
	thoughtSignature?: string;
}

export interface SessionTurn {
	role: 'user' | 'model';
	parts: SessionPart[];
}

export interface EditSession {
	version: number;
	model: string;
	/** Model turns so far; the next step's images are named step{steps + 1}. */
	steps: number;
	turns: SessionTurn[];
}

/** The item cannot continue a conversation; the description says what it needs. */
export function sessionError(
	ctx: IExecuteFunctions,
	itemIndex: number,
	why: string,
): NodeOperationError {
	return new NodeOperationError(
		ctx.getNode(),
		forItem(`Cannot continue the previous edit: ${why}`, itemIndex),
		{
			itemIndex,
			description: `"Continue Previous Edit" needs the item as a previous Nano Banana Edit node output it: the "${SESSION_FIELD}" json field and the binary properties it names. Nodes in between must keep both (e.g. don't drop binary data).`,
		},
	);
}

export function readSession(
	ctx: IExecuteFunctions,
	itemIndex: number,
	json: IDataObject,
): EditSession {
	const session = json[SESSION_FIELD] as EditSession | undefined;
	if (!session || typeof session !== 'object')
		throw sessionError(ctx, itemIndex, `the item has no "${SESSION_FIELD}" field`);
	if (
		session.version !== SESSION_VERSION ||
		!Array.isArray(session.turns) ||
		typeof session.model !== 'string'
	) {
		throw sessionError(
			ctx,
			itemIndex,
			`"${SESSION_FIELD}" is not a conversation this node understands (version ${String(session.version)})`,
		);
	}
	return session;
}

/** The session as request contents, each image read back from its binary property. */
export async function sessionToContents(
	ctx: IExecuteFunctions,
	itemIndex: number,
	session: EditSession,
): Promise<WireContent[]> {
	const binaries = ctx.getInputData()[itemIndex].binary ?? {};
	const toPart = async (part: SessionPart): Promise<WirePart> => {
		const wire: WirePart = {};
		if (part.image) {
			if (!binaries[part.image.binaryProperty])
				throw sessionError(
					ctx,
					itemIndex,
					`the binary property "${part.image.binaryProperty}" it refers to is missing`,
				);
			const data = await ctx.helpers.getBinaryDataBuffer(itemIndex, part.image.binaryProperty);
			wire.inlineData = { mimeType: part.image.mimeType, data: data.toString('base64') };
		}
		if (part.text !== undefined) wire.text = part.text;
		if (part.thoughtSignature) wire.thoughtSignature = part.thoughtSignature;
		return wire;
	};
	const contents: WireContent[] = [];
	for (const turn of session.turns)
		contents.push({ role: turn.role, parts: await Promise.all(turn.parts.map(toPart)) });
	return contents;
}
