"""``dlbasics rename``: give one student's grade, hand scores and history to another id."""

from __future__ import annotations

from autograder.cli import report
from autograder.cli.common import course_of, fail, gradebook_path, where_options
from autograder.text import terminal_text

NAME = "rename"
HELP = "give one student's grade, hand scores and history to another id"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("old")
    parser.add_argument("new")
    where_options(parser)
    parser.set_defaults(release=False, anonymous=None)  # None: the gradebook's remembered choice


def run(args) -> int:
    """Give one student's grade (hand scores and history too) to another id, then rewrite the outputs."""
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    if course is not None and course.roster and args.new not in {s.id for s in course.roster}:
        return fail(terminal_text(f"{args.new!r} is not an id of {course.root / 'roster.csv'}: rename to a "
                                  "roster id"))
    gradebook = Gradebook(gradebook_path(args, course, assignment), create=False)
    try:
        gradebook.rename(assignment.id, args.old, args.new)
    except KeyError:
        return fail(terminal_text(f"no grade of {args.old!r} for {assignment.id}: nothing was changed"))
    except ValueError:
        return fail(terminal_text(f"{args.new!r} already has a grade of {assignment.id}: drop one of the two "
                                  f"first (dlbasics drop {assignment.id} STUDENT); nothing was changed"))
    finally:
        gradebook.close()
    print(terminal_text(f"{args.old}'s grade of {assignment.id} is now {args.new}'s"))
    return report.run(args)
