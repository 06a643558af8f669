"""AgentGrid demo agent: limits.

stdin:  {"mode": "ok" (default) | "memory" | "time" | "fail"}
stdout: {"mode": "ok", "message": "..."} (only mode ok gets that far)

"memory" allocates 4 MiB at a time (filled, so the pages are really used) up to 512 MiB,
well past agent.yaml's limits.memory of 32M: the sandbox's OOM killer ends it (outcome oom).
"time" ticks every 0.25 s for up to 60 s, past limits.timeout of 2s: the sandbox kills it
at the wall-clock limit (outcome timeout). It sleeps between ticks, so it costs no CPU.
If either ever runs to its end, the limit was not enforced: it says so and exits 1.
"""
import json
import sys
import time

CHUNK = 4 << 20


def log(message):
    print(f"limit-demo: {message}", file=sys.stderr, flush=True)


def use_memory():
    held = []
    for step in range(1, 129):
        held.append(b"\x01" * CHUNK)
        if step % 2 == 0:
            log(f"holding {step * CHUNK >> 20} MiB")
    log("error: allocated 512 MiB and was not stopped: the memory limit is not enforced")
    return 1


def use_time():
    started = time.monotonic()
    ticks = 0
    while time.monotonic() - started < 60:
        time.sleep(0.25)
        ticks += 1
        if ticks % 2 == 0:
            log(f"still running after {time.monotonic() - started:.1f} s")
    log("error: ran for 60 s and was not stopped: the time limit is not enforced")
    return 1


def main():
    raw = sys.stdin.read()
    try:
        inputs = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        log(f"error: stdin is not JSON: {error}")
        return 2
    mode = inputs.get("mode", "ok") if isinstance(inputs, dict) else None
    log(f"mode {mode!r}")
    if mode == "memory":
        log("allocating 4 MiB at a time; limits.memory is 32M")
        return use_memory()
    if mode == "time":
        log("running on; limits.timeout is 2s")
        return use_time()
    if mode == "fail":
        log("failing on purpose with exit status 3")
        return 3
    if mode != "ok":
        log(f"error: unknown mode {json.dumps(mode)}; expected one of: ok, memory, time, fail")
        return 2
    json.dump({"mode": "ok", "message": "finished well inside the limits (32M of memory, 2s)"}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
