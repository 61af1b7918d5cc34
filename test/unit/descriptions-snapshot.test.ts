/**
 * What n8n reads of each node and the credential, as JSON, kept in a snapshot: a refactor must leave
 * it byte-identical (saved workflows depend on every name, default and display option). A change
 * meant to alter a description updates the snapshot on purpose: `npx jest -u test/unit/descriptions`.
 */
import { NanoBananaApi } from '../../credentials/NanoBananaApi.credentials';
import { NanoBananaBatchResults } from '../../nodes/NanoBananaBatchResults/NanoBananaBatchResults.node';
import { NanoBananaEdit } from '../../nodes/NanoBananaEdit/NanoBananaEdit.node';
import { NanoBananaFuse } from '../../nodes/NanoBananaFuse/NanoBananaFuse.node';
import { NanoBananaGenerate } from '../../nodes/NanoBananaGenerate/NanoBananaGenerate.node';
import { NanoBananaVerify } from '../../nodes/NanoBananaVerify/NanoBananaVerify.node';

const described = {
	NanoBananaGenerate: new NanoBananaGenerate().description,
	NanoBananaEdit: new NanoBananaEdit().description,
	NanoBananaFuse: new NanoBananaFuse().description,
	NanoBananaVerify: new NanoBananaVerify().description,
	NanoBananaBatchResults: new NanoBananaBatchResults().description,
	NanoBananaApi: new NanoBananaApi(),
};

describe('descriptions as n8n reads them', () => {
	it.each(Object.keys(described))('%s is unchanged', (name) => {
		const json = JSON.stringify(described[name as keyof typeof described], null, 1);
		expect(json).toMatchSnapshot();
	});
});
