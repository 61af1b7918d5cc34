#!/usr/bin/env node
// Creates the owner account of a fresh local n8n through its REST API, so the editor opens on a sign-in page
// instead of the setup form. Does nothing when the owner exists already.
//
//   node scripts/setup-owner.js http://localhost:5678 owner@example.com 'Password1'
'use strict';

// n8n answers its health check before the REST API is mounted; until then the editor's HTML comes back.
async function restSettings(url) {
	for (let attempt = 0; attempt < 120; attempt++) {
		const response = await fetch(`${url}/rest/settings`);
		if ((response.headers.get('content-type') ?? '').includes('application/json'))
			return await response.json();
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	throw new Error(`${url}/rest/settings did not answer with JSON`);
}

async function main() {
	const [url, email, password] = process.argv.slice(2);
	if (!url || !email || !password) throw new Error('usage: setup-owner.js URL EMAIL PASSWORD');

	const settings = await restSettings(url);
	if (settings?.data?.userManagement?.showSetupOnFirstLoad === false) return;

	const response = await fetch(`${url}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ email, firstName: 'Local', lastName: 'Owner', password }),
	});
	if (!response.ok) {
		const body = await response.text();
		if (/already setup/i.test(body)) return;
		throw new Error(`owner setup failed: HTTP ${response.status} ${body}`);
	}
	console.error(`[n8n] created the owner account ${email}`);
}

main().catch((error) => {
	console.error(`[n8n] ${error.message}`);
	process.exit(1);
});
