"""What the verbs share: the error exit, where an assignment's grades are, its seed and limits, shared options."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.course import CourseError

EXIT_USAGE = 2

RELEASE_HELP = ("also write OUT/hidden-checks.json, the hidden checks' full messages, for you only; "
                "students never see them (their files show a hidden check's name, points and named mistake)")


def fail(message: str) -> int:
    print(f"dlbasics: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def limits_from(args):
    from autograder.sandbox.pool import Limits

    limits = Limits()
    if getattr(args, "cell_timeout", None):
        limits.cell_seconds = args.cell_timeout
    if getattr(args, "call_timeout", None):
        limits.call_seconds = args.call_timeout
    return limits


def course_of(args):
    """The course of ``--course`` (or None)."""
    from autograder.checks import ASSIGNMENTS
    from autograder.course import load

    course = load(Path(args.course), ASSIGNMENTS) if getattr(args, "course", None) else None
    return course


def out_of(args, course, assignment) -> Path:
    """The output folder: OUT, or COURSE/grades/<assignment>."""
    if getattr(args, "out", None):
        return Path(args.out)
    if course is not None:
        return course.grades_dir(assignment.id)
    raise CourseError("say where the grades go: --out OUT, or --course COURSE (grades in COURSE/grades/<assignment>)")


def seed_of(course, out: Path) -> str:
    """The seed grades in OUT were made with (it keys pseudonyms): the course's, DLBASICS_SEED, or OUT's own
    (made now if OUT has none yet: then no page was ever keyed with another)."""
    from autograder.context import environment_seed, resolve_seed

    return resolve_seed(course, out, environment_seed())[0]


def gradebook_path(args, course, assignment) -> Path:
    if getattr(args, "gradebook", None):
        return Path(args.gradebook)
    return out_of(args, course, assignment) / "gradebook.sqlite"


def where_options(p) -> None:
    """The options that say where an assignment's grades are: a course, or an output folder."""
    p.add_argument("--course", help="course folder (dlbasics init): its seed, limits, roster, due dates")
    p.add_argument("--out", help="the output folder of `dlbasics grade` (default with --course: "
                   "COURSE/grades/<assignment>)")
    p.add_argument("--gradebook", help="SQLite gradebook (default: OUT/gradebook.sqlite)")


def anonymity_options(p) -> None:
    """--anonymous / --names: remembered by the gradebook once chosen (Gradebook.anonymous)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--anonymous", dest="anonymous", action="store_const", const=True, default=None,
                       help="review pages and scores-template show pseudonyms instead of student ids "
                            "(remembered for this assignment's later runs)")
    group.add_argument("--names", dest="anonymous", action="store_const", const=False,
                       help="show student ids again after --anonymous (remembered too)")
