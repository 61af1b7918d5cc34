#!/usr/bin/env node
// Copies the example workflows that are new or changed since the last import into OUT_DIR, with every
// Nano Banana node set to use the local credential (and the agent example's chat model the stand-in's, from
// CHAT_CREDENTIAL_ID and CHAT_CREDENTIAL_NAME). Writes OUT_DIR/.imported (the state to keep for next time).
//
//   node scripts/prepare-examples.js EXAMPLES_DIR OUT_DIR STATE_FILE CREDENTIAL_ID CREDENTIAL_NAME [PHOTOS_URL]
//
// With PHOTOS_URL (the simulator's /__sim/photos), a download of a photo that test/fixtures/photos also holds is
// pointed there, so the examples run offline.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const [examplesDir, outDir, stateFile, credentialId, credentialName, photosUrl] =
	process.argv.slice(2);
const photosDir = path.join(__dirname, '..', 'test', 'fixtures', 'photos');
if (!credentialName) {
	console.error(
		'usage: prepare-examples.js EXAMPLES_DIR OUT_DIR STATE_FILE CREDENTIAL_ID CREDENTIAL_NAME',
	);
	process.exit(2);
}

const previous = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : {};
const state = {};
for (const name of fs
	.readdirSync(examplesDir)
	.filter((n) => n.endsWith('.json'))
	.sort()) {
	const text = fs.readFileSync(path.join(examplesDir, name), 'utf8');
	const hash = crypto
		.createHash('sha256')
		.update(`${text}${photosUrl ?? ''}`)
		.digest('hex');
	state[name] = hash;
	if (previous[name] === hash) continue;

	const workflow = JSON.parse(text);
	for (const node of workflow.nodes) {
		const url = node.parameters && node.parameters.url;
		if (
			photosUrl &&
			node.type === 'n8n-nodes-base.httpRequest' &&
			typeof url === 'string' &&
			fs.existsSync(path.join(photosDir, path.basename(url)))
		) {
			node.parameters.url = `${photosUrl}/${path.basename(url)}`;
		}
		if (node.type.startsWith('n8n-nodes-nano-banana-studio.')) {
			node.credentials = { nanoBananaApi: { id: credentialId, name: credentialName } };
		}
		// The agent example's chat model: the local stand-in (CHAT_CREDENTIAL_ID / _NAME), when given.
		if (node.type === '@n8n/n8n-nodes-langchain.lmChatOpenAi' && process.env.CHAT_CREDENTIAL_ID) {
			node.credentials = {
				openAiApi: { id: process.env.CHAT_CREDENTIAL_ID, name: process.env.CHAT_CREDENTIAL_NAME },
			};
		}
	}
	fs.writeFileSync(path.join(outDir, name), JSON.stringify(workflow, null, '\t'));
}
fs.writeFileSync(path.join(outDir, '.imported'), JSON.stringify(state, null, '\t'));
