#!/usr/bin/env bash
# `make run`: the whole product on the embedded default. Starts `agentgrid serve` (SQLite in
# ./agentgrid-data, and — AGENTGRID_RUNNERS being unset — a local runner it starts itself),
# seeds the demo accounts and agents once it is ready (scripts/demo_seed.py, idempotent), then
# stays in the foreground until Ctrl-C, which stops the control plane and its runner.
set -euo pipefail
agentgrid=${1:-.build/debug/agentgrid}
port=${PORT:-8000}
data=${AGENTGRID_DATA_DIR:-./agentgrid-data}

"$agentgrid" serve --port "$port" --data-dir "$data" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' INT TERM
for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 $server 2>/dev/null; then wait $server; exit 1; fi
    sleep 0.1
done
/usr/bin/python3 scripts/demo_seed.py --base "http://127.0.0.1:$port" --agentgrid "$agentgrid" --data-dir "$data"
echo
echo "--- AgentGrid is serving on http://127.0.0.1:$port (API docs: /api/v1/openapi.json). The README's"
echo "--- 'Try it' section walks through running an agent with curl. Ctrl-C stops it. ---"
wait $server
