/**
 * The IPTC "made by a trained model" marker in XMP, and a way to put XMP into a PNG that XMP
 * readers find: libvips writes PNG XMP into a compressed zTXt chunk, but the XMP specification
 * (part 3) puts it in an uncompressed iTXt chunk named `XML:com.adobe.xmp`.
 */

export const TRAINED_ALGORITHMIC_MEDIA =
	'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** An XMP packet that claims only the digital source type; credit lines stay Google's to make. */
export function buildAiXmp(): string {
	return [
		'<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
		'<x:xmpmeta xmlns:x="adobe:ns:meta/">',
		' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
		'  <rdf:Description rdf:about=""',
		'    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
		`    Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"/>`,
		' </rdf:RDF>',
		'</x:xmpmeta>',
		'<?xpacket end="w"?>',
	].join('\n');
}

const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

function crc32(data: Buffer): number {
	let crc = 0xffffffff;
	for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Signature, then the IHDR chunk: length, type, 13 bytes of data, CRC.
const AFTER_IHDR = 8 + 4 + 4 + 13 + 4;

/** Adds an uncompressed iTXt `XML:com.adobe.xmp` chunk right after IHDR. */
export function insertPngXmp(png: Buffer, xmp: string): Buffer {
	if (!png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
		throw new Error('Not a PNG file');
	}
	// keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
	const body = Buffer.concat([
		Buffer.from('iTXt' + 'XML:com.adobe.xmp\0' + '\0\0' + '\0' + '\0', 'latin1'),
		Buffer.from(xmp, 'utf8'),
	]);
	const length = Buffer.alloc(4);
	length.writeUInt32BE(body.length - 4);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([png.subarray(0, AFTER_IHDR), length, body, crc, png.subarray(AFTER_IHDR)]);
}
