#!/usr/bin/env bash
# The whole suite from a clean clone: install, build, lint, type-check, unit and integration
# tests (and the integration tests again on Node 22), then the end-to-end suite in a real n8n.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
reports=.reports
rm -rf "$reports" && mkdir -p "$reports"
status=0
step() { echo "== $*"; "$@" || { echo "!! failed: $*"; status=1; }; }

step npm ci --no-audit --no-fund || true
[ -d node_modules ] || { echo "npm ci failed; nothing else can run"; echo "0 passed, 1 failed"; exit 1; }
step npm run build
step npm run lint
# n8n's own scanner of community packages, offline, on the source and the packed tarball
step node scripts/scan-package.mjs
step npm run typecheck
# The Redis tests of the quota gates start a redis-server of their own; queue mode's e2e needs PostgreSQL too.
step bash scripts/queue-services.sh install
step npx jest --ci --json --outputFile="$reports/jest.json"
# Users run n8n on Node 22 and 24: the integration tests again on Node 22 (the e2e suite runs n8n on 24).
step bash scripts/with-node.sh 22.23.5 npx jest --ci test/integration test/unit/provenance --json --outputFile="$reports/node22.json"
if [ -f test/e2e/jest.config.js ]; then
	step npx jest --ci -c test/e2e/jest.config.js --json --outputFile="$reports/e2e.json"
fi

node -e '
const fs = require("fs");
let passed = 0, failed = 0;
for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.endsWith(".json"))) {
	const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
	passed += r.numPassedTests; failed += r.numFailedTests;
	// A suite that failed to load has no failed tests but must still count.
	failed += r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
}
console.log(`${passed} passed, ${failed} failed`);
' "$reports"
exit $status
