"""``dlbasics build``: generate assignments/ from solutions/."""

from __future__ import annotations

import sys

NAME = "build"
HELP = "generate assignments/ from solutions/"


def arguments(parser) -> None:
    parser.add_argument("--check", action="store_true", help="only report stale or missing generated files")


def run(args) -> int:
    from autograder.notebook.build import build, check_fresh

    if args.check:
        problems = check_fresh()
        for problem in problems:
            print(problem)
        if problems:
            print("assignments/ is out of date: run `dlbasics build`", file=sys.stderr)
            return 1
        print("assignments/ is up to date")
        return 0
    written = build()
    print(f"built {len(written)} file(s)" + "".join(f"\n  {p}" for p in written))
    return 0
