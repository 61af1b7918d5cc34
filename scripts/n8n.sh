#!/usr/bin/env bash
# Runs the local n8n's CLI with the project's settings (installs it first when needed).
#
#   N8N_USER_FOLDER=/some/dir scripts/n8n.sh list:workflow
#   N8N_USER_FOLDER=/some/dir scripts/n8n.sh execute-batch --ids=a,b --snapshot=out --output=summary.json
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/n8n-common.sh"

[ -n "${N8N_USER_FOLDER:-}" ] || die "set N8N_USER_FOLDER to the user folder to run in"
use_node
[ -f "$N8N_DIR/.installed" ] || "$REPO_DIR/scripts/n8n-install.sh"
n8n_env
exec node "$N8N_BIN" "$@"
