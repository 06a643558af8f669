"""AgentGrid demo agent: JSON transformer.

stdin:  {"document": {...}, "operation": "flatten" (default) | "keys" | "uppercase_strings"}
stdout: {"operation": "<the operation>", "result": <the transformed document>}

  flatten            {"a": {"b": 1}, "c": [true, {"d": null}]} -> {"a.b": 1, "c.0": true, "c.1.d": null}
                     (empty objects and lists are kept as leaves)
  keys               the dotted path of every leaf, sorted: ["a.b", "c.0", "c.1.d"]
  uppercase_strings  the same document with every string value upper-cased (keys unchanged)

An unknown operation or a document that is not an object is an error: a message on stderr
and exit status 2, so the run ends as failed.
"""
import json
import sys


def log(message):
    print(f"json-transformer: {message}", file=sys.stderr)


def flatten(value, prefix="", into=None):
    into = {} if into is None else into
    if isinstance(value, dict) and value:
        for key, member in value.items():
            flatten(member, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list) and value:
        for index, member in enumerate(value):
            flatten(member, f"{prefix}.{index}" if prefix else str(index), into)
    else:
        into[prefix] = value
    return into


def uppercase_strings(value):
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, dict):
        return {key: uppercase_strings(member) for key, member in value.items()}
    if isinstance(value, list):
        return [uppercase_strings(member) for member in value]
    return value


OPERATIONS = {
    "flatten": flatten,
    "keys": lambda document: sorted(flatten(document)),
    "uppercase_strings": uppercase_strings,
}


def main():
    raw = sys.stdin.read()
    try:
        inputs = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        log(f"error: stdin is not JSON: {error}")
        return 2
    if not isinstance(inputs, dict):
        log("error: the inputs must be a JSON object")
        return 2
    document = inputs.get("document")
    operation = inputs.get("operation") or "flatten"
    if not isinstance(document, dict):
        log('error: the input "document" (a JSON object) is required')
        return 2
    if not isinstance(operation, str) or operation not in OPERATIONS:
        log(f"error: unknown operation {json.dumps(operation)}; expected one of: {', '.join(OPERATIONS)}")
        return 2
    if operation == "flatten" and "operation" not in inputs:
        log("no operation given: using flatten")
    try:
        result = OPERATIONS[operation](document)
    except RecursionError:
        log("error: the document is nested too deeply")
        return 2
    log(f"{operation}: {len(document)} top-level keys in, {len(result)} entries out")
    json.dump({"operation": operation, "result": result}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
