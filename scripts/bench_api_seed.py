#!/usr/bin/env python3
"""Seeds a running `agentgrid serve` for scripts/bench-api.sh, through its public HTTP API.

Everything goes through the product (signup, become-creator, create agent, admin approval), so
the rows the benchmark reads are exactly what validation lets in; only the agents' ratings,
which no API call can set, are shaped afterwards with SQL (see `ratings`). Standard library
only, so it runs on a bare Debian python3.

Phases (bash runs `agentgrid users set-role` between them, because the API only lets an admin
grant admin):

  seed     --base-url URL --out DIR [--users 200] [--agents 2000] [--creators 40]
           Signs up the users (user 0 is the future admin and owns nothing; users 1..CREATORS
           become creators and own the agents), creates the agents across all 8 categories,
           and writes into DIR:
             state.json       everything the later phases need (tokens, ids)
             admin_email      the address to pass to `agentgrid users set-role … admin`
             agent_ids.txt    one agent id per line           (wrk: GET /agents/{id})
             tokens.txt       one access token per line        (wrk: GET /auth/me)
             logins.txt       email<TAB>password per line      (wrk: POST /auth/login)
  approve  --base-url URL --out DIR
           As the admin, PATCHes every agent to status "active" (only active agents are
           listed or publicly visible), then checks the listing the benchmark drives.
  ratings  --out DIR > ratings.sql
           Prints bench-only SQL giving the agents a realistic spread of ratings and review
           counts, valid for both SQLite and PostgreSQL.
"""

import argparse
import concurrent.futures
import json
import random
import sys
import time
import urllib.error
import urllib.request

CATEGORIES = ["content", "research", "analysis", "automation", "development", "design", "marketing",
              "customer_service"]
# Concurrency of the seeding requests: enough to keep the server's bcrypt thread pool and its
# store busy, few enough not to queue past the client timeout.
WORKERS = 16
TIMEOUT = 60


class APIError(Exception):
    pass


def call(base, method, path, body=None, token=None, expect=(200,)):
    """One JSON request; returns the decoded body, raises APIError on an unexpected status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", "Bearer " + token)
    # A loaded loopback server can momentarily refuse connections (full accept backlog); retry
    # those few times, but never retry an HTTP answer: that would hide a real failure.
    for attempt in range(5):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status, text = response.status, response.read()
            break
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
            break
        except (ConnectionError, urllib.error.URLError) as error:
            if attempt == 4:
                raise APIError(f"{method} {path}: {error}") from error
            time.sleep(0.2 * (attempt + 1))
    if status not in expect:
        raise APIError(f"{method} {path}: HTTP {status}: {text[:500].decode(errors='replace')}")
    return json.loads(text) if text else None


def run_all(function, items, what):
    """Runs function over items concurrently; the first failure stops the seeding."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(function, items))
    log(f"{what}: {len(results)} in {time.monotonic() - started:.1f} s")
    return results


def log(message):
    print(f"bench-api seed: {message}", file=sys.stderr, flush=True)


def seed(args):
    base = args.base_url.rstrip("/")
    if not 1 <= args.creators < args.users:
        sys.exit("--creators must be at least 1 and fewer than --users (user 0 is the admin)")
    # A run tag keeps addresses unique if the store is reused (e.g. a developer's own database).
    tag = args.tag or format(random.getrandbits(24), "06x")

    def signup(i):
        user = {"email": f"bench-{tag}-{i:04d}@example.com", "username": f"b{tag}_{i:04d}",
                "full_name": f"Bench User {i}", "password": f"Bench-{i:04d}-pw"}
        reply = call(base, "POST", "/api/v1/auth/signup", user, expect=(201,))
        return {"email": user["email"], "password": user["password"], "id": reply["user"]["id"],
                "token": reply["access_token"]}

    users = run_all(signup, range(args.users), "signed up users")

    creators = users[1:1 + args.creators]

    def become_creator(user):
        reply = call(base, "POST", "/api/v1/users/me/creator", token=user["token"])
        if reply["role"] != "creator":
            raise APIError(f"{user['email']} is {reply['role']!r} after becoming a creator")

    run_all(become_creator, creators, "made creators")

    def create_agent(i):
        category = CATEGORIES[i % len(CATEGORIES)]
        owner = creators[i % len(creators)]
        body = {
            "name": f"{category.replace('_', ' ').title()} helper {i:04d}",
            "description": f"Benchmark agent number {i} for {category.replace('_', ' ')} work.",
            "long_description": "Seeded by scripts/bench_api_seed.py. " * 8,
            "category": category,
            "tags": ["bench", category, f"topic-{i % 25}"],
            "price_per_run": [1, 2, 5, 10, 25, 50, 100, 250][i * 7 % 8] + (i % 3) * 0.5,
            "config": {"model": "gpt-4o-mini", "temperature": round(0.1 * (i % 15), 1),
                       "max_tokens": 1000 + 100 * (i % 20), "timeout_seconds": 30 + i % 60,
                       "required_inputs": [{"name": "prompt", "type": "string", "required": True}],
                       "output_schema": {"type": "object"}},
            "capabilities": ["Summarises text", "Answers questions about a document"],
            "limitations": ["English only"],
            "demo_available": i % 4 == 0,
        }
        reply = call(base, "POST", "/api/v1/agents/", body, token=owner["token"], expect=(201,))
        if reply["status"] != "pending_review" or reply["creator_id"] != owner["id"]:
            raise APIError(f"agent {i}: unexpected reply {reply}")
        return reply["id"]

    agent_ids = run_all(create_agent, range(args.agents), "created agents")

    out = args.out
    with open(f"{out}/state.json", "w") as f:
        json.dump({"base_url": base, "users": users, "agent_ids": agent_ids}, f)
    with open(f"{out}/admin_email", "w") as f:
        f.write(users[0]["email"] + "\n")
    with open(f"{out}/agent_ids.txt", "w") as f:
        f.writelines(agent_id + "\n" for agent_id in agent_ids)
    with open(f"{out}/tokens.txt", "w") as f:
        f.writelines(user["token"] + "\n" for user in users)
    with open(f"{out}/logins.txt", "w") as f:
        f.writelines(f"{user['email']}\t{user['password']}\n" for user in users)


def approve(args):
    base = args.base_url.rstrip("/")
    with open(f"{args.out}/state.json") as f:
        state = json.load(f)
    admin = state["users"][0]
    # set-role changed the row; the admin's token stays valid (the role is read per request).
    me = call(base, "GET", "/api/v1/auth/me", token=admin["token"])
    if me["role"] != "admin":
        sys.exit(f"bench-api seed: {admin['email']} is {me['role']!r}, not admin (did set-role run?)")

    def activate(agent_id):
        reply = call(base, "PATCH", f"/api/v1/agents/{agent_id}", {"status": "active"}, token=admin["token"])
        if reply["status"] != "active":
            raise APIError(f"agent {agent_id} is {reply['status']!r} after approval")

    run_all(activate, state["agent_ids"], "approved agents")

    # The listing the benchmark drives must really answer with a full page of this category.
    page = call(base, "GET", "/api/v1/agents/?category=research&sort_by=rating")
    if page["total"] < len(state["agent_ids"]) // len(CATEGORIES) or len(page["data"]) != 20:
        sys.exit(f"bench-api seed: the listing is short: total {page['total']}, page {len(page['data'])}")
    if any(agent["category"] != "research" for agent in page["data"]):
        sys.exit("bench-api seed: the category filter returned other categories")


def ratings(args):
    """Bench-only data shaping: ratings come from reviews, which need completed executions,
    which need runners; none of that is what this benchmark measures. So give each agent a
    plausible review history directly — a hidden "quality", a long-tailed number of reviews,
    ratings the mean of 1..5-star reviews around that quality, some agents still unreviewed —
    so that `sort_by=rating` orders many distinct values rather than 2,000 zeros."""
    with open(f"{args.out}/state.json") as f:
        state = json.load(f)
    rng = random.Random(20240601)  # the same shape every run
    print("BEGIN;")
    for agent_id in state["agent_ids"]:
        if rng.random() < 0.15:
            continue  # unreviewed: rating 0, 0 reviews, as created
        quality = rng.uniform(2.2, 4.9)
        reviews = min(500, 1 + int(rng.expovariate(1 / 30)))
        stars = [min(5, max(1, round(rng.gauss(quality, 0.9)))) for _ in range(reviews)]
        rating = round(sum(stars) / reviews, 2)
        print(f"UPDATE agents SET rating = {rating}, total_reviews = {reviews} WHERE id = '{agent_id}';")
    print("COMMIT;")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["seed", "approve", "ratings"])
    parser.add_argument("--base-url")
    parser.add_argument("--out", required=True)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--creators", type=int, default=40)
    parser.add_argument("--tag", help="suffix making the seeded emails unique (default random)")
    args = parser.parse_args()
    if args.phase != "ratings" and not args.base_url:
        parser.error("--base-url is required for " + args.phase)
    try:
        {"seed": seed, "approve": approve, "ratings": ratings}[args.phase](args)
    except APIError as error:
        sys.exit(f"bench-api seed: {error}")


if __name__ == "__main__":
    main()
