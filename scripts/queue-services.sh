#!/usr/bin/env bash
# Redis and PostgreSQL for running n8n in queue mode locally (test/e2e/queue-mode.test.ts), each on a loopback
# port of its own, with throwaway data.
#
#   scripts/queue-services.sh start   # prints one JSON line: the ports, database, user and password it used
#   scripts/queue-services.sh stop    # stops both and removes their data; does nothing when nothing runs
#   scripts/queue-services.sh install # only installs what is missing (the integration tests start redis-server)
#
# `start` installs the Debian packages redis-server and postgresql when their programs are missing (as root,
# with apt-get), and stops whatever an earlier `start` left behind first, so it can be run again and again.
# PostgreSQL refuses to run as root: as root it runs as the user postgres (the package creates it). Installing
# the Debian packages may also start their default services (ports 5432 and 6379) where the system allows it;
# this script leaves those alone and never uses them.
#
# Knobs (environment):
#   QUEUE_SERVICES_STATE   where the state of a run is kept (default .e2e/queue-services in the repo)
#   QUEUE_PG_PORT, QUEUE_REDIS_PORT   ports to use (default: free ports picked at random)
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${QUEUE_SERVICES_STATE:-$REPO_DIR/.e2e/queue-services}
STATE_ENV=$STATE_DIR/state.env
STATE_JSON=$STATE_DIR/services.json
DB_NAME=n8n
DB_USER=n8n

log() { echo "[queue-services] $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- stop ---------------------------------------------------------------------------------------------------

# Whether pid is alive and runs the program named (guards against a pid reused by something else).
runs() {
	local pid=$1 program=$2
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$program"
}

# Signals pid, then waits up to 10 s for it to go, then kills it.
end_process() {
	local pid=$1 program=$2 signal=$3
	runs "$pid" "$program" || return 0
	kill "-$signal" "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		runs "$pid" "$program" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

stop_services() {
	[ -f "$STATE_ENV" ] || return 0
	local RUN_DIR=''
	# shellcheck disable=SC1090
	. "$STATE_ENV"
	if [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ]; then
		# SIGQUIT: PostgreSQL's immediate shutdown; the data is thrown away anyway
		[ -f "$RUN_DIR/pg/data/postmaster.pid" ] && end_process "$(head -n 1 "$RUN_DIR/pg/data/postmaster.pid")" postgres QUIT
		[ -f "$RUN_DIR/redis/redis.pid" ] && end_process "$(cat "$RUN_DIR/redis/redis.pid")" redis-server TERM
		rm -rf "$RUN_DIR"
	fi
	rm -f "$STATE_ENV" "$STATE_JSON"
}

# --- start --------------------------------------------------------------------------------------------------

apt_install() {
	command -v apt-get >/dev/null || die "$* missing, and there is no apt-get to install it with"
	[ "$(id -u)" = 0 ] || die "$* missing; install it (as root: apt-get install -y $*)"
	log "installing $* from Debian packages"
	mkdir -p "$STATE_DIR"
	local apt_log=$STATE_DIR/apt.log
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >"$apt_log" 2>&1 ||
		{ apt-get update -q >>"$apt_log" 2>&1 && apt-get install -y -q "$@" >>"$apt_log" 2>&1; } ||
		{ tail -n 20 "$apt_log" >&2; die "could not install $* with apt-get (log: $apt_log)"; }
}

# The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres): Debian keeps them off PATH.
find_pg_bin() {
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
	done
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v createdb >/dev/null; then
		dirname "$(readlink -f "$(command -v initdb)")"
		return 0
	fi
	return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		port_in_use "$port" || { echo "$port"; return 0; }
	done
	die "found no free port"
}

redis_ping() {
	if command -v redis-cli >/dev/null; then
		[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
	else
		local reply
		exec 3<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
		printf 'PING\r\n' >&3
		read -r -t 2 reply <&3 || true
		exec 3>&-
		[[ $reply == +PONG* ]]
	fi
}

start_services() {
	stop_services

	local pg_bin
	pg_bin=$(find_pg_bin) || { apt_install postgresql; pg_bin=$(find_pg_bin) || die "no PostgreSQL programs after installing postgresql"; }
	command -v redis-server >/dev/null || apt_install redis-server
	command -v redis-server >/dev/null || die "no redis-server after installing redis-server"

	# PostgreSQL will not run as root
	local run_as
	run_as=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		if id postgres >/dev/null 2>&1; then run_as=postgres; else run_as=nobody; fi
	fi
	as_pg_user() { if [ "$run_as" = "$(id -un)" ]; then "$@"; else runuser -u "$run_as" -- "$@"; fi; }

	# Data lives under /tmp, which every user can reach (the repo may sit in a folder only root can enter).
	mkdir -p "$STATE_DIR"
	local run_dir
	run_dir=$(mktemp -d "${TMPDIR:-/tmp}/nbs-queue-services.XXXXXX")
	chmod 755 "$run_dir"
	# written before anything starts, so a start that fails halfway cleans up after itself
	printf 'RUN_DIR=%q\n' "$run_dir" >"$STATE_ENV"
	trap stop_services EXIT

	local pg_port=${QUEUE_PG_PORT:-$(free_port)} redis_port=${QUEUE_REDIS_PORT:-$(free_port)}
	[ "$pg_port" != "$redis_port" ] || redis_port=$(free_port)
	local password
	password=queue-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

	# PostgreSQL: a fresh cluster, tuned for throwaway data; password login over TCP, trust on its own socket
	mkdir -p "$run_dir/pg"
	(umask 077 && printf '%s\n' "$password" >"$run_dir/pg/pwfile")
	[ "$run_as" = "$(id -un)" ] || chown -R "$run_as" "$run_dir/pg"
	as_pg_user "$pg_bin/initdb" -D "$run_dir/pg/data" -U "$DB_USER" --pwfile="$run_dir/pg/pwfile" \
		--auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale --no-sync >"$run_dir/pg/initdb.log" 2>&1 ||
		{ cat "$run_dir/pg/initdb.log" >&2; die "initdb failed"; }
	rm -f "$run_dir/pg/pwfile"
	as_pg_user "$pg_bin/pg_ctl" -D "$run_dir/pg/data" -l "$run_dir/pg/postgres.log" -w -t 60 -s \
		-o "-p $pg_port -k $run_dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >&2 || { tail -n 20 "$run_dir/pg/postgres.log" >&2; die "PostgreSQL did not start on port $pg_port"; }
	PGPASSWORD=$password "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$DB_USER" "$DB_NAME" ||
		die "could not create the database $DB_NAME"

	# Redis: nothing saved to disk
	mkdir -p "$run_dir/redis"
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--pidfile "$run_dir/redis/redis.pid" --logfile "$run_dir/redis/redis.log" --dir "$run_dir/redis" >&2 ||
		die "redis-server did not start"
	for _ in $(seq 1 100); do
		redis_ping "$redis_port" && break
		sleep 0.1
	done
	redis_ping "$redis_port" || { tail -n 20 "$run_dir/redis/redis.log" >&2; die "Redis does not answer on port $redis_port"; }

	local json
	json=$(printf '{"postgres":{"host":"127.0.0.1","port":%s,"database":"%s","user":"%s","password":"%s","version":"%s","bin":"%s"},"redis":{"host":"127.0.0.1","port":%s,"version":"%s"},"runDir":"%s"}' \
		"$pg_port" "$DB_NAME" "$DB_USER" "$password" "$("$pg_bin/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/p')" "$pg_bin" \
		"$redis_port" "$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')" "$run_dir")
	echo "$json" >"$STATE_JSON"
	trap - EXIT
	echo "$json"
}

install_programs() {
	find_pg_bin >/dev/null || apt_install postgresql
	command -v redis-server >/dev/null || apt_install redis-server
	command -v redis-server >/dev/null || die "no redis-server after installing redis-server"
}

case "${1:-}" in
	start) start_services ;;
	stop) stop_services ;;
	install) install_programs ;;
	*) echo "usage: $0 start|stop|install" >&2; exit 2 ;;
esac
