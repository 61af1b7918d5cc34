import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { NanoBananaApi } from '../../credentials/NanoBananaApi.credentials';

// The example workflows' sticky notes, read as a user sees them in the editor: what they tell the user
// to do must be true after `npm start` and in their own n8n, and no node may sit on a note's text.

interface WorkflowNode {
	name: string;
	type: string;
	position: [number, number];
	parameters: { content?: string; width?: number; height?: number };
}

const examplesDir = join(__dirname, '..', '..', 'examples');
const examples = readdirSync(examplesDir)
	.filter((f) => f.endsWith('.json'))
	.map((file) => ({
		file,
		nodes: (JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as { nodes: WorkflowNode[] })
			.nodes,
	}));
const isNote = (n: WorkflowNode) => n.type === 'n8n-nodes-base.stickyNote';
const notes = examples.flatMap(({ file, nodes }) =>
	nodes.filter(isNote).map((note) => ({ file, note, nodes: nodes.filter((n) => !isNote(n)) })),
);

// n8n draws a node as a 100 px square from its position; a note's text is about 14 px type.
const NODE_SIZE = 100;
const CHAR_WIDTH = 8; // on the wide side, so the estimate errs towards more lines
const LINE_HEIGHT = 22;

/** A generous estimate of the height of a note's rendered text. */
function textHeight(content: string, width: number): number {
	const perLine = Math.floor((width - 40) / CHAR_WIDTH);
	let height = 40; // padding
	for (const line of content.split('\n')) {
		if (line.startsWith('## ')) height += 40;
		else if (line === '') height += 14;
		else height += Math.ceil(line.length / perLine) * LINE_HEIGHT;
	}
	return height;
}

describe('example workflows: sticky notes', () => {
	it('there are examples with notes', () => {
		expect(examples.length).toBeGreaterThanOrEqual(5);
		expect(notes.length).toBeGreaterThanOrEqual(examples.length);
	});

	it.each(notes.map((n) => [n.file, n]))('%s: the note is tall enough for its text', (_, n) => {
		const { content = '', width = 240, height = 160 } = n.note.parameters;
		expect(textHeight(content, width)).toBeLessThanOrEqual(height);
	});

	it.each(notes.map((n) => [n.file, n]))('%s: no node covers the note', (_, n) => {
		const [x, y] = n.note.position;
		const { width = 240, height = 160 } = n.note.parameters;
		const covering = n.nodes.filter(
			({ position: [nx, ny] }) =>
				nx < x + width && nx + NODE_SIZE > x && ny < y + height && ny + NODE_SIZE > y,
		);
		expect(covering.map((c) => c.name)).toEqual([]);
	});

	it.each(notes.map((n) => [n.file, n]))(
		'%s: says the credential is set by npm start and names it as n8n lists it',
		(_, n) => {
			const content = n.note.parameters.content ?? '';
			// `npm start` selects its credential in every node (scripts/prepare-examples.js)
			expect(content).not.toMatch(/\bSelect a\b/);
			const named = content.match(/\*\*(Nano Banana \([^*]*)\*\*/g) ?? [];
			for (const name of named) expect(name).toBe(`**${new NanoBananaApi().displayName}**`);
		},
	);
});
