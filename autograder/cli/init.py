"""``dlbasics init``: create a course folder: secret seed, limits, due dates, late policy, roster."""

from __future__ import annotations

from pathlib import Path

NAME = "init"
HELP = "create a course folder: secret seed, limits, due dates, late policy, roster"


def arguments(parser) -> None:
    parser.add_argument("course", help="the folder to create, e.g. course-2026")


def run(args) -> int:
    from autograder.course import init

    written = init(Path(args.course))
    print("created " + ", ".join(str(p) for p in written) + "\nedit course.toml (due dates, late policy) and "
          "roster.csv, then grade with --course " + args.course + "; keep secret.toml out of any repository")
    return 0
