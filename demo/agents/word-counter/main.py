"""AgentGrid demo agent: word counter.

stdin:  {"text": "..."}
stdout: {"words": n, "characters": n, "lines": n, "top_words": [[word, count], ...]}

A word is a run of letters, digits or underscores, with inner apostrophes kept ("don't");
top_words compares words case-insensitively and lists at most five, most frequent first
(ties in alphabetical order). characters counts Unicode code points; lines counts lines as
str.splitlines does (a final newline does not start another one).
"""
import collections
import json
import re
import sys

WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


def log(message):
    print(f"word-counter: {message}", file=sys.stderr)


def main():
    raw = sys.stdin.read()
    try:
        inputs = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        log(f"error: stdin is not JSON: {error}")
        return 2
    text = inputs.get("text") if isinstance(inputs, dict) else None
    if not isinstance(text, str):
        log('error: the input "text" (a string) is required')
        return 2

    words = WORD.findall(text)
    counts = collections.Counter(word.lower() for word in words)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5]
    outputs = {
        "words": len(words),
        "characters": len(text),
        "lines": len(text.splitlines()),
        "top_words": [[word, count] for word, count in top],
    }
    log(f"read {len(text)} characters: {outputs['words']} words, {len(counts)} distinct, {outputs['lines']} lines")
    json.dump(outputs, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
