# AgentGrid. `make run` and `make test` do all the set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
SWIFT ?= swift
# Debian packages the build, the tests and the benchmark need.
PACKAGES := libseccomp-dev libcap-dev libc6-dev gcc zlib1g-dev bubblewrap util-linux postgresql wrk python3 curl

.PHONY: deps build run test test-suites bench bench-runner bench-api bench-e2e clean

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

# The product on its embedded default: reports the host's isolation features, then serves the
# API on SQLite (./agentgrid-data; PORT=8000 by default) with a local runner it starts itself,
# seeded with demo accounts and three approved agents (scripts/demo_seed.py), until Ctrl-C.
run: build
	.build/debug/agentgrid-runner check
	@echo
	scripts/run-demo.sh .build/debug/agentgrid

# The suites run against one throw-away PostgreSQL server for the whole run (started in a
# temporary directory and stopped afterwards by scripts/with-postgres.sh, which exports
# AGENTGRID_TEST_DATABASE_URL; set that yourself to use your own server instead).
test: deps
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh $(MAKE) --no-print-directory test-suites

# Internal to `test` (needs the database). Everything runs in parallel except the suites that
# need the process to themselves (they count process-wide descriptors and mounts, or fake a dead
# engine that any other engine starting meanwhile would sweep up), which run alone afterwards.
SOLO_SUITES := EngineLeakTests|RecoverySoloTests
test-suites:
	$(SWIFT) test --skip-build --skip '$(SOLO_SUITES)'
	$(SWIFT) test --skip-build --filter '$(SOLO_SUITES)' --no-parallel

bench: deps
	$(SWIFT) build -c release --product agentgrid-bench
	.build/release/agentgrid-bench --runs $${RUNS:-300} --profiles profiles

# Through the daemon (2 slots, 8 clients) beside the spawn itself and exec one-shot.
bench-runner: deps
	$(SWIFT) build -c release --product agentgrid-runner
	$(SWIFT) build -c release --product agentgrid-runner-bench
	.build/release/agentgrid-runner-bench --runner .build/release/agentgrid-runner --runs $${RUNS:-400} --profiles profiles

# The control plane's API under wrk on loopback: seeds 200 users and 2,000 agents through the API
# (scripts/bench_api_seed.py, Python 3 stdlib), then measures list/get agent, /auth/me and login,
# on SQLite and on a throw-away PostgreSQL. DURATION=10s per endpoint. See scripts/bench-api.sh.
bench-api: deps
	@$(MAKE) --no-print-directory deps PACKAGES=python3
	$(SWIFT) build -c release --product agentgrid
	scripts/with-postgres.sh scripts/bench-api.sh .build/release/agentgrid

# The whole loop: HTTP submit to completed through the control plane (SQLite) and one runner with
# 2 slots, beside the same bundle sent to the same runner directly; 16 concurrent API clients for
# throughput; `agentgrid ledger verify` afterwards. RUNS=300 by default.
bench-e2e: deps
	$(SWIFT) build -c release --product agentgrid
	$(SWIFT) build -c release --product agentgrid-runner
	$(SWIFT) build -c release --product agentgrid-e2e-bench
	.build/release/agentgrid-e2e-bench --agentgrid .build/release/agentgrid --runner .build/release/agentgrid-runner --runs $${RUNS:-300} --profiles profiles

clean:
	rm -rf .build
