"""``dlbasics import-scores``: merge hand-graded scores (CSV) into the gradebook."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.cli.common import EXIT_USAGE, course_of, gradebook_path, seed_of, where_options
from autograder.text import terminal_text

NAME = "import-scores"
HELP = "merge hand-graded scores (CSV) into the gradebook"


def arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("csv", help="CSV with columns student, question, points[, comment]")
    where_options(parser)


def run(args) -> int:
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report.manual_scores import read_scores, where_args

    assignment = get_assignment(args.assignment)
    course = course_of(args)
    gradebook = Gradebook(gradebook_path(args, course, assignment), create=False)
    try:
        imported = read_scores(Path(args.csv), assignment.id, load_template(assignment).written,
                               gradebook.results(assignment.id), {s.id for s in (course.roster if course else [])},
                               seed_of(course, gradebook.path.parent))
        if imported.problems:
            for problem in imported.problems:
                print(f"dlbasics: error: {problem}", file=sys.stderr)
            print(f"dlbasics: {len(imported.problems)} line(s) to fix; nothing was imported", file=sys.stderr)
            return EXIT_USAGE
        gradebook.set_manual(assignment.id, imported.scores)
    finally:
        gradebook.close()
    print(terminal_text(f"imported {len(imported.scores)} score(s); now run `dlbasics report {assignment.id} "
                        f"{where_args(args)}` to rewrite grades.csv and the feedback (nothing is regraded)"))
    return 0
