#!/usr/bin/python3
"""Seeds a running AgentGrid control plane with the demo: three accounts and three agents.

    /usr/bin/python3 scripts/demo_seed.py [--base http://127.0.0.1:8000] \
        [--agentgrid .build/debug/agentgrid] [--data-dir ./agentgrid-data]

What it does, over the HTTP API (Python standard library only):
  1. signs up admin@, creator@ and user@demo.agentgrid.dev (or logs in if they exist);
  2. makes the first an admin and the second a creator with `agentgrid users set-role`
     (run against the server's own store: --data-dir, or --database-url);
  3. as the creator, creates the agents of demo/agents/* (found by name among the
     creator's own agents, so never twice) and uploads each bundle (a deterministic
     .tar.gz: the same files give the same SHA-256, so a re-run bumps no version);
  4. as the admin, approves each agent (status active);
  5. prints the accounts, the agents and an `export TOKEN=… AGENT=…` line for the user.

Idempotent: run it again against the same store and it changes nothing (the user keeps its
credits). Any unexpected HTTP status stops it with exit status 1, printing status and body.
"""
import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ACCOUNTS = {
    "admin": {"email": "admin@demo.agentgrid.dev", "username": "demo_admin", "full_name": "Demo Admin",
              "password": "DemoAdmin1234"},
    "creator": {"email": "creator@demo.agentgrid.dev", "username": "demo_creator", "full_name": "Demo Creator",
                "password": "DemoCreator1234"},
    "user": {"email": "user@demo.agentgrid.dev", "username": "demo_user", "full_name": "Demo User",
             "password": "DemoUser1234"},
}

# The marketplace side of each agent (its code and agent.yaml live in demo/agents/<dir>).
# The output schemas are the ones of the bundles' agent.yaml, repeated in config for clients.
WORD_COUNTER_SCHEMA = {
    "type": "object",
    "required": ["words", "characters", "lines", "top_words"],
    "additionalProperties": False,
    "properties": {
        "words": {"type": "integer", "minimum": 0},
        "characters": {"type": "integer", "minimum": 0},
        "lines": {"type": "integer", "minimum": 0},
        "top_words": {"type": "array", "maxItems": 5, "description": "[word, count] pairs, most frequent first",
                      "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["string", "integer"]}}},
    },
}

AGENTS = [
    {
        "dir": "word-counter",
        "name": "Word Counter",
        "description": "Counts the words, characters and lines of a text and lists its five most frequent words.",
        "long_description": "A tiny Python agent that runs in the AgentGrid sandbox: the text arrives as JSON "
                            "on stdin, the counts leave as JSON on stdout, checked against an output schema.",
        "category": "analysis",
        "tags": ["text", "demo", "python"],
        "price_per_run": 1,
        "config": {"model": "none", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10,
                   "required_inputs": [{"name": "text", "type": "string", "required": True}],
                   "output_schema": WORD_COUNTER_SCHEMA},
        "capabilities": ["Word, character and line counts", "Top five words, case-insensitive"],
        "limitations": ["Words are runs of letters, digits and underscores"],
        "demo_available": True,
    },
    {
        "dir": "json-transformer",
        "name": "JSON Transformer",
        "description": "Flattens a JSON document to dotted keys, lists its key paths, or upper-cases its strings.",
        "long_description": "Inputs: document (an object) and operation: flatten (the default), keys or "
                            "uppercase_strings. An unknown operation fails the run and refunds it.",
        "category": "development",
        "tags": ["json", "demo", "python"],
        "price_per_run": 2,
        "config": {"model": "none", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10,
                   "required_inputs": [{"name": "document", "type": "object", "required": True},
                                       {"name": "operation", "type": "string", "required": False}],
                   "output_schema": {"type": "object", "required": ["operation", "result"], "additionalProperties": False,
                                     "properties": {"operation": {"enum": ["flatten", "keys", "uppercase_strings"]},
                                                    "result": {"type": ["object", "array"]}}}},
        "capabilities": ["flatten", "keys", "uppercase_strings"],
        "limitations": ["The document must be a JSON object"],
        "demo_available": True,
    },
    {
        "dir": "limit-demo",
        "name": "Limit Demo",
        "description": "Shows the sandbox enforcing limits: mode memory ends as oom, mode time as timeout, ok completes.",
        "long_description": "Its agent.yaml asks for 32M of memory and 2s of wall-clock time. mode: ok answers at "
                            "once; memory allocates past 32M; time runs past 2s; fail exits 3. Failed runs are refunded.",
        "category": "development",
        "tags": ["sandbox", "limits", "demo"],
        "price_per_run": 1.5,
        "config": {"model": "none", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10,
                   "required_inputs": [{"name": "mode", "type": "string", "required": False}],
                   "output_schema": {"type": "object", "required": ["mode", "message"],
                                     "properties": {"mode": {"const": "ok"}, "message": {"type": "string"}}}},
        "capabilities": ["mode: ok | memory | time | fail"],
        "limitations": ["Does nothing useful, on purpose"],
        "demo_available": True,
    },
]

# The agent fields the seed owns; on a re-run they are PATCHed only when they differ.
AGENT_FIELDS = ["description", "long_description", "category", "tags", "price_per_run", "config",
                "capabilities", "limitations", "demo_available"]


class Failure(Exception):
    pass


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, token=None, expect=(200,), raw=None, content_type=None):
        """(status, parsed JSON or None); any status outside `expect` raises Failure."""
        headers = {"Accept": "application/json"}
        data = None
        if raw is not None:
            data = raw
            headers["Content-Type"] = content_type or "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            raise Failure(f"{method} {path}: cannot reach {self.base}: {error}")
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = None
        if status not in expect:
            raise Failure(f"{method} {path}: unexpected HTTP {status} (expected {', '.join(map(str, expect))})\n{text}")
        return status, parsed


def log(message):
    print(f"demo-seed: {message}", flush=True)


def wait_for_server(client, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.call("GET", "/health")
            return
        except Failure as failure:
            if time.monotonic() >= deadline:
                raise Failure(f"the control plane at {client.base} did not answer /health within {seconds:g} s: {failure}")
            time.sleep(0.5)


def sign_in(client, account):
    """Signs the account up, or logs it in when the email is already registered: the user JSON and a token."""
    status, body = client.call("POST", "/api/v1/auth/signup", account, expect=(201, 400))
    if status == 201:
        log(f"signed up {account['email']}")
        return body["user"], body["access_token"]
    if not (isinstance(body, dict) and body.get("detail") == "Email already registered"):
        raise Failure(f"POST /api/v1/auth/signup for {account['email']}: HTTP 400\n{json.dumps(body)}")
    _, body = client.call("POST", "/api/v1/auth/login", {"email": account["email"], "password": account["password"]})
    log(f"logged in {account['email']} (already registered)")
    return body["user"], body["access_token"]


def set_role(args, email, role):
    if not args.database_url and not os.path.isfile(os.path.join(args.data_dir, "agentgrid.sqlite")):
        # `users set-role` would create an empty store there and then not find the user.
        raise Failure(f"no store at {os.path.join(args.data_dir, 'agentgrid.sqlite')}: pass the server's --data-dir "
                      f"(or --database-url) so `agentgrid users set-role` changes the server's own store")
    command = [args.agentgrid, "users", "set-role", email, role]
    command += ["--database-url", args.database_url] if args.database_url else ["--data-dir", args.data_dir]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise Failure(f"{args.agentgrid} not found: build it first (make build / swift build) or pass --agentgrid PATH")
    except subprocess.TimeoutExpired:
        raise Failure(f"{' '.join(command)} did not finish within 120 s")
    if done.returncode != 0:
        hint = "\n(is --data-dir/--database-url the server's own store?)" if "no user with email" in done.stderr else ""
        raise Failure(f"{' '.join(command)} exited {done.returncode}\n{done.stdout}{done.stderr}{hint}")
    log(done.stdout.strip() or f"{email} is now {role}")


def ensure_role(args, client, name, user, token):
    wanted = name  # the account names "admin" and "creator" are their roles
    if user["role"] == wanted:
        return token
    set_role(args, user["email"], wanted)
    # Roles are read on every request and the token carries only the user id, so the token
    # keeps working; /auth/me proves the change reached the server's store.
    _, me = client.call("GET", "/api/v1/auth/me", token=token)
    if me["role"] != wanted:
        raise Failure(f"{user['email']} is {me['role']} after `users set-role … {wanted}`: "
                      f"did --data-dir/--database-url point at the server's store? (--data-dir {args.data_dir})")
    return token


def bundle_archive(directory):
    """The .tar.gz of every file under `directory`, deterministic: sorted, fixed owner, times and modes."""
    if not os.path.isfile(os.path.join(directory, "agent.yaml")):
        raise Failure(f"{directory} has no agent.yaml")
    paths = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in files:
            if name.startswith(".") or name.endswith((".pyc", ".pyo", ".tar.gz")):
                continue
            paths.append(os.path.relpath(os.path.join(root, name), directory))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(paths):
            full = os.path.join(directory, path)
            if os.path.islink(full) or not os.path.isfile(full):
                raise Failure(f"{full}: a bundle of the demo holds regular files only")
            with open(full, "rb") as handle:
                content = handle.read()
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o755 if os.stat(full).st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0)


def same(a, b):
    """JSON equality where 1 == 1.0 (the server may print numbers its own way)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return a == b


def creator_agents(client, token):
    found, skip = {}, 0
    while True:
        _, page = client.call("GET", f"/api/v1/creators/me/agents?skip={skip}&limit=100", token=token)
        for agent in page["data"]:
            found.setdefault(agent["name"], agent)
        skip += len(page["data"])
        if not page["data"] or skip >= page["total"]:
            return found


def ensure_agent(client, creator_token, admin_token, spec, existing, agents_dir):
    fields = {key: spec[key] for key in ["name"] + AGENT_FIELDS}
    agent = existing.get(spec["name"])
    if agent is None:
        _, agent = client.call("POST", "/api/v1/agents/", fields, token=creator_token, expect=(201,))
        log(f"created {spec['name']} ({agent['id']})")
    else:
        changed = {key: fields[key] for key in AGENT_FIELDS if not same(agent.get(key), fields[key])}
        if changed:
            _, agent = client.call("PATCH", f"/api/v1/agents/{agent['id']}", changed, token=creator_token)
            log(f"updated {spec['name']} ({agent['id']}): {', '.join(sorted(changed))}")
        else:
            log(f"found {spec['name']} ({agent['id']})")
    archive = bundle_archive(os.path.join(agents_dir, spec["dir"]))
    before = agent["version"]
    _, agent = client.call("PUT", f"/api/v1/agents/{agent['id']}/bundle", raw=archive,
                           content_type="application/gzip", token=creator_token)
    if agent["version"] != before:
        log(f"uploaded the {spec['dir']} bundle ({len(archive)} bytes): version {before} -> {agent['version']}")
    else:
        log(f"the {spec['dir']} bundle is unchanged (version {agent['version']})")
    if agent["status"] != "active":
        _, agent = client.call("PATCH", f"/api/v1/agents/{agent['id']}", {"status": "active"}, token=admin_token)
        log(f"approved {spec['name']} (status {agent['status']})")
    return agent


def main():
    parser = argparse.ArgumentParser(description="Seed a running AgentGrid control plane with the demo accounts and agents.")
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('PORT') or os.environ.get('AGENTGRID_PORT') or 8000}",
                        help="the control plane's URL (default http://127.0.0.1:$PORT, else 8000)")
    parser.add_argument("--agentgrid", default=".build/debug/agentgrid", help="the agentgrid binary (for users set-role)")
    parser.add_argument("--data-dir", default=os.environ.get("AGENTGRID_DATA_DIR") or "./agentgrid-data",
                        help="the server's --data-dir, passed to `agentgrid users set-role` (default ./agentgrid-data)")
    parser.add_argument("--database-url", default=None,
                        help="pass this to `agentgrid users set-role` instead of --data-dir (a PostgreSQL store)")
    parser.add_argument("--agents-dir", default=os.path.join(REPO, "demo", "agents"), help="where the bundles' sources are")
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for /health (default 30)")
    args = parser.parse_args()
    if not os.path.isabs(args.agentgrid) and not os.path.exists(args.agentgrid):
        # Run from elsewhere than the checkout: the checkout's own build.
        args.agentgrid = os.path.join(REPO, args.agentgrid)

    client = Client(args.base)
    try:
        wait_for_server(client, args.wait)
        users, tokens = {}, {}
        for name, account in ACCOUNTS.items():
            users[name], tokens[name] = sign_in(client, account)
        for name in ("admin", "creator"):
            tokens[name] = ensure_role(args, client, name, users[name], tokens[name])
        existing = creator_agents(client, tokens["creator"])
        agents = [ensure_agent(client, tokens["creator"], tokens["admin"], spec, existing, args.agents_dir) for spec in AGENTS]
        _, balance = client.call("GET", "/api/v1/credits/balance", token=tokens["user"])
    except Failure as failure:
        print(f"demo-seed: error: {failure}", file=sys.stderr)
        return 1

    print()
    print(f"AgentGrid demo seeded at {client.base}")
    print("  accounts (email / password / role):")
    for name, account in ACCOUNTS.items():
        print(f"    {account['email']:<28} {account['password']:<16} {name}")
    print(f"  the user's balance: {balance['balance']} credits")
    print("  agents (id / name / price per run / version):")
    for agent in agents:
        print(f"    {agent['id']}  {agent['name']:<17} {agent['price_per_run']:>5} credits  v{agent['version']}")
    ids = {spec["dir"]: agent["id"] for spec, agent in zip(AGENTS, agents)}
    print()
    print("  # as user@demo.agentgrid.dev (the access token lasts 15 minutes; run this script again for a new one):")
    print(f"  export BASE={client.base} TOKEN={tokens['user']} AGENT={ids['word-counter']} "
          f"JSON_AGENT={ids['json-transformer']} LIMIT_AGENT={ids['limit-demo']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
