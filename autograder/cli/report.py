"""``dlbasics report``: rewrite every output (grades.csv, feedback, summary) from the gradebook."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.cli.common import RELEASE_HELP, anonymity_options, course_of, out_of, seed_of, where_options
from autograder.text import terminal_text

NAME = "report"
HELP = "rewrite every output (grades.csv, feedback, summary) from the gradebook"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    where_options(parser)
    anonymity_options(parser)
    parser.add_argument("--release", action="store_true", help=RELEASE_HELP)


def run(args) -> int:
    """Rewrite every output of an assignment from its gradebook, grading nothing."""
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report import write_outputs

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    out = out_of(args, course, assignment)
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite", create=False)
    results, failed = write_outputs(assignment, load_template(assignment), gradebook, out, course,
                                    released=args.release, anonymous=args.anonymous, seed=seed_of(course, out))
    gradebook.close()
    for student, error in failed:
        print(terminal_text(f"error: could not write the outputs of {student!r}: {error}"), file=sys.stderr)
    print(f"wrote the outputs of {len(results) - len(failed)} submission(s) to {out}")
    return 1 if failed else 0
