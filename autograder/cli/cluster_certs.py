"""``dlbasics cluster-certs``: create the certificates a Dask cluster of this course needs (TLS): only nodes holding
them can join."""

from __future__ import annotations

from pathlib import Path

from autograder.cli.common import course_of, fail, where_options
from autograder.text import terminal_text

NAME = "cluster-certs"
HELP = ("create the certificates a Dask cluster of this course needs (TLS): "
        "only nodes holding them can join")


def arguments(parser) -> None:
    where_options(parser)
    parser.add_argument("--renew", action="store_true", help="replace existing certificates")


def run(args) -> int:
    from autograder.grading import certs

    course = course_of(args)
    if course is None and not args.out:
        return fail("say whose cluster: --course COURSE (certificates in COURSE/cluster/) or --out OUT")
    try:
        folder = certs.make(course.root if course else Path(args.out), renew=args.renew)
    except FileExistsError as error:
        return fail(terminal_text(str(error)))
    print(terminal_text(f"wrote {folder}/{{{certs.CA},{certs.NODE},{certs.GRADER}}}\n" + certs.start_commands(folder)))
    return 0
