"""``dlbasics drop``: remove one student's grade of an assignment (kept in the history)."""

from __future__ import annotations

from autograder.cli import report
from autograder.cli.common import course_of, fail, gradebook_path, where_options
from autograder.text import terminal_text

NAME = "drop"
HELP = "remove one student's grade of an assignment (kept in the history)"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("student")
    where_options(parser)
    parser.set_defaults(release=False, anonymous=None)  # None: the gradebook's remembered choice


def run(args) -> int:
    """Remove one student's grade of an assignment (history kept), then rewrite the outputs."""
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    gradebook = Gradebook(gradebook_path(args, course, assignment), create=False)
    try:
        gradebook.drop(assignment.id, args.student)
    except KeyError:
        return fail(terminal_text(f"no grade of {args.student!r} for {assignment.id} in {gradebook.path}: "
                                  "nothing was changed"))
    finally:
        gradebook.close()
    print(terminal_text(f"dropped {args.student}'s grade of {assignment.id} (kept in the history)"))
    return report.run(args)
