"""``dlbasics run-solutions``: execute every solution notebook headless."""

from __future__ import annotations

NAME = "run-solutions"
HELP = "execute every solution notebook headless"


def arguments(parser) -> None:
    parser.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")


def run(args) -> int:
    from autograder.notebook.execute import execute_solutions

    failures = execute_solutions(timeout=args.timeout)
    return 1 if failures else 0
