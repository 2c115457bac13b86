"""The ``dlbasics`` command: build the course, grade a class, check one notebook."""

from __future__ import annotations

import argparse
import sys

from autograder.checks import AssignmentError, UnknownAssignment
from autograder.cli import (
    build,
    check,
    cluster_certs,
    desk,
    drop,
    export,
    grade,
    gradescope,
    gradescope_run,
    handout,
    import_scores,
    init,
    nbgrader_source,
    rename,
    report,
    run_solutions,
    scores_template,
)
from autograder.cli.common import fail
from autograder.course import CourseError
from autograder.text import terminal_text

# One module per verb (NAME, HELP, arguments(parser), run(args) -> int), in the order `dlbasics --help`
# lists them. Each holds only its argument wiring and printing; the work is in the layers it calls.
VERBS = (build, run_solutions, handout, nbgrader_source, init, grade, cluster_certs, check, report,
         scores_template, import_scores, desk, gradescope, gradescope_run, export, drop, rename)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlbasics", description=__doc__)
    sub = main.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        p = sub.add_parser(verb.NAME, help=verb.HELP)
        verb.arguments(p)
        p.set_defaults(func=verb.run)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from autograder.context import NoSeed
    from autograder.grading.gradebook import GradebookCorrupt, GradebookMissing
    from autograder.grading.run import SettingsChanged

    try:
        return args.func(args)
    except (UnknownAssignment, AssignmentError, CourseError, SettingsChanged, GradebookMissing, GradebookCorrupt,
            NoSeed, FileNotFoundError) as error:
        return fail(terminal_text(str(error)))
    except KeyboardInterrupt:
        # Everything graded so far is in the gradebook (one transaction per submission).
        print("\ndlbasics: interrupted; what was graded is kept, run the same command again to resume",
              file=sys.stderr)
        return 130
