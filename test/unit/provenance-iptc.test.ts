import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import {
	isAiGeneratedSourceType,
	normaliseDigitalSourceType,
} from '../../nodes/shared/provenance/digitalSourceType';
import {
	parseRawProfile,
	readEmbeddedMetadata,
	readIimDataset,
	readIptc,
	readXmpProperty,
} from '../../nodes/shared/provenance/iptc';
import { fixture } from './provenance-helpers';

const GEMINI_PNG = 'gemini/gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png';
const DOG_JPEG = 'iptc/dog_xmp-dst-bare-TrainedAlgorithmicMedia.jpg';
const TRAINED_URI = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

async function iptcOf(path: string) {
	return readIptc(await readEmbeddedMetadata(fixture(path)));
}

describe('readIptc on real files', () => {
	it('reads the full-URI digital source type and the Google credit from the Gemini API PNG', async () => {
		const report = await iptcOf(GEMINI_PNG);

		expect(report).toEqual({
			digitalSourceType: TRAINED_URI,
			digitalSourceTypeCode: 'trainedAlgorithmicMedia',
			digitalSourceFileType: TRAINED_URI,
			aiGenerated: true,
			credit: 'Made with Google AI',
			creditSource: 'xmp',
			creditMentionsAi: true,
			manifestReference: undefined,
		});
	});

	it('also finds the credit in the PNG "Raw profile type iptc" chunk (IIM 2:110)', async () => {
		const { iim } = await readEmbeddedMetadata(fixture(GEMINI_PNG));

		expect(iim).toBeDefined();
		expect(readIimDataset(iim as Buffer, 2, 110)).toBe('Made with Google AI');
	});

	it('reads the bare TrainedAlgorithmicMedia token from the JPEG XMP, and the IIM credit', async () => {
		const report = await iptcOf(DOG_JPEG);

		expect(report).toMatchObject({
			digitalSourceType: 'TrainedAlgorithmicMedia',
			digitalSourceTypeCode: 'trainedAlgorithmicMedia',
			aiGenerated: true,
			credit: 'AI Generated',
			creditSource: 'iim',
			creditMentionsAi: true,
		});
	});

	it('finds nothing in the Imagen JPEG, which carries no metadata at all', async () => {
		const report = await iptcOf('gemini/imagen-3.0-generate-002_vertex_raw-api.jpg');

		expect(report).toEqual({
			digitalSourceType: undefined,
			digitalSourceTypeCode: undefined,
			digitalSourceFileType: undefined,
			aiGenerated: false,
			credit: undefined,
			creditSource: undefined,
			creditMentionsAi: false,
			manifestReference: undefined,
		});
	});

	it('reads the XMP manifest references: remote URL, and the dangling self#jumbf of a stripped file', async () => {
		expect((await iptcOf('c2pa/cloud.jpg')).manifestReference).toBe(
			'https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391',
		);
		expect((await iptcOf('c2pa/libpng-test_with_url.png')).manifestReference).toBe(
			'http://localhost:5000/libpng-test.c2pa',
		);
		expect((await iptcOf('c2pa/no_manifest.jpg')).manifestReference).toBe(
			'self#jumbf=/c2pa/adobe:urn:uuid:5f5bba8c-9184-44c6-b9a7-62cfda37b343/c2pa.claim',
		);
	});

	it('finds no AI marking in a camera photo with Lightroom XMP and IPTC', async () => {
		const report = await iptcOf('c2pa/P1000827.jpg');

		expect(report.aiGenerated).toBe(false);
		expect(report.creditMentionsAi).toBe(false);
	});

	it('reads "AI" in a credit line as the acronym only', () => {
		const credit = (text: string) =>
			readIptc({ xmp: `<rdf:Description photoshop:Credit="${text}"/>` }).creditMentionsAi;

		expect(credit('Made with Google AI')).toBe(true);
		expect(credit('Created with artificial intelligence')).toBe(true);
		expect(credit('Photo: Ai Weiwei')).toBe(false);
		expect(credit('Said Aidan')).toBe(false);
	});

	it('reports an unreadable input instead of throwing', async () => {
		const metadata = await readEmbeddedMetadata(Buffer.from('not an image'));

		expect(metadata.error).toMatch(/unsupported image format/i);
		expect(readIptc(metadata).aiGenerated).toBe(false);
	});
});

describe('XMP in every PNG text chunk form', () => {
	const xmp =
		'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
		'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" ' +
		'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"/>' +
		'</rdf:RDF></x:xmpmeta>';
	const keyword = Buffer.from('XML:com.adobe.xmp\0', 'latin1');

	function pngChunk(type: string, data: Buffer): Buffer {
		const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
		const length = Buffer.alloc(4);
		length.writeUInt32BE(data.length);
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(typeAndData));
		return Buffer.concat([length, typeAndData, crc]);
	}

	async function pngWith(chunk: Buffer): Promise<Buffer> {
		const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#445566' } })
			.png()
			.toBuffer();
		const afterHeader = 8 + 25;
		return Buffer.concat([png.subarray(0, afterHeader), chunk, png.subarray(afterHeader)]);
	}

	it.each([
		['tEXt', () => pngChunk('tEXt', Buffer.concat([keyword, Buffer.from(xmp)]))],
		['zTXt', () => pngChunk('zTXt', Buffer.concat([keyword, Buffer.from([0]), deflateSync(xmp)]))],
		[
			'compressed iTXt',
			() => pngChunk('iTXt', Buffer.concat([keyword, Buffer.from([1, 0, 0, 0]), deflateSync(xmp)])),
		],
	])('%s', async (_form, makeChunk) => {
		const report = readIptc(await readEmbeddedMetadata(await pngWith(makeChunk())));

		expect(report.digitalSourceTypeCode).toBe('compositeWithTrainedAlgorithmicMedia');
		expect(report.aiGenerated).toBe(true);
	});
});

describe('readXmpProperty', () => {
	it('reads attributes with any namespace prefix', () => {
		expect(
			readXmpProperty(
				'<rdf:Description iptcExt:DigitalSourceType="digitalCapture"/>',
				'DigitalSourceType',
			),
		).toBe('digitalCapture');
	});

	it('does not confuse DigitalSourceFileType with DigitalSourceType', () => {
		const xmp = '<rdf:Description Iptc4xmpExt:DigitalSourceFileType="trainedAlgorithmicMedia"/>';

		expect(readXmpProperty(xmp, 'DigitalSourceType')).toBeUndefined();
	});

	it('reads element text, rdf:resource and the first item of a list, decoding entities', () => {
		expect(readXmpProperty('<photoshop:Credit>Ben &amp; Jerry</photoshop:Credit>', 'Credit')).toBe(
			'Ben & Jerry',
		);
		expect(
			readXmpProperty(
				`<Iptc4xmpExt:DigitalSourceType rdf:resource="${TRAINED_URI}"/>`,
				'DigitalSourceType',
			),
		).toBe(TRAINED_URI);
		expect(
			readXmpProperty(
				'<photoshop:Credit><rdf:Alt><rdf:li xml:lang="x-default">Made with Google AI</rdf:li></rdf:Alt></photoshop:Credit>',
				'Credit',
			),
		).toBe('Made with Google AI');
	});

	it('does not take photoshop:CreditLine-like names for Credit', () => {
		expect(readXmpProperty('<x:CreditLine>Someone</x:CreditLine>', 'Credit')).toBeUndefined();
	});
});

describe('IIM records', () => {
	it('reads a dataset from bare IIM and skips the ones before it', () => {
		const record = (dataset: number, text: string) =>
			Buffer.concat([
				Buffer.from([0x1c, 2, dataset, 0, Buffer.byteLength(text)]),
				Buffer.from(text),
			]);
		const iim = Buffer.concat([record(5, 'Title'), record(110, 'Crédit')]);

		expect(readIimDataset(iim, 2, 110)).toBe('Crédit');
		expect(readIimDataset(iim, 2, 80)).toBeUndefined();
	});

	it('parses the ImageMagick raw profile text of a PNG', () => {
		expect(parseRawProfile('\nIPTC profile\n      4\n1c02\n6e00\n')).toEqual(
			Buffer.from([0x1c, 2, 0x6e, 0]),
		);
		expect(parseRawProfile('\nIPTC profile\n      4\nnot hex\n')).toBeUndefined();
	});
});

describe('normaliseDigitalSourceType', () => {
	it.each([
		[TRAINED_URI, 'trainedAlgorithmicMedia'],
		['TrainedAlgorithmicMedia', 'trainedAlgorithmicMedia'],
		[
			'https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia',
			'compositeWithTrainedAlgorithmicMedia',
		],
		['http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia', 'algorithmicMedia'],
		['digitalcapture', 'digitalCapture'],
		['http://cv.iptc.org/newscodes/digitalsourcetype/someFutureCode', 'someFutureCode'],
		['Photograph', undefined],
		['http://example.com/vocabulary/trainedAlgorithmicMedia', undefined],
	])('%s → %s', (raw, code) => {
		expect(normaliseDigitalSourceType(raw)).toBe(code);
	});

	it('counts only the generative-AI codes as AI-generated', () => {
		expect(isAiGeneratedSourceType('trainedAlgorithmicMedia')).toBe(true);
		expect(isAiGeneratedSourceType('compositeWithTrainedAlgorithmicMedia')).toBe(true);
		expect(isAiGeneratedSourceType('algorithmicMedia')).toBe(false);
		expect(isAiGeneratedSourceType('digitalCapture')).toBe(false);
		expect(isAiGeneratedSourceType(undefined)).toBe(false);
	});
});

function crc32(data: Buffer): number {
	let crc = 0xffffffff;
	for (const byte of data) {
		crc ^= byte;
		for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
	}
	return (crc ^ 0xffffffff) >>> 0;
}
