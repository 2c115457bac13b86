"""``dlbasics gradescope-run``: inside Gradescope (run_autograder): grade ROOT/submission and write
ROOT/results/results.json."""

from __future__ import annotations

from pathlib import Path

from autograder.cli.common import fail
from autograder.text import terminal_text

NAME = "gradescope-run"
HELP = ("inside Gradescope (run_autograder): grade ROOT/submission and "
        "write ROOT/results/results.json")


def arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    parser.add_argument("--self-test", action="store_true",
                        help="only check the packaged settings and template (setup.sh runs this)")


def run(args) -> int:
    """Inside Gradescope: grade ROOT/submission, write ROOT/results/results.json."""
    from autograder.platforms.gradescope import GradescopeError, run, self_test

    root = Path(args.root)
    try:
        if args.self_test:
            print(self_test(args.assignment, root))
            return 0
        status, _ = run(args.assignment, root)
    except GradescopeError as error:
        return fail(terminal_text(str(error)))
    return status
