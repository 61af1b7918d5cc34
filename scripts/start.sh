#!/usr/bin/env bash
# `npm start`: a local n8n editor with this package loaded, the example workflows imported and a credential made.
#
#   npm start                        # images come from the project's Gemini simulator (nothing is billed)
#   GEMINI_API_KEY=... npm start     # images come from Google's Gemini API (billed to that key)
#
# Knobs: N8N_PORT (5678), N8N_LISTEN_ADDRESS (127.0.0.1), N8N_START_FOLDER (.e2e/editor, kept between runs),
# GEMINI_SIM_PORT (8787), GEMINI_SIM_MISRENDER_TEXT (30: that percent of simulated images misspell the text their
# prompt quotes, as real models sometimes do, so the retry-loop example shows its Fail branch; 0 turns it off), N8N_OWNER_EMAIL / N8N_OWNER_PASSWORD (the local sign-in), and those of n8n-common.sh.
# Ctrl-C stops n8n and the simulator.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/n8n-common.sh"

PORT=${N8N_PORT:-5678}
LISTEN=${N8N_LISTEN_ADDRESS:-127.0.0.1}
USER_FOLDER=${N8N_START_FOLDER:-$REPO_DIR/.e2e/editor}
SIM_PORT=${GEMINI_SIM_PORT:-8787}
OWNER_EMAIL=${N8N_OWNER_EMAIL:-owner@example.com}
OWNER_PASSWORD=${N8N_OWNER_PASSWORD:-NanoBanana1}
CREDENTIAL_ID=nbsLocalCredential1
CREDENTIAL_NAME="Nano Banana account"

pids=()
stop_all() {
	trap - INT TERM EXIT
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# n8n shuts down gracefully; give it a moment, then make sure nothing is left
		for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
}
trap 'echo; log "stopping"; stop_all; exit 130' INT TERM
trap stop_all EXIT

# A fresh clone has no node_modules yet; the build and the simulator need them.
if [ ! -d "$REPO_DIR/node_modules" ]; then
	log "installing the project's dependencies (npm ci, once)"
	(cd "$REPO_DIR" && npm ci --no-audit --no-fund >&2)
fi

"$REPO_DIR/scripts/n8n-install.sh"
use_node

if [ ! -f "$USER_FOLDER/.n8n/database.sqlite" ]; then
	log "creating the n8n user folder $USER_FOLDER"
	mkdir -p "$(dirname "$USER_FOLDER")"
	cp -a "$N8N_TEMPLATE" "$USER_FOLDER"
fi
"$REPO_DIR/scripts/n8n-load-package.sh" "$USER_FOLDER"

# Where images come from.
if [ -n "${GEMINI_API_KEY:-}" ]; then
	host=https://generativelanguage.googleapis.com
	api_key=$GEMINI_API_KEY
	source_note="Google's Gemini API (requests are billed to your GEMINI_API_KEY)"
else
	api_key=local-simulator-key
	log "starting the Gemini simulator on port $SIM_PORT"
	# its own process group, so Ctrl-C handling can stop it and everything it started
	# The e2e suite runs the examples with the same misrendering (test/e2e/workflows.test.ts).
	(cd "$REPO_DIR" && PORT=$SIM_PORT GEMINI_SIM_API_KEY=$api_key GEMINI_SIM_MISRENDER_TEXT=${GEMINI_SIM_MISRENDER_TEXT:-30} \
		exec setsid npm run --silent gemini-sim) \
		>"$USER_FOLDER/gemini-sim.log" 2>&1 &
	pids+=("$!")
	host=http://127.0.0.1:$SIM_PORT
	for _ in $(seq 1 120); do
		curl -fsS "$host/__sim/stats" >/dev/null 2>&1 && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$USER_FOLDER/gemini-sim.log" >&2; die "the simulator did not start"; }
		sleep 0.5
	done
	curl -fsS "$host/__sim/stats" >/dev/null || die "the simulator does not answer on $host"
	source_note="the local Gemini SIMULATOR at $host: images are SIMULATED (flat colours), nothing reaches Google"
fi

n8n_env
export N8N_USER_FOLDER=$USER_FOLDER
export N8N_LOG_LEVEL=${N8N_LOG_LEVEL_START:-info}

# The credential is imported every time, so it follows the choice above.
credentials=$(mktemp)
chmod 600 "$credentials"
node -e '
	const [id, name, host, apiKey] = process.argv.slice(1);
	console.log(JSON.stringify([{ id, name, type: "nanoBananaApi", data: { apiKey, host } }]));
' "$CREDENTIAL_ID" "$CREDENTIAL_NAME" "$host" "$api_key" >"$credentials"
n8n import:credentials --input="$credentials" >/dev/null
rm -f "$credentials"

# Examples are imported when new or changed, so edits made in the editor survive a restart.
examples=$(mktemp -d)
# With the simulator, the photos the examples download come from it, so they run offline.
photos_url=
[ -z "${GEMINI_API_KEY:-}" ] && photos_url=$host/__sim/photos
node "$REPO_DIR/scripts/prepare-examples.js" "$REPO_DIR/examples" "$examples" "$USER_FOLDER/.examples-imported" \
	"$CREDENTIAL_ID" "$CREDENTIAL_NAME" $photos_url
if compgen -G "$examples/*.json" >/dev/null; then
	n8n import:workflow --separate --input="$examples" >/dev/null
	cp "$examples/.imported" "$USER_FOLDER/.examples-imported"
	log "imported the example workflows: $(cd "$examples" && ls -- *.json | tr '\n' ' ')"
fi
rm -rf "$examples"

log "starting n8n $N8N_VERSION on Node $(node -v)"
N8N_PORT=$PORT N8N_LISTEN_ADDRESS=$LISTEN N8N_SECURE_COOKIE=false \
	setsid node "$N8N_BIN" start >"$USER_FOLDER/n8n.log" 2>&1 &
n8n_pid=$!
pids+=("$n8n_pid")
url=http://localhost:$PORT
for _ in $(seq 1 240); do
	curl -fsS "$url/healthz/readiness" >/dev/null 2>&1 && break
	kill -0 "$n8n_pid" 2>/dev/null || { tail -40 "$USER_FOLDER/n8n.log" >&2; die "n8n stopped while starting"; }
	sleep 0.5
done
curl -fsS "$url/healthz/readiness" >/dev/null || die "n8n did not become ready; see $USER_FOLDER/n8n.log"

# Claim the instance on first start, so the editor opens on a sign-in page instead of the setup form.
node "$REPO_DIR/scripts/setup-owner.js" "$url" "$OWNER_EMAIL" "$OWNER_PASSWORD"

cat >&2 <<EOF

  n8n $N8N_VERSION is running with n8n-nodes-nano-banana-studio loaded.

    Editor:       $url
    Sign in:      $OWNER_EMAIL / $OWNER_PASSWORD
    Credential:   "$CREDENTIAL_NAME", using $source_note
    Workflows:    the examples from examples/ (open one and press "Execute workflow")
    Logs:         $USER_FOLDER/n8n.log

  Press Ctrl-C to stop.

EOF

wait "$n8n_pid" || true
log "n8n exited; see $USER_FOLDER/n8n.log"
