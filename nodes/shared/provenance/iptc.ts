import sharp from 'sharp';
import { isAiGeneratedSourceType, normaliseDigitalSourceType } from './digitalSourceType';

/** The metadata blocks provenance is read from, as sharp finds them. */
export interface EmbeddedMetadata {
	/** The XMP packet: JPEG APP1, or a PNG iTXt/zTXt/tEXt chunk named XML:com.adobe.xmp. */
	xmp?: string;
	/** IPTC IIM records: JPEG APP13, or the hex "Raw profile type iptc" text chunk of a PNG. */
	iim?: Buffer;
	/** Why nothing could be read, when sharp does not recognise the input. */
	error?: string;
}

export interface IptcReport {
	/** Iptc4xmpExt:DigitalSourceType exactly as written. */
	digitalSourceType?: string;
	/** The IPTC code, e.g. trainedAlgorithmicMedia for the URI and for the bare token alike. */
	digitalSourceTypeCode?: string;
	digitalSourceFileType?: string;
	/** The digital source type says a generative model made the image. */
	aiGenerated: boolean;
	/** photoshop:Credit from XMP, or IIM 2:110 Credit. */
	credit?: string;
	creditSource?: 'xmp' | 'iim';
	/** A credit line such as "Made with Google AI" or "AI Generated". */
	creditMentionsAi: boolean;
	/** dcterms:provenance: where the XMP says the C2PA manifest is. */
	manifestReference?: string;
}

const RAW_IPTC_PROFILE = /^Raw profile type (iptc|8bim|app13)$/i;
// Case matters for the acronym: "Ai" is also a name.
const AI_CREDIT = /\bAI\b|\b[Aa]rtificial [Ii]ntelligence\b/;

/** Reads headers only, so image size does not matter; an input sharp cannot read has none. */
export async function readEmbeddedMetadata(input: Buffer): Promise<EmbeddedMetadata> {
	try {
		const meta = await sharp(input, { limitInputPixels: false }).metadata();
		const rawProfile = meta.comments?.find((comment) => RAW_IPTC_PROFILE.test(comment.keyword));
		return {
			xmp: meta.xmpAsString ?? meta.xmp?.toString('utf8'),
			iim: meta.iptc ?? (rawProfile ? parseRawProfile(rawProfile.text) : undefined),
		};
	} catch (error) {
		return { error: error instanceof Error ? error.message : String(error) };
	}
}

export function readIptc(metadata: EmbeddedMetadata): IptcReport {
	const xmp = metadata.xmp ?? '';
	const digitalSourceType = readXmpProperty(xmp, 'DigitalSourceType');
	const digitalSourceTypeCode = digitalSourceType
		? normaliseDigitalSourceType(digitalSourceType)
		: undefined;
	const xmpCredit = readXmpProperty(xmp, 'Credit');
	const iimCredit = metadata.iim ? readIimDataset(metadata.iim, 2, 110) : undefined;
	const credit = xmpCredit ?? iimCredit;
	return {
		digitalSourceType,
		digitalSourceTypeCode,
		digitalSourceFileType: readXmpProperty(xmp, 'DigitalSourceFileType'),
		aiGenerated: isAiGeneratedSourceType(digitalSourceTypeCode),
		credit,
		creditSource: xmpCredit ? 'xmp' : iimCredit ? 'iim' : undefined,
		creditMentionsAi: credit !== undefined && AI_CREDIT.test(credit),
		manifestReference: readXmpProperty(xmp, 'provenance'),
	};
}

/**
 * The value of an XMP property, whatever its namespace prefix, written as an attribute, as element
 * text, as rdf:resource or as the first rdf:li of a list. Plain pattern matching: enough for the
 * simple properties read here, and no XML parser to ship.
 */
export function readXmpProperty(xmp: string, name: string): string | undefined {
	const qualifiedName = `[A-Za-z_][\\w.-]*:${name}`;
	const attribute = new RegExp(`\\s${qualifiedName}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(xmp);
	if (attribute) return decodeXml(attribute[1] ?? attribute[2]);

	const element = new RegExp(
		`<(${qualifiedName})(\\s[^>]*?)?\\s*(?:/>|>([\\s\\S]*?)</\\1\\s*>)`,
	).exec(xmp);
	if (!element) return undefined;
	const resource = /\srdf:resource\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(element[2] ?? '');
	if (resource) return decodeXml(resource[1] ?? resource[2]);
	const body = element[3] ?? '';
	const listItem = /<rdf:li\b[^>]*>([\s\S]*?)<\/rdf:li>/.exec(body);
	const text = (listItem ? listItem[1] : body).trim();
	return text && !text.includes('<') ? decodeXml(text) : undefined;
}

function decodeXml(text: string): string {
	return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (entity, code: string) => {
		const lower = code.toLowerCase();
		if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
		if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
		return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower] ?? entity;
	});
}

/**
 * ImageMagick's PNG text form of a binary profile: a blank line, the profile name, its length,
 * then the bytes in hex over several lines.
 */
export function parseRawProfile(text: string): Buffer | undefined {
	const lines = text
		.split('\n')
		.map((line) => line.trim())
		.filter(Boolean);
	const hex = lines.slice(2).join('');
	if (lines.length < 3 || !/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0) return undefined;
	return Buffer.from(hex, 'hex');
}

/**
 * One IIM dataset (record:dataset, e.g. 2:110 Credit). The input is either bare IIM or Photoshop
 * image resources, whose resource 0x0404 holds the IIM.
 */
export function readIimDataset(data: Buffer, record: number, dataset: number): string | undefined {
	const iim = data[0] === 0x1c ? data : photoshopResource(data, 0x0404);
	if (!iim) return undefined;
	let offset = 0;
	while (offset + 5 <= iim.length && iim[offset] === 0x1c) {
		let length = iim.readUInt16BE(offset + 3);
		let start = offset + 5;
		if (length & 0x8000) {
			// Extended dataset: the low bits give the size of the length field that follows.
			const lengthSize = length & 0x7fff;
			if (lengthSize < 1 || lengthSize > 4 || start + lengthSize > iim.length) return undefined;
			length = iim.readUIntBE(start, lengthSize);
			start += lengthSize;
		}
		if (iim[offset + 1] === record && iim[offset + 2] === dataset) {
			return decodeText(iim.subarray(start, start + length));
		}
		offset = start + length;
	}
	return undefined;
}

/** Photoshop image resources: "8BIM", id, padded Pascal name, size, data padded to even. */
function photoshopResource(data: Buffer, wantedId: number): Buffer | undefined {
	let offset = data.indexOf('8BIM');
	while (
		offset >= 0 &&
		offset + 12 <= data.length &&
		data.toString('latin1', offset, offset + 4) === '8BIM'
	) {
		const id = data.readUInt16BE(offset + 4);
		const nameLength = data[offset + 6];
		const sizeAt = offset + 6 + nameLength + 1 + ((nameLength + 1) % 2);
		if (sizeAt + 4 > data.length) return undefined;
		const size = data.readUInt32BE(sizeAt);
		const start = sizeAt + 4;
		if (id === wantedId) return data.subarray(start, Math.min(start + size, data.length));
		offset = start + size + (size % 2);
	}
	return undefined;
}

/** IIM text is UTF-8 in practice; fall back to Latin-1 for older files. */
function decodeText(bytes: Buffer): string {
	const utf8 = bytes.toString('utf8');
	return (utf8.includes('\uFFFD') ? bytes.toString('latin1') : utf8).replace(/\0+$/, '').trim();
}
