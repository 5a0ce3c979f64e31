"""Write a sample of successful word-attack examples as markdown.

Usage: .venv/bin/python scripts/robustness_examples.py ADVERSARIAL_JSONL [N] > OUT.md
(the full adversarial.jsonl files are not committed: 1.7 MB per model and attack).
"""

import json
import sys


def main(path: str, n: int = 15) -> None:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["before"] == r["gold"] != r["after"]:
                rows.append(r)
    print(f"# Successful word-substitution attacks: the first {min(n, len(rows))} of {len(rows)}")
    print(f"\nFrom `{path}`. Entities and tags are never changed; replaced words in **bold**.\n")
    print("| id | perturbed sentence | gold | after | words changed |")
    print("|---|---|---|---|---|")
    for r in rows[:n]:
        changed = {c["position"] for c in r["words_changed"]}
        text = r["perturbed"].replace("|", "\\|")
        words = text.split(" ")
        # Tagged text has one token per space-separated word (tags glued to tokens).
        if len(words) == len(r["original"].split(" ")):
            words = [f"**{w}**" if i in changed else w for i, w in enumerate(words)]
        swaps = ", ".join(f"{c['from']} → {c['to']}" for c in r["words_changed"])
        row = [r["id"], " ".join(words).replace("<", "&lt;"), r["gold"], r["after"], swaps]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15)
