"""``dlbasics gradescope``: build the Gradescope autograder zip of an assignment (holds the seed)."""

from __future__ import annotations

from pathlib import Path

from autograder.cli.common import fail
from autograder.text import terminal_text

NAME = "gradescope"
HELP = "build the Gradescope autograder zip of an assignment (holds the seed)"


def arguments(parser) -> None:
    parser.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    parser.add_argument("--course", required=True, help="course folder (dlbasics init): its secret seed and limits")
    parser.add_argument("--out",
                        help="folder for <assignment>-autograder.zip (default: COURSE/grades, kept out of git)")


def run(args) -> int:
    """Build the Gradescope autograder zip of one assignment (it holds the course's secret seed)."""
    from autograder.checks import ASSIGNMENTS, get_assignment
    from autograder.course import load
    from autograder.platforms.gradescope import GradescopeError, build

    assignment = get_assignment(args.assignment)
    course = load(Path(args.course), ASSIGNMENTS)
    # Default: the course's grades/ folder, which the course's .gitignore keeps out of any repository.
    out = Path(args.out) if args.out else course.root / "grades"
    try:
        target = build(assignment, course, out)
    except GradescopeError as error:
        return fail(terminal_text(str(error)))
    print(f"wrote {target}: upload it to Gradescope (Configure Autograder, zip file upload, Ubuntu 22.04 base "
          "image). It holds the course's secret seed: do not share it or commit it.")
    return 0
