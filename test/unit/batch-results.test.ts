/**
 * Reading a batch job's JSONL results file: indexed by key in one pass, each line read from disk
 * only when its item is written.
 */
import { mkdtemp, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';

import { indexJsonlResults, inItemOrder } from '../../nodes/shared/batch';

let dir: string;
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'batch-results-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function resultsFile(name: string, text: string) {
	const path = join(dir, name);
	await writeFile(path, text);
	return await indexJsonlResults(path);
}

describe('indexJsonlResults', () => {
	it('finds every line by its key, in any order, whether the key comes first or last', async () => {
		const big = 'A'.repeat(300_000); // spans several read chunks
		const lines = [
			JSON.stringify({
				key: 'item2',
				response: {
					responseId: 'r2',
					candidates: [
						{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: big } }] } },
					],
				},
			}),
			JSON.stringify({ error: { code: 3, message: 'bad size' }, key: 'item0' }),
			'',
			JSON.stringify({ key: 'item\\"1', response: { responseId: 'r1' } }),
		];
		const results = await resultsFile('mixed.jsonl', `${lines.join('\r\n')}\n\n`);
		try {
			expect(results.keys().sort()).toEqual(['item0', 'item2', 'item\\"1']);
			expect(await results.get('item0')).toEqual({
				key: 'item0',
				error: { code: 3, message: 'bad size' },
			});
			const item2 = await results.get('item2');
			expect(item2?.response?.responseId).toBe('r2');
			expect(item2?.response?.candidates?.[0].content?.parts?.[0].inlineData?.data).toHaveLength(
				big.length,
			);
			expect((await results.get('item\\"1'))?.response?.responseId).toBe('r1');
			expect(await results.get('item9')).toBeUndefined();
		} finally {
			await results.close();
		}
	});

	it("finds a key written last, as Google writes it, from the line's end only", async () => {
		// Images of several MB per line: indexing must not read (let alone parse) them. The middle of
		// the second line is not JSON, so only a read of its ends can find its key.
		const image = 'B'.repeat(2_000_000);
		const answer = (id: string) =>
			`{"response":{"responseId":"${id}","candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"${image}"}}]}}]},"key":"item${id}"}`;
		const unreadable = `{"response":{"data":"${image}" <cut> },"key" : "item1" }`;
		const results = await resultsFile(
			'key-last.jsonl',
			[answer('0'), unreadable, answer('2')].join('\n') + '\n',
		);
		try {
			expect(results.keys()).toEqual(['item0', 'item1', 'item2']);
			expect((await results.get('item2'))?.response?.responseId).toBe('2');
		} finally {
			await results.close();
		}
	});

	it('reads a last line without a newline, and an empty file as no results', async () => {
		const last = await resultsFile(
			'last.jsonl',
			`${JSON.stringify({ key: 'a', response: {} })}\n${JSON.stringify({ key: 'b', response: {} })}`,
		);
		expect(last.keys()).toEqual(['a', 'b']);
		expect(await last.get('b')).toEqual({ key: 'b', response: {} });
		await last.close();
		const empty = await resultsFile('empty.jsonl', '');
		expect(empty.keys()).toEqual([]);
		await empty.close();
	});
});

describe('inItemOrder', () => {
	it('merges items refused before the job with its results by source item, keeping order within an item', () => {
		const refused = [{ json: { n: 'refused 1' }, pairedItem: { item: 1 } }];
		const results = [
			{ json: { n: 'item 0' }, pairedItem: { item: 0 } },
			{ json: { n: 'item 2, first' }, pairedItem: { item: 2 } },
			{ json: { n: 'item 2, second' }, pairedItem: { item: 2 } },
			{ json: { n: 'gathered' }, pairedItem: [{ item: 3 }, { item: 4 }] },
		];
		expect(inItemOrder(refused, results).map((item) => item.json.n)).toEqual([
			'item 0',
			'refused 1',
			'item 2, first',
			'item 2, second',
			'gathered',
		]);
	});
});
