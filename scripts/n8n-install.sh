#!/usr/bin/env bash
# Installs a pinned n8n outside the repo, once per n8n version and Node major; later runs reuse it.
#
#   scripts/n8n-install.sh            # n8n 2.41.1 on Node 24 (from the npm package node-<os>-<cpu>)
#   N8N_VERSION=2.8.4 N8N_NODE=system scripts/n8n-install.sh   # the last n8n that runs on Node 20
#   scripts/n8n-install.sh --print    # also print the paths as JSON on stdout (used by the e2e tests)
#
# Only the npm registry and Debian packages are needed: install scripts are off (kafka, sqlite3 and scarf
# would try to download), and sqlite3, the one native module n8n needs, is built from the system library.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/n8n-common.sh"

use_node

install_sqlite_headers() {
	[ -f /usr/include/sqlite3.h ] && return 0
	command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 0
	log "installing libsqlite3-dev"
	apt-get install -y -q libsqlite3-dev >&2 || { apt-get update -q >&2 && apt-get install -y -q libsqlite3-dev >&2; } || true
}

build_sqlite3() {
	local gyp flags=()
	gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
	[ -f "$gyp" ] || gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
	install_sqlite_headers
	# against the system library it takes seconds; the bundled amalgamation takes over a minute
	[ -f /usr/include/sqlite3.h ] && flags=(--sqlite=/usr)
	log "building sqlite3 for Node $(node -v) ${flags[*]:-(bundled sqlite)}"
	# getconf, not nproc (macOS has no nproc); the empty-array form suits macOS's bash 3.2 with set -u
	(cd "$N8N_DIR/node_modules/sqlite3" &&
		node "$gyp" rebuild --release -j "$(getconf _NPROCESSORS_ONLN)" --nodedir="$NODE_DIR" \
			${flags[@]+"${flags[@]}"} >&2)
}

# npm says nothing for minutes while it installs n8n: every 30 s, how far it got.
report_progress() {
	local entries
	while sleep 30; do
		# npm fills node_modules near the end; before that it downloads into its cache
		entries=$(ls "$N8N_DIR/node_modules" 2>/dev/null | wc -l | tr -d ' ')
		log "still installing n8n, $((SECONDS - started)) s: $entries of about 1,100 folders in node_modules"
	done
}

if [ -f "$N8N_DIR/.installed" ]; then
	log "reusing n8n $N8N_VERSION in $N8N_DIR"
else
	started=$SECONDS
	rm -rf "$N8N_DIR"
	mkdir -p "$N8N_DIR"
	# n8n <= 2.8 points xlsx at a tarball outside the registry; the override is harmless for newer versions
	cat >"$N8N_DIR/package.json" <<JSON
{
	"name": "nano-banana-local-n8n",
	"private": true,
	"dependencies": { "n8n": "$N8N_VERSION" },
	"overrides": { "xlsx": "0.18.5" }
}
JSON
	log "installing n8n $N8N_VERSION on Node $(node -v) into $N8N_DIR, once: 2.8 GB, 4 to 10 minutes"
	report_progress &
	progress_pid=$!
	trap 'kill "$progress_pid" 2>/dev/null || true' EXIT
	(cd "$N8N_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	build_sqlite3
	kill "$progress_pid" 2>/dev/null || true
	touch "$N8N_DIR/.installed"
	log "installed in $((SECONDS - started)) s"
fi

# A user folder whose database is already migrated: copying it saves several seconds per n8n start.
if [ ! -f "$N8N_TEMPLATE/.n8n/database.sqlite" ]; then
	log "creating the migrated user-folder template"
	rm -rf "$N8N_TEMPLATE"
	mkdir -p "$N8N_TEMPLATE"
	(n8n_env && N8N_USER_FOLDER=$N8N_TEMPLATE n8n list:workflow >/dev/null)
fi

log "ready: n8n $N8N_VERSION on Node $(node -v)"
if [ "${1:-}" = --print ]; then
	node -e 'console.log(JSON.stringify({
		n8nVersion: process.argv[1], nodeBin: process.execPath, n8nDir: process.argv[2], n8nBin: process.argv[3],
		template: process.argv[4], encryptionKey: process.argv[5] }))' \
		"$N8N_VERSION" "$N8N_DIR" "$N8N_BIN" "$N8N_TEMPLATE" "$E2E_ENCRYPTION_KEY"
fi
