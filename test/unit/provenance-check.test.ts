import * as c2paModule from '../../nodes/shared/provenance/c2pa';
import { classifyValidation, type C2paReport } from '../../nodes/shared/provenance/c2pa';
import {
	checkProvenance,
	judgeProvenance,
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

		expect(report).toMatchObject({
			aiMarked: true,
			aiMarkedBy: ['iptc'],
			c2pa: { manifest: 'none' },
		});
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

	it.each(expectations)(
		'%s: requireAiMarking %s, requireValidC2pa %s, requireNotAiMarked %s',
		async (path, ai, valid, notAi) => {
			expect((await check(path, 'requireAiMarking')).passed).toBe(ai);
			expect((await check(path, 'requireValidC2pa')).passed).toBe(valid);
			expect((await check(path, 'requireNotAiMarked')).passed).toBe(notAi);
			expect((await check(path, 'reportOnly')).passed).toBe(true);
		},
	);

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

		expect(result.details).toMatchObject({
			reason: expect.stringMatching(/^No AI-generation marking/),
		});
	});

	it('fails requireValidC2pa for a signer outside the given trust anchors', async () => {
		const [unrelatedRoot] = testRootCertificates();
		const result = await checkProvenance(fixture('c2pa/C.jpg'), 'image/jpeg', {
			mode: 'requireValidC2pa',
			trustAnchorsPem: unrelatedRoot,
		});

		expect(result.passed).toBe(false);
		expect(result.details).toMatchObject({
			reason: expect.stringContaining('outside the given trust anchors'),
		});
	});

	it('rejects an AI credit line when the image must not be AI-marked, even without a source type', async () => {
		// The Gemini PNG with its XMP removed keeps only the IIM credit "Made with Google AI".
		const png = fixture(GEMINI_PNG);
		const withoutXmp = removePngChunk(png, 'iTXt');
		const result = await checkProvenance(withoutXmp, 'image/png', { mode: 'requireNotAiMarked' });

		expect(result.details).toMatchObject({
			aiMarked: false,
			iptc: { credit: 'Made with Google AI' },
		});
		expect(result.passed).toBe(false);
	});
});

describe('a certificate that expired after signing', () => {
	// No fixture has an expired certificate, so these reports are synthetic: c2pa-rs's failure codes
	// as it gives them, classified as readC2pa classifies them. The issuer is the one Google's
	// C2PA manifests name; the rest is made up.
	function reportWith(
		failureCodes: string[],
		certificateValidityAt: 'today' | 'timeStamp' = 'today',
	): ProvenanceReport {
		const c2pa: C2paReport = {
			manifest: 'embedded',
			validation: classifyValidation(failureCodes, 'Invalid'),
			validationState: 'Invalid',
			certificateValidityAt,
			trust: 'unknown',
			failureCodes,
			ingredientFailureCodes: [],
			signer: {
				issuer: 'Google C2PA Media Services 1P ICA G3',
				signedAt: '2026-03-02T09:15:00+00:00',
			},
			actions: [],
			aiGenerated: true,
			ingredients: [],
		};
		const iptc = { aiGenerated: false, creditMentionsAi: false } as ProvenanceReport['iptc'];
		return {
			c2pa,
			iptc,
			synthId: SYNTH_ID_NOT_CHECKED,
			aiMarked: true,
			aiMarkedBy: ['c2pa'],
			summary: '',
		};
	}

	it.each([
		[['signingCredential.expired']],
		[['claimSignature.outsideValidity']],
		[['signingCredential.expired', 'claimSignature.outsideValidity']],
	])(
		'%j alone, checked against today\'s date, passes "Must Carry Valid C2PA" with a warning naming the code',
		(codes) => {
			const { passed, reason, warning } = judgeProvenance('requireValidC2pa', reportWith(codes));

			expect(passed).toBe(true);
			expect(reason).toBe(
				`The C2PA manifest is valid apart from its certificate having expired by today's date (${codes.join(', ')}); see the warning (signer trust: unknown)`,
			);
			expect(warning).toBe(
				`c2pa-rs reported ${codes.join(', ')}: the signing certificate has expired by today's date. ` +
					"No trusted time-stamp was verified, so the certificate was checked against today's date, not the signing time, and the manifest says it was signed at 2026-03-02T09:15:00+00:00. " +
					'The signature and content hashes check out, so this alone does not fail the image.',
			);
		},
	);

	it.each([
		[
			'tampered pixels',
			['signingCredential.expired', 'assertion.dataHash.mismatch'],
			'does not match the content: the image was changed after signing',
		],
		[
			'a changed PNG box',
			['signingCredential.expired', 'assertion.boxesHash.mismatch'],
			'does not match the content: the image was changed after signing',
		],
		[
			'a bad signature',
			['signingCredential.expired', 'claimSignature.mismatch'],
			'has an invalid signature',
		],
		[
			'a revoked certificate',
			['signingCredential.expired', 'signingCredential.ocsp.revoked'],
			'was signed with a revoked certificate',
		],
		[
			'a signer outside the trust anchors',
			['signingCredential.expired', 'signingCredential.untrusted'],
			"has a certificate that has expired by today's date (no trusted time-stamp was verified, so its validity at signing was not checked), and c2pa-rs also reported signingCredential.untrusted",
		],
	])('still fails, without the warning, with %s as well', (_name, codes, words) => {
		const result = judgeProvenance('requireValidC2pa', reportWith(codes));

		expect(result).toEqual({ passed: false, reason: `The C2PA manifest ${words}` });
	});

	it('fails when a trusted time-stamp shows the certificate had already expired at signing', () => {
		const result = judgeProvenance(
			'requireValidC2pa',
			reportWith(['signingCredential.expired'], 'timeStamp'),
		);

		expect(result).toEqual({
			passed: false,
			reason:
				'The C2PA manifest was signed with a certificate that had expired at the time-stamped signing time',
		});
	});

	it('carries the warning in the other modes too', () => {
		expect(judgeProvenance('reportOnly', reportWith(['signingCredential.expired']))).toMatchObject({
			passed: true,
			warning: expect.stringMatching(/^c2pa-rs reported signingCredential\.expired:/),
		});
	});

	it("puts the warning in the check's details, next to the report", async () => {
		// C.jpg as c2pa-rs would read it once its certificate had expired, with no trusted time-stamp.
		const real = await c2paModule.readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg');
		const spy = jest.spyOn(c2paModule, 'readC2pa').mockResolvedValue({
			...real,
			validation: 'expiredSigner',
			validationState: 'Invalid',
			failureCodes: ['signingCredential.expired'],
			certificateValidityAt: 'today',
		});
		try {
			const result = await check('c2pa/C.jpg', 'requireValidC2pa');

			expect(result.passed).toBe(true);
			expect(result.details).toMatchObject({
				warning: expect.stringMatching(
					/^c2pa-rs reported signingCredential\.expired: the signing certificate has expired by today's date\./,
				),
				c2pa: { validation: 'expiredSigner', failureCodes: ['signingCredential.expired'] },
			});
			expect((result.details as unknown as ProvenanceReport).summary).toMatch(
				/^The C2PA manifest has a certificate that has expired by today's date \(no trusted time-stamp was verified, so its validity at signing was not checked\); its signature and content hashes are intact;/,
			);
		} finally {
			spy.mockRestore();
		}
	});

	it('gives no warning for a manifest that is simply valid', async () => {
		const result = await check('c2pa/C.jpg', 'requireValidC2pa');

		expect(result.passed).toBe(true);
		expect(result.details).not.toHaveProperty('warning');
	});
});

function removePngChunk(png: Buffer, type: string): Buffer {
	const kept = [png.subarray(0, 8)];
	let offset = 8;
	while (offset < png.length) {
		const end = offset + 12 + png.readUInt32BE(offset);
		if (png.toString('latin1', offset + 4, offset + 8) !== type)
			kept.push(png.subarray(offset, end));
		offset = end;
	}
	return Buffer.concat(kept);
}
