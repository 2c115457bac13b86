"""``dlbasics nbgrader-source``: write an nbgrader course's source/<assignment>/: the notebook and its self-check only
(nothing of the grader reaches release/ or feedback/)."""

from __future__ import annotations

from pathlib import Path

from autograder.cli.common import fail
from autograder.text import terminal_text

NAME = "nbgrader-source"
HELP = ("write an nbgrader course's source/<assignment>/: the notebook "
        "and its self-check only (nothing of the grader reaches release/ or feedback/)")


def arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("course_dir", help="the nbgrader course folder (where nbgrader_config.py is)")


def run(args) -> int:
    """nbgrader's source/<id>/ of one assignment: the notebook with its markup and selfcheck/, no grader file."""
    from autograder.checks import get_assignment
    from autograder.platforms.nbgrader import NbgraderSourceError, write_source

    assignment = get_assignment(args.assignment)
    try:
        target = write_source(assignment, Path(args.course_dir))
    except NbgraderSourceError as error:
        return fail(terminal_text(str(error)))
    print(f"wrote {target}: the notebook and selfcheck/ only. Then, in {args.course_dir}: "
          f"nbgrader generate_assignment {assignment.id} (see nbgrader_config.py for autograde)")
    return 0
