import {
	checkProvenance,
	readProvenance,
	SYNTH_ID_NOT_CHECKED,
	type ProvenanceMode,
	type ProvenanceReport,
} from '../../nodes/shared/provenance/check';
import { fixture, testRootCertificates } from './provenance-helpers';

jest.mock('@contentauth/c2pa-wasm', () =>
	jest.requireActual('./provenance-helpers').c2paWasmFromNode(),
);

const GEMINI_PNG = 'gemini/gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png';
const IMAGEN_JPEG = 'gemini/imagen-3.0-generate-002_vertex_raw-api.jpg';
const DOG_JPEG = 'iptc/dog_xmp-dst-bare-TrainedAlgorithmicMedia.jpg';

function mimeTypeOf(path: string): string {
	return path.endsWith('.png') ? 'image/png' : 'image/jpeg';
}

async function check(path: string, mode: ProvenanceMode) {
	return await checkProvenance(fixture(path), mimeTypeOf(path), { mode });
}

describe('readProvenance', () => {
	it('never claims to have checked SynthID', async () => {
		const report = await readProvenance(fixture(GEMINI_PNG), 'image/png');

		expect(report.synthId).toBe('not checked: Google offers no public SynthID detection API');
		expect(report.summary).toContain('SynthID not checked');
	});

	it('marks the Gemini API PNG as AI-generated through IPTC, with no C2PA', async () => {
		const report = await readProvenance(fixture(GEMINI_PNG), 'image/png');

		expect(report).toMatchObject({ aiMarked: true, aiMarkedBy: ['iptc'], c2pa: { manifest: 'none' } });
		expect(report.summary).toBe(
			'No C2PA manifest. IPTC digital source type: trainedAlgorithmicMedia. Credit: "Made with Google AI". SynthID not checked (no public detection API).',
		);
	});

	it('finds nothing at all in the Imagen JPEG', async () => {
		const report = await readProvenance(fixture(IMAGEN_JPEG), 'image/jpeg');

		expect(report).toMatchObject({
			aiMarked: false,
			aiMarkedBy: [],
			c2pa: { manifest: 'none' },
			iptc: { aiGenerated: false, creditMentionsAi: false },
			synthId: SYNTH_ID_NOT_CHECKED,
		});
	});

	it('notes the dangling self#jumbf reference of a stripped manifest', async () => {
		const report = await readProvenance(fixture('c2pa/no_manifest.jpg'), 'image/jpeg');

		expect(report.c2pa.manifest).toBe('none');
		expect(report.c2pa.danglingReference).toBe(
			'self#jumbf=/c2pa/adobe:urn:uuid:5f5bba8c-9184-44c6-b9a7-62cfda37b343/c2pa.claim',
		);
		expect(report.c2pa.note).toMatch(/not in the file/);
	});

	it('says a remote manifest was not fetched', async () => {
		const report = await readProvenance(fixture('c2pa/cloud.jpg'), 'image/jpeg');

		expect(report.c2pa).toMatchObject({ manifest: 'remote', note: 'remote manifest, not fetched' });
		expect(report.summary).toContain('remote manifest, not fetched');
	});

	it('summarises a signed manifest with signer, issuer and unknown trust', async () => {
		const report = await readProvenance(fixture('c2pa/C.jpg'), 'image/jpeg');

		expect(report.summary).toBe(
			'The C2PA manifest is valid; certificate "C2PA Signer" issued by "C2PA Test Signing Cert"; signer trust: unknown. C2PA digital source type: algorithmicMedia. No IPTC digital source type. SynthID not checked (no public detection API).',
		);
	});

	it('judges trust only against the anchors it is given', async () => {
		const trusted = await readProvenance(fixture('c2pa/CA.jpg'), 'image/jpeg', {
			trustAnchorsPem: testRootCertificates().join(''),
		});

		expect(trusted.c2pa.trust).toBe('trusted');
	});
});

describe('checkProvenance modes', () => {
	// [fixture, requireAiMarking, requireValidC2pa, requireNotAiMarked]
	const expectations: Array<[string, boolean, boolean, boolean]> = [
		['c2pa/C.jpg', false, true, true],
		['c2pa/CA.jpg', false, true, true],
		['c2pa/XCA.jpg', false, false, true],
		['c2pa/E-sig-CA.jpg', false, false, true],
		['c2pa/cloud.jpg', false, false, true],
		['c2pa/libpng-test_with_url.png', false, false, true],
		['c2pa/no_manifest.jpg', false, false, true],
		['c2pa/P1000827.jpg', false, false, true],
		['c2pa/libpng-test.png', false, false, true],
		[GEMINI_PNG, true, false, false],
		[DOG_JPEG, true, false, false],
		[IMAGEN_JPEG, false, false, true],
	];

	it.each(expectations)('%s: requireAiMarking %s, requireValidC2pa %s, requireNotAiMarked %s', async (path, ai, valid, notAi) => {
		expect((await check(path, 'requireAiMarking')).passed).toBe(ai);
		expect((await check(path, 'requireValidC2pa')).passed).toBe(valid);
		expect((await check(path, 'requireNotAiMarked')).passed).toBe(notAi);
		expect((await check(path, 'reportOnly')).passed).toBe(true);
	});

	it('puts the whole report and the reason in the details', async () => {
		const result = await check('c2pa/XCA.jpg', 'requireValidC2pa');
		const details = result.details as Record<string, unknown> & ProvenanceReport;

		expect(result.name).toBe('provenance');
		expect(details.mode).toBe('requireValidC2pa');
		expect(details.reason).toBe(
			'The C2PA manifest does not match the content: the image was changed after signing',
		);
		expect(details.c2pa.failureCodes).toEqual(['assertion.dataHash.mismatch']);
		expect(details.synthId).toBe(SYNTH_ID_NOT_CHECKED);
	});

	it('explains a failed AI-marking requirement', async () => {
		const result = await check(IMAGEN_JPEG, 'requireAiMarking');

		expect(result.details).toMatchObject({ reason: expect.stringMatching(/^No AI-generation marking/) });
	});

	it('fails requireValidC2pa for a signer outside the given trust anchors', async () => {
		const [unrelatedRoot] = testRootCertificates();
		const result = await checkProvenance(fixture('c2pa/C.jpg'), 'image/jpeg', {
			mode: 'requireValidC2pa',
			trustAnchorsPem: unrelatedRoot,
		});

		expect(result.passed).toBe(false);
		expect(result.details).toMatchObject({ reason: expect.stringContaining('outside the given trust anchors') });
	});

	it('rejects an AI credit line when the image must not be AI-marked, even without a source type', async () => {
		// The Gemini PNG with its XMP removed keeps only the IIM credit "Made with Google AI".
		const png = fixture(GEMINI_PNG);
		const withoutXmp = removePngChunk(png, 'iTXt');
		const result = await checkProvenance(withoutXmp, 'image/png', { mode: 'requireNotAiMarked' });

		expect(result.details).toMatchObject({ aiMarked: false, iptc: { credit: 'Made with Google AI' } });
		expect(result.passed).toBe(false);
	});
});

function removePngChunk(png: Buffer, type: string): Buffer {
	const kept = [png.subarray(0, 8)];
	let offset = 8;
	while (offset < png.length) {
		const end = offset + 12 + png.readUInt32BE(offset);
		if (png.toString('latin1', offset + 4, offset + 8) !== type) kept.push(png.subarray(offset, end));
		offset = end;
	}
	return Buffer.concat(kept);
}
