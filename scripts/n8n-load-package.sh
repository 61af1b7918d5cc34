#!/usr/bin/env bash
# Loads this package into an n8n user folder the way a user gets it: build, `npm pack`, extract the tarball
# into <user folder>/.n8n/nodes/node_modules/<name>, install its runtime dependencies there.
#
#   scripts/n8n-load-package.sh USER_FOLDER [--no-build]
#
# Uses the same Node as the local n8n (N8N_NODE, see n8n-common.sh), so sharp's native binary is checked
# with the runtime that will load it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/n8n-common.sh"

user_folder=${1:?usage: n8n-load-package.sh USER_FOLDER [--no-build]}
build=true
[ "${2:-}" = --no-build ] && build=false
mkdir -p "$user_folder"
user_folder=$(cd "$user_folder" && pwd)

if $build; then
	log "building the package"
	(cd "$REPO_DIR" && npm run --silent build >&2)
fi
[ -d "$REPO_DIR/dist" ] || die "no dist/ folder: run npm run build"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$REPO_DIR" && npm pack --silent --pack-destination "$work" | tail -n 1)

dest=$user_folder/.n8n/nodes/node_modules/$PACKAGE_NAME
rm -rf "$dest"
mkdir -p "$dest"
tar -xzf "$work/$tarball" -C "$dest" --strip-components=1
log "extracted $tarball into $dest"

use_node
# n8n provides n8n-workflow at run time, so peers are left out, as in a real install. npm 11 may skip install
# scripts; sharp needs none, its native binary comes in the optional package @img/sharp-<platform>.
(cd "$dest" && npm install --omit=dev --omit=peer --no-audit --no-fund --no-package-lock --prefer-offline \
	--loglevel=error >&2)

# Prove sharp loads and works under the Node that runs n8n.
(cd "$dest" && node -e '
	const sharp = require("sharp");
	sharp({ create: { width: 8, height: 4, channels: 3, background: "#fc0" } }).png().toBuffer()
		.then((png) => sharp(png).metadata())
		.then((m) => {
			if (m.width !== 8 || m.format !== "png") throw new Error("sharp produced " + JSON.stringify(m));
			console.error(`[n8n] sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}) works on Node ${process.version}`);
		})
		.catch((e) => { console.error(e); process.exit(1); });
') || die "sharp does not load in $dest"
