"""``dlbasics handout``: zip what students receive: the notebook, its self-check, requirements."""

from __future__ import annotations

from pathlib import Path

from autograder.cli.common import fail

NAME = "handout"
HELP = "zip what students receive: the notebook, its self-check, requirements"


def arguments(parser) -> None:
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--out", default="handout", help="folder for the .zip files (default: handout)")


def run(args) -> int:
    from autograder.checks import ASSIGNMENTS, get_assignment
    from autograder.notebook.handout import HandoutError, write_bundle

    chosen = [get_assignment(name) for name in args.assignments] or list(ASSIGNMENTS.values())
    try:
        for assignment in chosen:
            print(f"wrote {write_bundle(assignment, Path(args.out))}")
    except HandoutError as error:
        return fail(str(error))
    return 0
