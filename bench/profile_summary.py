"""Where the time goes, from py-spy's collapsed stacks (``--format raw``).

    .venv/bin/python bench/profile_summary.py /tmp/prof/paging-at_200_per_s-worker.txt [--top 25]

Prints the functions with the largest share of the samples, inclusive (the function or
anything it called was running) and self (the function itself was on top), with line
numbers dropped so one function is one row. Samples are of the thread holding the GIL
(``bench/stack.py`` runs py-spy with ``--gil``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    total, inclusive, own = 0, Counter[str](), Counter[str]()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";")]
        # py-spy prefixes process and thread "frames": keep only code frames.
        frames = [f for f in frames if "(" in f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.files:
        total, inclusive, own = summarise(path)
        print(f"{path}: {total} samples of active threads")
        print("  inclusive:")
        for name, count in inclusive.most_common(args.top):
            print(f"    {count / total:6.1%}  {name}")
        print("  self:")
        for name, count in own.most_common(args.top):
            print(f"    {count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
