"""``dlbasics export``: write a CSV of every assignment's totals for Canvas's or Moodle's gradebook import."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.cli.common import fail
from autograder.text import terminal_text

NAME = "export"
HELP = ("write a CSV of every assignment's totals for Canvas's or Moodle's "
        "gradebook import")


def arguments(parser) -> None:
    parser.add_argument("platform", choices=["canvas", "moodle"])
    parser.add_argument("--course", required=True,
                        help="course folder: its roster and COURSE/grades/*/gradebook.sqlite")
    parser.add_argument("--out", help="the CSV to write (default: COURSE/grades/<platform>-grades.csv)")
    parser.add_argument("--allow-unmatched", action="store_true",
                        help="export even while a graded submission maps to no roster student (it is left out)")


def run(args) -> int:
    """One CSV of every assignment's totals for an LMS gradebook import (Canvas or Moodle)."""
    from autograder.checks import ASSIGNMENTS
    from autograder.course import load
    from autograder.report.lms import LmsError, export

    course = load(Path(args.course), ASSIGNMENTS)
    try:
        written = export(args.platform, course, Path(args.out) if args.out else None,
                         allow_unmatched=args.allow_unmatched)
    except LmsError as error:
        return fail(terminal_text(str(error)))
    for warning in written.warnings:
        print(terminal_text(f"warning: {warning}"), file=sys.stderr)
    for fault in written.faults:
        print(terminal_text(f"error: {fault}"), file=sys.stderr)
    print(terminal_text(f"wrote {written.path}: {written.students} student(s), assignment(s) "
                        f"{', '.join(written.assignments)}; {written.how_to_import}"))
    return 1 if written.faults else 0
