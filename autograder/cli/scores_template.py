"""``dlbasics scores-template``: write a CSV to score the written answers in."""

from __future__ import annotations

import shlex
from pathlib import Path

from autograder.cli.common import anonymity_options, course_of, gradebook_path, out_of, seed_of, where_options
from autograder.text import terminal_text

NAME = "scores-template"
HELP = "write a CSV to score the written answers in"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    where_options(parser)
    parser.add_argument("--file", help="where to write it (default: OUT/manual-scores.csv)")
    anonymity_options(parser)


def run(args) -> int:
    """A CSV to score written answers in: answer text and maximum, untouched answers pre-filled with 0,
    earlier scores kept."""
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook
    from autograder.report.manual_scores import template_rows, where_args, write_template

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    gradebook = Gradebook(gradebook_path(args, course, assignment), create=False)
    try:
        anonymous = gradebook.anonymous(assignment.id, args.anonymous)  # remembered once chosen
        seed = seed_of(course, gradebook.path.parent) if anonymous else None
        rows = template_rows(gradebook.results(assignment.id), gradebook.manual_entries(assignment.id), seed)
        folder = gradebook.path.parent
    finally:
        gradebook.close()
    target = Path(args.file) if args.file else (out_of(args, course, assignment) if args.out or args.course
                                                   else folder) / "manual-scores.csv"
    write_template(target, rows)
    todo = sum(1 for row in rows if row[3] == "")
    print(terminal_text(f"wrote {target}: {len(rows)} answer(s), {todo} to score (untouched answers are 0 already); "
                        f"then: dlbasics import-scores {assignment.id} {shlex.quote(str(target))} {where_args(args)}"))
    return 0
