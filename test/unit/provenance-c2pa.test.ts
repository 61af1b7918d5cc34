import { classifyValidation, readC2pa } from '../../nodes/shared/provenance/c2pa';
import { explainRequireFailure } from '../../nodes/shared/provenance/c2paWasm';
import { fixture, testRootCertificates } from './provenance-helpers';

jest.mock('@contentauth/c2pa-wasm', () =>
	jest.requireActual('./provenance-helpers').c2paWasmFromNode(),
);

interface KnownGood {
	active_manifest: string;
	validation_state: string;
	manifests: Record<
		string,
		{
			claim_generator: string;
			signature_info: { issuer: string; common_name: string };
			assertions: Array<{
				label: string;
				data: { actions?: Array<{ action: string; digitalSourceType?: string }> };
			}>;
		}
	>;
	validation_results: { activeManifest: { failure: Array<{ code: string }> } };
}

function knownGood(name: string): KnownGood {
	return JSON.parse(fixture(`c2pa/known_good/${name}.json`).toString('utf8')) as KnownGood;
}

describe('readC2pa agrees with c2pa-rs known-good output', () => {
	it.each(['C', 'CA', 'XCA'])('%s.jpg', async (name) => {
		const expected = knownGood(name);
		const manifest = expected.manifests[expected.active_manifest];
		const expectedActions = manifest.assertions
			.filter((assertion) => assertion.label.startsWith('c2pa.actions'))
			.flatMap((assertion) => assertion.data.actions ?? [])
			.map(({ action, digitalSourceType }) => ({ action, digitalSourceType }));

		const report = await readC2pa(fixture(`c2pa/${name}.jpg`), 'image/jpeg');

		expect(report.manifest).toBe('embedded');
		expect(report.validationState).toBe(expected.validation_state);
		expect(report.activeManifest).toBe(expected.active_manifest);
		expect(report.claimGenerator).toBe(manifest.claim_generator);
		expect(report.signer?.issuer).toBe(manifest.signature_info.issuer);
		expect(report.signer?.commonName).toBe(manifest.signature_info.common_name);
		expect(
			report.actions.map(({ action, digitalSourceType }) => ({ action, digitalSourceType })),
		).toEqual(expectedActions);
		expect(report.failureCodes).toEqual(
			expected.validation_results.activeManifest.failure.map((status) => status.code),
		);
	});
});

describe('readC2pa', () => {
	it('reports a valid manifest, its signer and its digital source type; trust is unknown without anchors', async () => {
		const report = await readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg');

		expect(report).toMatchObject({
			manifest: 'embedded',
			validation: 'valid',
			trust: 'unknown',
			title: 'C.jpg',
			claimGenerator: 'make_test_images/0.33.1 c2pa-rs/0.33.1',
			signer: { commonName: 'C2PA Signer', issuer: 'C2PA Test Signing Cert' },
			digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia',
			digitalSourceTypeCode: 'algorithmicMedia',
			// algorithmicMedia is made by an algorithm without training data: not generative AI.
			aiGenerated: false,
		});
	});

	it('lists the parent ingredient and the edit actions of CA.jpg', async () => {
		const report = await readC2pa(fixture('c2pa/CA.jpg'), 'image/jpeg');

		expect(report.validation).toBe('valid');
		expect(report.ingredients).toEqual([{ title: 'A.jpg', relationship: 'parentOf' }]);
		expect(report.actions.map((action) => action.action)).toEqual([
			'c2pa.opened',
			'c2pa.color_adjustments',
		]);
	});

	it('calls XCA.jpg tampered: its pixels no longer match the signed hash', async () => {
		const report = await readC2pa(fixture('c2pa/XCA.jpg'), 'image/jpeg');

		expect(report.validation).toBe('tampered');
		expect(report.validationState).toBe('Invalid');
		expect(report.failureCodes).toEqual(['assertion.dataHash.mismatch']);
	});

	it('calls E-sig-CA.jpg an invalid signature', async () => {
		const report = await readC2pa(fixture('c2pa/E-sig-CA.jpg'), 'image/jpeg');

		expect(report.validation).toBe('invalidSignature');
		expect(report.failureCodes).toContain('claimSignature.mismatch');
	});

	it.each([
		[
			'c2pa/cloud.jpg',
			'image/jpeg',
			'https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391',
		],
		['c2pa/libpng-test_with_url.png', 'image/png', 'http://localhost:5000/libpng-test.c2pa'],
	])('reports the remote manifest of %s without fetching it', async (path, mimeType, url) => {
		const report = await readC2pa(fixture(path), mimeType);

		expect(report).toMatchObject({
			manifest: 'remote',
			remoteManifestUrl: url,
			note: 'remote manifest, not fetched',
			trust: 'unknown',
		});
		expect(report.validation).toBeUndefined();
	});

	it.each([
		['c2pa/no_manifest.jpg', 'image/jpeg'],
		['c2pa/P1000827.jpg', 'image/jpeg'],
		['c2pa/libpng-test.png', 'image/png'],
		['gemini/gemini-2.0-flash-preview-image-generation_eiffel_raw-api.png', 'image/png'],
		['gemini/imagen-3.0-generate-002_vertex_raw-api.jpg', 'image/jpeg'],
	])('finds no manifest in %s', async (path, mimeType) => {
		const report = await readC2pa(fixture(path), mimeType);

		expect(report.manifest).toBe('none');
		expect(report.aiGenerated).toBe(false);
	});

	it("says what was checked: C.jpg's certificate at the time of its time-stamp, E-sig-CA.jpg's against today", async () => {
		const stamped = await readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg');
		// E-sig-CA.jpg's time-stamp does not match its signature, so c2pa-rs has no signing time to use.
		const unstamped = await readC2pa(fixture('c2pa/E-sig-CA.jpg'), 'image/jpeg');

		expect(stamped.certificateValidityAt).toBe('timeStamp');
		expect(stamped.checked).toBe(
			"The signature and the content hashes; the certificate's validity at the signing time of a time-stamp c2pa-rs accepted (timeStamp.trusted); not the certificate chain (no trust anchors given)",
		);
		expect(unstamped.certificateValidityAt).toBe('today');
		expect(unstamped.checked).toContain(
			"the certificate's validity against today's date, because no trusted time-stamp was verified",
		);
	});

	it('reads by content, whatever MIME type it is told', async () => {
		const report = await readC2pa(fixture('c2pa/C.jpg'), 'application/octet-stream');

		expect(report.validation).toBe('valid');
	});

	it('says when the file format cannot carry C2PA', async () => {
		const report = await readC2pa(Buffer.from('BM not really a bitmap'), 'image/bmp');

		expect(report.manifest).toBe('unsupportedFormat');
	});
});

describe('readC2pa with trust anchors', () => {
	it('trusts a signer whose chain ends at a supplied anchor', async () => {
		const report = await readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg', {
			trustAnchorsPem: testRootCertificates().join(''),
		});

		expect(report.trust).toBe('trusted');
		expect(report.validation).toBe('valid');
		expect(report.validationState).toBe('Trusted');
		expect(report.checked).toMatch(/; the certificate chain against the trust anchors given$/);
	});

	it('does not trust a signer outside the supplied anchors, whatever its name', async () => {
		const [unrelatedRoot] = testRootCertificates();
		const report = await readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg', {
			trustAnchorsPem: unrelatedRoot,
		});

		expect(report.trust).toBe('untrusted');
		expect(report.validation).toBe('untrustedSigner');
		expect(report.failureCodes).toEqual(['signingCredential.untrusted']);
	});

	it('still calls tampered content tampered when the signer is trusted', async () => {
		const report = await readC2pa(fixture('c2pa/XCA.jpg'), 'image/jpeg', {
			trustAnchorsPem: testRootCertificates().join(''),
		});

		expect(report.trust).toBe('trusted');
		expect(report.validation).toBe('tampered');
	});

	it('rejects anchors that are not PEM certificates', async () => {
		await expect(
			readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg', { trustAnchorsPem: 'Google C2PA Root CA G3' }),
		).rejects.toThrow('PEM');
	});

	it('rejects PEM blocks that do not hold certificates', async () => {
		const broken = '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n';

		await expect(
			readC2pa(fixture('c2pa/C.jpg'), 'image/jpeg', { trustAnchorsPem: broken }),
		).rejects.toThrow('The trust anchors could not be read as PEM certificates');
	});
});

describe('classifyValidation', () => {
	it.each([
		[[], 'Valid', 'valid'],
		[['assertion.dataHash.mismatch'], 'Invalid', 'tampered'],
		[['assertion.boxesHash.mismatch'], 'Invalid', 'tampered'],
		[['claimSignature.mismatch'], 'Invalid', 'invalidSignature'],
		[['signingCredential.untrusted', 'assertion.dataHash.mismatch'], 'Invalid', 'tampered'],
		[['signingCredential.untrusted'], 'Valid', 'untrustedSigner'],
		[['signingCredential.expired'], 'Invalid', 'expiredSigner'],
		[['signingCredential.ocsp.revoked'], 'Invalid', 'revokedSigner'],
		[['claim.malformed'], 'Invalid', 'invalid'],
		[[], 'Invalid', 'invalid'],
	])('%j with state %s → %s', (codes, state, expected) => {
		expect(classifyValidation(codes, state)).toBe(expected);
	});
});

describe('explainRequireFailure', () => {
	it('says which Node.js is needed when require() refuses an ES module', () => {
		const refused = Object.assign(new Error('require() of ES Module'), { code: 'ERR_REQUIRE_ESM' });
		expect(String(explainRequireFailure(refused))).toMatch(
			/needs Node\.js 20\.19 or later \(22\.12 or later on Node\.js 22\)/,
		);
	});

	it('passes any other failure on unchanged', () => {
		const missing = Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
		expect(explainRequireFailure(missing)).toBe(missing);
	});
});
