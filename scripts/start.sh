#!/usr/bin/env bash
# `npm start`: a local n8n editor with this package loaded, the example workflows imported and a credential made.
#
#   npm start                        # images come from the project's Gemini simulator (nothing is billed)
#   GEMINI_API_KEY=... npm start     # images come from Google's Gemini API (billed to that key)
#
# Knobs (all listed in the README's Development section): N8N_PORT (5678), N8N_LISTEN_ADDRESS (127.0.0.1),
# N8N_RUNNERS_BROKER_PORT (the task runner's port; a free one is picked), N8N_START_FOLDER (.e2e/editor, kept
# between runs), GEMINI_SIM_PORT (8787), GEMINI_SIM_MISRENDER_TEXT (30: that percent of simulated images
# misspell the text their prompt quotes, as real models sometimes do, so the retry-loop example shows its Fail
# branch; 0 turns it off), N8N_OWNER_EMAIL / N8N_OWNER_PASSWORD (the local sign-in), N8N_LOG_LEVEL_START
# (info), CHAT_STANDIN_PORT (8788: the agent example's stand-in chat model), and those of n8n-common.sh.
# Runs on Linux (x64, arm64) and macOS (x64; Apple silicon with a Node 24 on PATH). Ctrl-C stops n8n and the
# simulator.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/n8n-common.sh"

PORT=${N8N_PORT:-5678}
LISTEN=${N8N_LISTEN_ADDRESS:-127.0.0.1}
USER_FOLDER=${N8N_START_FOLDER:-$REPO_DIR/.e2e/editor}
SIM_PORT=${GEMINI_SIM_PORT:-8787}
CHAT_PORT=${CHAT_STANDIN_PORT:-8788}
CHAT_CREDENTIAL_ID=nbsLocalChatStandIn
CHAT_CREDENTIAL_NAME="Chat model stand-in (local)"
OWNER_EMAIL=${N8N_OWNER_EMAIL:-owner@example.com}
OWNER_PASSWORD=${N8N_OWNER_PASSWORD:-NanoBanana1}
CREDENTIAL_ID=nbsLocalCredential1
CREDENTIAL_NAME="Nano Banana account"

# Each background process leads its own process group (set -m; macOS has no setsid), so stopping one stops
# everything it started. The ${pids[@]+...} form: macOS's bash 3.2 calls an empty array unbound under set -u.
pids=()
stop_all() {
	trap - INT TERM EXIT
	local pid
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -TERM -- "-$pid" 2>/dev/null || true
	done
	for pid in ${pids[@]+"${pids[@]}"}; do
		# n8n shuts down gracefully; give it a moment, then make sure nothing is left
		for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
}
trap 'echo; log "stopping"; stop_all; exit 130' INT TERM
trap stop_all EXIT

# Stops before anything starts when a port is taken, naming it: another server answering n8n's readiness
# check would otherwise look like a running n8n.
check_port() { # PORT VARIABLE HOST
	port_busy "${3:-127.0.0.1}" "$1" || return 0
	die "port $1 ($2) is in use by another program. Stop that program, or pick a free port: $2=$(($1 + 1)) npm start"
}
check_ports() {
	check_port "$PORT" N8N_PORT "$LISTEN"
	[ -n "${GEMINI_API_KEY:-}" ] || check_port "$SIM_PORT" GEMINI_SIM_PORT
	check_port "$CHAT_PORT" CHAT_STANDIN_PORT
}
check_ports

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
	check_port "$SIM_PORT" GEMINI_SIM_PORT
	set -m
	(cd "$REPO_DIR" && PORT=$SIM_PORT GEMINI_SIM_API_KEY=$api_key GEMINI_SIM_MISRENDER_TEXT=${GEMINI_SIM_MISRENDER_TEXT:-30} \
		exec npm run --silent gemini-sim) \
		>"$USER_FOLDER/gemini-sim.log" 2>&1 &
	sim_pid=$!
	set +m
	pids+=("$sim_pid")
	host=http://127.0.0.1:$SIM_PORT
	for _ in $(seq 1 120); do
		kill -0 "$sim_pid" 2>/dev/null || { cat "$USER_FOLDER/gemini-sim.log" >&2; die "the simulator did not start"; }
		curl -fsS "$host/__sim/stats" >/dev/null 2>&1 && break
		sleep 0.5
	done
	kill -0 "$sim_pid" 2>/dev/null && curl -fsS "$host/__sim/stats" >/dev/null ||
		die "the simulator does not answer on $host; see $USER_FOLDER/gemini-sim.log"
	source_note="the local Gemini SIMULATOR at $host: images are SIMULATED (flat colours), nothing reaches Google"
fi

# The agent example's chat model: a stand-in that makes its tool calls in order (it does not think).
log "starting the chat model stand-in for the agent example on port $CHAT_PORT"
check_port "$CHAT_PORT" CHAT_STANDIN_PORT
set -m
(cd "$REPO_DIR" && CHAT_STANDIN_PORT=$CHAT_PORT exec npm run --silent chat-standin) \
	>"$USER_FOLDER/chat-standin.log" 2>&1 &
chat_pid=$!
set +m
pids+=("$chat_pid")
chat_url=http://127.0.0.1:$CHAT_PORT/v1
for _ in $(seq 1 120); do
	kill -0 "$chat_pid" 2>/dev/null || { cat "$USER_FOLDER/chat-standin.log" >&2; die "the chat model stand-in did not start"; }
	curl -fsS "$chat_url/models" >/dev/null 2>&1 && break
	sleep 0.5
done

broker_port_set=${N8N_RUNNERS_BROKER_PORT:-}
n8n_env
export N8N_USER_FOLDER=$USER_FOLDER
# The task runner (Code nodes) has a port of its own: a free one unless N8N_RUNNERS_BROKER_PORT says which.
if [ -n "$broker_port_set" ]; then
	check_port "$N8N_RUNNERS_BROKER_PORT" N8N_RUNNERS_BROKER_PORT
else
	while port_busy 127.0.0.1 "$N8N_RUNNERS_BROKER_PORT"; do
		N8N_RUNNERS_BROKER_PORT=$((N8N_RUNNERS_BROKER_PORT + 1))
	done
fi
export N8N_LOG_LEVEL=${N8N_LOG_LEVEL_START:-info}

# The credential is imported every time, so it follows the choice above.
credentials=$(mktemp)
chmod 600 "$credentials"
node -e '
	const [id, name, host, apiKey, chatId, chatName, chatUrl] = process.argv.slice(1);
	console.log(JSON.stringify([
		{ id, name, type: "nanoBananaApi", data: { apiKey, host } },
		{ id: chatId, name: chatName, type: "openAiApi", data: { apiKey: "sk-standin", url: chatUrl } },
	]));
' "$CREDENTIAL_ID" "$CREDENTIAL_NAME" "$host" "$api_key" "$CHAT_CREDENTIAL_ID" "$CHAT_CREDENTIAL_NAME" "$chat_url" >"$credentials"
n8n import:credentials --input="$credentials" >/dev/null
rm -f "$credentials"

# Examples are imported when new or changed, so edits made in the editor survive a restart.
examples=$(mktemp -d)
# With the simulator, the photos the examples download come from it, so they run offline.
photos_url=
[ -z "${GEMINI_API_KEY:-}" ] && photos_url=$host/__sim/photos
CHAT_CREDENTIAL_ID=$CHAT_CREDENTIAL_ID CHAT_CREDENTIAL_NAME=$CHAT_CREDENTIAL_NAME \
	node "$REPO_DIR/scripts/prepare-examples.js" "$REPO_DIR/examples" "$examples" "$USER_FOLDER/.examples-imported" \
	"$CREDENTIAL_ID" "$CREDENTIAL_NAME" $photos_url
if compgen -G "$examples/*.json" >/dev/null; then
	n8n import:workflow --separate --input="$examples" >/dev/null
	cp "$examples/.imported" "$USER_FOLDER/.examples-imported"
	log "imported the example workflows: $(cd "$examples" && ls -- *.json | tr '\n' ' ')"
fi
rm -rf "$examples"

check_port "$PORT" N8N_PORT "$LISTEN"
log "starting n8n $N8N_VERSION on Node $(node -v)"
set -m
N8N_PORT=$PORT N8N_LISTEN_ADDRESS=$LISTEN N8N_SECURE_COOKIE=false \
	node "$N8N_BIN" start >"$USER_FOLDER/n8n.log" 2>&1 &
n8n_pid=$!
set +m
pids+=("$n8n_pid")
# The address to reach it at from this machine (any-address and loopback listeners answer on 127.0.0.1).
case $LISTEN in
0.0.0.0 | 127.0.0.1 | :: | localhost) probe=127.0.0.1 url=http://localhost:$PORT ;;
*:*) probe="[$LISTEN]" url=http://[$LISTEN]:$PORT ;;
*) probe=$LISTEN url=http://$LISTEN:$PORT ;;
esac
# Ready means: our n8n process is alive, it wrote that it listens, and the port answers it is ready.
# (n8n writes that line at log level info; at a quieter N8N_LOG_LEVEL_START the free-port check stands alone.)
listening_logged() {
	case $N8N_LOG_LEVEL in
	info | debug) grep -q "Editor is now accessible" "$USER_FOLDER/n8n.log" ;;
	*) true ;;
	esac
}
n8n_ready() {
	listening_logged && curl -fsS "http://$probe:$PORT/healthz/readiness" >/dev/null 2>&1
}
for _ in $(seq 1 240); do
	kill -0 "$n8n_pid" 2>/dev/null || { tail -40 "$USER_FOLDER/n8n.log" >&2; die "n8n stopped while starting"; }
	n8n_ready && break
	sleep 0.5
done
kill -0 "$n8n_pid" 2>/dev/null && n8n_ready || die "n8n did not become ready; see $USER_FOLDER/n8n.log"

# Claim the instance on first start, so the editor opens on a sign-in page instead of the setup form.
node "$REPO_DIR/scripts/setup-owner.js" "$url" "$OWNER_EMAIL" "$OWNER_PASSWORD"

reach="only from this machine (N8N_LISTEN_ADDRESS=0.0.0.0 opens it to others)"
case $LISTEN in 127.0.0.1 | localhost) ;; *) reach="from other machines too, at this machine's address" ;; esac

cat >&2 <<EOF

  n8n $N8N_VERSION is running with n8n-nodes-nano-banana-studio loaded.

    Editor:       $url, reachable $reach
    Sign in:      $OWNER_EMAIL / $OWNER_PASSWORD
    Credential:   "$CREDENTIAL_NAME", using $source_note
    Workflows:    the examples from examples/ (open one and press "Execute workflow")
    Logs:         $USER_FOLDER/n8n.log

  Press Ctrl-C to stop.

EOF

wait "$n8n_pid" || true
log "n8n exited; see $USER_FOLDER/n8n.log"
