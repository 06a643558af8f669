#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
#
# Runs COMMAND with AGENTGRID_TEST_DATABASE_URL pointing at a throw-away PostgreSQL server:
# a fresh cluster in a temporary directory, listening on 127.0.0.1 only, on a free port, with
# durability switched off for speed. The server is stopped and the directory removed however the
# script ends (success, failure, INT/TERM). The exit status is COMMAND's.
#
# If AGENTGRID_TEST_DATABASE_URL is already set, COMMAND simply runs against that server, so
# developers can use their own.
#
# Needs Debian's `postgresql` package (`make deps` installs it). Works as root (the server then
# runs as the `postgres` system user, since PostgreSQL refuses to run as root) or as any other
# user (the server runs as that user).
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [ -n "${AGENTGRID_TEST_DATABASE_URL:-}" ]; then
    exec "$@"
fi

log() { echo "with-postgres: $*" >&2; }

# --- the server binaries: Debian installs each major version side by side; take the newest.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    log "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb); install the 'postgresql' package (make deps)"
    exit 1
fi

# --- who runs the server. As root, the `postgres` user, which must be able to reach the
# directory: hence /tmp rather than a TMPDIR that may sit under /root.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        log "running as root but there is no 'postgres' user to run the server as (is the 'postgresql' package installed?)"
        exit 1
    fi
    as_server=(runuser -u postgres --)
    tmpbase=/tmp
else
    as_server=()
    tmpbase=${TMPDIR:-/tmp}
fi

tmpdir=$(mktemp -d "$tmpbase/agentgrid-pg.XXXXXX")
datadir=$tmpdir/data
sockdir=$tmpdir/run   # unix socket here, not /var/run/postgresql: private, and no clashes
logfile=$tmpdir/postgres.log
child=

# Stops the server (if a postmaster.pid says one may be running) and removes the directory.
# Runs on every exit, including the ones caused by `set -e` and by signals (see below).
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    if [ -f "$datadir/postmaster.pid" ]; then
        server pg_ctl -D "$datadir" -m fast -w stop >/dev/null 2>&1 \
            || log "could not stop the server in $datadir"
    fi
    rm -rf "$tmpdir"
    exit "$status"
}

# A signal forwards itself to COMMAND (which, on Ctrl-C, has usually had it already), then exits
# with the conventional 128+N, which runs cleanup via the EXIT trap.
on_signal() {
    local sig=$1 code=$2
    if [ -n "$child" ]; then
        kill "-$sig" "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
        child=
    fi
    exit "$code"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# Runs a server binary as the server's user, from the temporary directory (the postgres user may
# not be allowed into the caller's current directory).
server() {
    local prog=$1
    shift
    (cd "$tmpdir" && "${as_server[@]}" "$bindir/$prog" "$@")
}

# --- the cluster. A random password for the TCP role, so the URL is one a production client
# would use; the unix socket (in a directory only the server's user can enter) trusts.
dbuser=agentgrid
password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')   # hex: nothing to URL-escape
mkdir -m 700 "$sockdir"
( umask 077; printf '%s\n' "$password" >"$tmpdir/pwfile" )
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$tmpdir"
fi

# C.UTF-8 is built into Debian 12's glibc; fall back to plain C elsewhere.
locale=C
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    locale=C.UTF-8
fi

if ! server initdb -D "$datadir" -U "$dbuser" --pwfile="$tmpdir/pwfile" -E UTF8 --locale="$locale" \
        --auth-local=trust --auth-host=scram-sha-256 >"$tmpdir/initdb.log" 2>&1; then
    log "initdb failed:"
    cat "$tmpdir/initdb.log" >&2
    exit 1
fi
rm -f "$tmpdir/pwfile"

# Only TCP on loopback with a password, and the private socket; nothing else.
cat >"$datadir/pg_hba.conf" <<'EOF'
local all all                trust
host  all all 127.0.0.1/32   scram-sha-256
EOF

# Test speed over durability: the cluster is thrown away afterwards anyway.
cat >>"$datadir/postgresql.conf" <<EOF

# --- scripts/with-postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# --- start on a free port. Pick a random one below Linux's ephemeral range (32768+), skip it if
# something answers there, and if the bind still loses a race (another run picked it meanwhile),
# try another.
port=
for _ in $(seq 1 20); do
    candidate=$((15000 + RANDOM % 17000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        continue   # something is listening there
    fi
    rm -f "$logfile"   # a fresh log per attempt; the server's user creates it
    if server pg_ctl -D "$datadir" -l "$logfile" -o "-p $candidate" -w -t 60 start >/dev/null 2>&1; then
        port=$candidate
        break
    fi
    if grep -q 'could not bind\|Address already in use' "$logfile"; then
        continue
    fi
    log "the server failed to start; its log ($logfile):"
    cat "$logfile" >&2
    exit 1
done
if [ -z "$port" ]; then
    log "found no free port for the server; last log:"
    cat "$logfile" >&2
    exit 1
fi

server createdb -h "$sockdir" -p "$port" -U "$dbuser" agentgrid_test

# sslmode=disable: the server has no TLS; PostgresKit (SQLPostgresConfiguration(url:)) and libpq
# both accept it, and it saves the TLS attempt that the default ("prefer") makes.
export AGENTGRID_TEST_DATABASE_URL="postgres://$dbuser:$password@127.0.0.1:$port/agentgrid_test?sslmode=disable"

# Check the URL itself works (password over TCP), so a mistake here shows up here and not as
# failing tests.
if ! "$bindir/psql" "$AGENTGRID_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null; then
    log "the server is up but the URL does not connect; server log ($logfile):"
    cat "$logfile" >&2
    exit 1
fi
log "PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') on 127.0.0.1:$port (data in $tmpdir)"

# --- run COMMAND. In the background so that a signal to this script is handled at once instead
# of after COMMAND ends. Two things `&` does in a script have to be undone: it gives the command
# /dev/null as stdin (so pass ours), and it makes it ignore SIGINT and SIGQUIT, so that Ctrl-C
# would not stop it (env --default-signal, coreutils 8.31+, restores them).
restore_signals=()
if env --default-signal=INT,QUIT true 2>/dev/null; then
    restore_signals=(env --default-signal=INT,QUIT --)
fi
"${restore_signals[@]}" "$@" <&0 &
child=$!
status=0
wait "$child" || status=$?
child=
exit "$status"
