#!/usr/bin/env bash
# Usage: scripts/bench-api.sh [AGENTGRID_BINARY]      (normally via `make bench-api`)
#
# Throughput and latency of the control plane's hottest read paths and of login, on loopback:
# for each store (SQLite, then PostgreSQL when AGENTGRID_TEST_DATABASE_URL names a server, as
# scripts/with-postgres.sh provides), start `agentgrid serve` on a fresh store, seed 200 users and
# 2,000 agents through the API (scripts/bench_api_seed.py), then drive with wrk, one at a time:
#
#   list_agents  GET  /api/v1/agents/?category=…&sort_by=rating   (rotating over the 8 categories)
#   get_agent    GET  /api/v1/agents/{id}                          (rotating over the 2,000 agents)
#   auth_me      GET  /api/v1/auth/me                              (rotating over the 200 users' tokens)
#   auth_login   POST /api/v1/auth/login                           (rotating over the 200 users)
#
# Prints a table per store and, at the end, one JSON line per store and endpoint:
#   {"bench":"api","store":"sqlite","endpoint":"list_agents","rps":…,"p50_ms":…,"p99_ms":…}
# Fails (non-zero) if any endpoint answers anything but 2xx/3xx or wrk sees socket errors: a
# benchmark of error responses would measure the wrong thing.
#
# Environment: DURATION (wrk -d per endpoint, default 10s), THREADS (2), CONNECTIONS (32).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
agentgrid=${1:-$here/../.build/release/agentgrid}
duration=${DURATION:-10s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}

log() { echo "bench-api: $*" >&2; }

for tool in wrk python3; do
    command -v "$tool" >/dev/null || { log "'$tool' not found (make deps installs wrk)"; exit 1; }
done
if [ ! -x "$agentgrid" ]; then
    log "no agentgrid binary at $agentgrid (swift build -c release --product agentgrid)"
    exit 1
fi
agentgrid=$(cd "$(dirname "$agentgrid")" && pwd)/$(basename "$agentgrid")

# psql for the PostgreSQL round: Debian's wrapper on PATH, else the newest server's own.
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentgrid-bench-api.XXXXXX")
server_pid=
bench_db=         # the PostgreSQL database this run created (dropped on exit)
admin_url=        # the URL it was created through

stop_server() {
    if [ -n "$server_pid" ]; then
        # SIGTERM: the server drains in-flight requests and closes its store.
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}

# However the script ends: stop the server we started, drop the database we created, remove
# the temporary directory. Only our own server, by pid.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_server
    if [ -n "$bench_db" ]; then
        "$psql_bin" "$admin_url" -Atqc "DROP DATABASE IF EXISTS \"$bench_db\" WITH (FORCE)" >/dev/null 2>&1 \
            || log "could not drop database $bench_db"
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback port: bind port 0 and release it. The server binds it a moment later; a lost
# race shows up as the server failing to start, reported with its log.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DIR STORE-FLAGS... : runs `agentgrid serve` in the background and waits for /health.
start_server() {
    local dir=$1
    shift
    port=$(free_port)
    base_url="http://127.0.0.1:$port"
    # - bcrypt at the product's default cost (unset, not pinned), so login figures are the real ones.
    # - Login throttling only counts failures and every benchmark login succeeds, but raise the
    #   limits anyway so a stray failure cannot turn the rest of the run into 429s.
    # - Tokens issued while seeding must outlive a long DURATION.
    # - warning: per-request info logging would be measured too.
    env -u AGENTGRID_BCRYPT_COST -u DATABASE_URL -u AGENTGRID_DATA_DIR \
        AGENTGRID_LOG_LEVEL=warning \
        AGENTGRID_LOGIN_MAX_FAILURES_PER_ACCOUNT=1000000 \
        AGENTGRID_LOGIN_MAX_FAILURES_PER_ADDRESS=1000000 \
        AGENTGRID_ACCESS_TOKEN_MINUTES=240 \
        "$agentgrid" serve --host 127.0.0.1 --port "$port" "$@" >"$dir/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=
            log "the server exited during start-up; its log:"
            cat "$dir/server.log" >&2
            exit 1
        fi
        if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
                "$base_url/health" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "the server did not answer /health within 30 s; its log:"
    cat "$dir/server.log" >&2
    exit 1
}

# The wrk scripts. Each thread (wrk runs one Lua state per thread) pre-formats every request once
# in init() and then cycles through them, starting at a different offset per thread so the two
# threads do not ask for the same thing in lockstep. wrk has no per-connection hook, so "one token
# per connection" becomes one token per request, cycling through all 200 users — the server does
# the same work either way (verify the JWT, read the user).
write_lua() {
    local dir=$1
    cat >"$dir/common.lua" <<EOF
-- Shared by the generated scripts: a per-thread offset and a cycling request().
thread_count = $threads
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("thread_index", counter)
end
requests = {}
position = 1
function start_at_thread_offset()
    -- thread_index is set by setup() in this thread's Lua state before init() runs.
    local offset = math.floor(#requests * ((thread_index or 1) - 1) / thread_count)
    position = offset % #requests + 1
end
function request()
    local r = requests[position]
    position = position % #requests + 1
    return r
end
EOF
    cat >"$dir/list_agents.lua" <<EOF
dofile("$dir/common.lua")
function init(args)
    for _, category in ipairs({"content", "research", "analysis", "automation", "development",
                               "design", "marketing", "customer_service"}) do
        table.insert(requests, wrk.format("GET", "/api/v1/agents/?category=" .. category .. "&sort_by=rating"))
    end
    start_at_thread_offset()
end
EOF
    cat >"$dir/get_agent.lua" <<EOF
dofile("$dir/common.lua")
function init(args)
    for id in io.lines("$dir/agent_ids.txt") do
        table.insert(requests, wrk.format("GET", "/api/v1/agents/" .. id))
    end
    start_at_thread_offset()
end
EOF
    cat >"$dir/auth_me.lua" <<EOF
dofile("$dir/common.lua")
function init(args)
    for token in io.lines("$dir/tokens.txt") do
        table.insert(requests, wrk.format("GET", "/api/v1/auth/me", {["Authorization"] = "Bearer " .. token}))
    end
    start_at_thread_offset()
end
EOF
    # Emails and passwords are generated by the seeder from [a-z0-9@.-], so plain string
    # concatenation is valid JSON.
    cat >"$dir/auth_login.lua" <<EOF
dofile("$dir/common.lua")
function init(args)
    for line in io.lines("$dir/logins.txt") do
        local email, password = line:match("^([^\t]+)\t(.+)$")
        local body = '{"email":"' .. email .. '","password":"' .. password .. '"}'
        table.insert(requests, wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"}, body))
    end
    start_at_thread_offset()
end
EOF
}

# wrk prints times as e.g. 812.00us, 1.23ms, 2.01s, 1.50m: to milliseconds.
to_ms() {
    awk -v t="$1" 'BEGIN {
        n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        else if (u == "h") n *= 3600000; else if (u != "ms") { print "?"; exit 1 }
        printf "%.3f", n }'
}

# run_wrk STORE ENDPOINT DIR : one wrk run, its figures appended to $tmp/results.
run_wrk() {
    local store=$1 endpoint=$2 dir=$3 out
    out=$dir/wrk-$endpoint.txt
    log "$store: $endpoint for $duration ($threads threads, $connections connections)"
    # --timeout 10s: login is bcrypt-bound and queues behind 32 connections; with wrk's default
    # 2 s a slow login would count as a socket timeout and drop out of the latency figures.
    wrk --threads "$threads" --connections "$connections" --duration "$duration" --timeout 10s --latency \
        --script "$dir/$endpoint.lua" "$base_url" >"$out" 2>&1 || { cat "$out" >&2; log "wrk failed"; exit 1; }

    local requests rps p50 p99 non2xx sockerr
    requests=$(awk '$2 == "requests" && $3 == "in" {print $1}' "$out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses:/ {print $2}' "$out")
    sockerr=$(grep -E '^ *Socket errors:' "$out" || true)
    if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then
        cat "$out" >&2
        log "$store/$endpoint: could not read Requests/sec and the 50%/99% latencies from wrk's output"
        exit 1
    fi
    # No completed request (DURATION shorter than one answer) leaves wrk's figures all zero.
    if [ "${requests:-0}" -eq 0 ]; then
        cat "$out" >&2
        log "$store/$endpoint: no request completed in $duration (raise DURATION)"
        exit 1
    fi
    if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
        cat "$out" >&2
        log "$store/$endpoint: Non-2xx or 3xx responses: $non2xx (server log: last lines below)"
        tail -n 20 "$dir/server.log" >&2
        exit 1
    fi
    if [ -n "$sockerr" ]; then
        cat "$out" >&2
        log "$store/$endpoint: $sockerr"
        exit 1
    fi
    printf '%s %s %s %s %s\n' "$store" "$endpoint" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" >>"$tmp/results"
}

# bench_store STORE SQL-APPLY-FUNCTION STORE-FLAGS... : one full round on one store.
bench_store() {
    local store=$1 apply_sql=$2
    shift 2
    local dir=$tmp/$store
    mkdir -p "$dir"
    start_server "$dir" "$@"
    log "$store: server on $base_url (pid $server_pid); seeding"

    python3 "$here/bench_api_seed.py" seed --base-url "$base_url" --out "$dir"
    # The API only lets an admin grant admin: bootstrap one the operator's way. The admin is a
    # seeded user who owns no agent, so the approvals below are an admin's, not an owner's.
    env -u DATABASE_URL -u AGENTGRID_DATA_DIR \
        "$agentgrid" users set-role "$(cat "$dir/admin_email")" admin "$@" >/dev/null
    python3 "$here/bench_api_seed.py" approve --base-url "$base_url" --out "$dir"
    # Bench-only data shaping (see `ratings` in the seeder): ratings cannot be set through the API.
    python3 "$here/bench_api_seed.py" ratings --out "$dir" >"$dir/ratings.sql"
    "$apply_sql" "$dir/ratings.sql"

    write_lua "$dir"
    for endpoint in list_agents get_agent auth_me auth_login; do
        run_wrk "$store" "$endpoint" "$dir"
    done
    stop_server

    echo
    echo "== $store ($threads threads, $connections connections, $duration per endpoint; bcrypt at the default cost)"
    printf '%-12s %12s %10s %10s\n' endpoint 'req/s' 'p50 ms' 'p99 ms'
    awk -v s="$store" '$1 == s {printf "%-12s %12.1f %10.2f %10.2f\n", $2, $3, $4, $5}' "$tmp/results"
    echo
}

# SQLite: the server holds the database open; WAL plus a busy timeout let this second writer
# in (the same way `agentgrid users set-role` gets in while the server runs).
apply_sqlite() {
    python3 - "$tmp/sqlite/data/agentgrid.sqlite" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.executescript(open(sys.argv[2]).read())
db.close()
EOF
}

# PostgreSQL: the same statements, then ANALYZE — autovacuum would do it shortly after this much
# writing anyway; doing it now makes the plans the same every run instead of depending on when
# autovacuum wakes up.
apply_postgres() {
    "$psql_bin" "$bench_url" -v ON_ERROR_STOP=1 -Atq -f "$1" >/dev/null
    "$psql_bin" "$bench_url" -v ON_ERROR_STOP=1 -Atqc "ANALYZE" >/dev/null
}

: >"$tmp/results"

bench_store sqlite apply_sqlite --data-dir "$tmp/sqlite/data"

if [ -n "${AGENTGRID_TEST_DATABASE_URL:-}" ]; then
    if [ -z "$psql_bin" ]; then
        log "psql not found (the postgresql package provides it)"
        exit 1
    fi
    # A database of our own on that server, so seeded rows never mix with anything else there
    # (and a developer's server is left as it was).
    admin_url=$AGENTGRID_TEST_DATABASE_URL
    bench_db="agentgrid_bench_$$"
    "$psql_bin" "$admin_url" -v ON_ERROR_STOP=1 -Atqc "CREATE DATABASE \"$bench_db\"" >/dev/null
    bench_url=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$bench_db")
    # PostgreSQL needs an explicit signing key (several nodes must agree); any ≥32 characters.
    AGENTGRID_SECRET_KEY=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export AGENTGRID_SECRET_KEY
    bench_store postgres apply_postgres --database-url "$bench_url"
else
    log "AGENTGRID_TEST_DATABASE_URL is not set: skipping PostgreSQL (run under scripts/with-postgres.sh)"
fi

awk '{printf "{\"bench\":\"api\",\"store\":\"%s\",\"endpoint\":\"%s\",\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n", $1, $2, $3, $4, $5}' \
    "$tmp/results"
