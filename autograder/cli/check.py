"""``dlbasics check``: grade one notebook and print a readable summary."""

from __future__ import annotations

from pathlib import Path

from autograder.checks import UnknownAssignment
from autograder.cli.common import course_of, fail, limits_from
from autograder.selfcheck.status import Status
from autograder.text import terminal_text

NAME = "check"
HELP = "grade one notebook and print a readable summary"


def arguments(parser) -> None:
    parser.add_argument("notebook")
    parser.add_argument("--assignment", help="assignment id (default: guessed from the notebook)")
    parser.add_argument("--release", action="store_true", help="show hidden checks' messages")
    parser.add_argument("--course", help="course folder: run the hidden checks too, with its secret seed "
                                         "(or set DLBASICS_SEED); without either, only the public checks run")
    parser.add_argument("--student", help="whose hidden inputs to use (default: the notebook's file name)")
    parser.add_argument("--cell-timeout", type=float)
    parser.add_argument("--call-timeout", type=float)


def run(args) -> int:
    from autograder.grading.grade import grade_one, load_template
    from autograder.grading.intake import assignment_of
    from autograder.sandbox.pool import SandboxUnavailable, Worker
    from autograder.selfcheck.display import as_text

    # Everything printed here can hold student text (the file name, cell errors, check messages):
    # escape sequences in it could clear the screen and print a fake score.
    def say(text: str) -> None:
        print(terminal_text(text))

    path = Path(args.notebook)
    if not path.is_file():
        return fail(terminal_text(f"no such notebook: {path}"))
    from autograder.notebook.submission import UnreadableNotebook

    try:
        assignment = assignment_of(path, args.assignment)
    except UnknownAssignment as error:
        return fail(terminal_text(str(error)))
    except UnreadableNotebook as error:
        return fail(terminal_text(f"{path}: {error}"))
    template = load_template(assignment)
    course = course_of(args)
    limits = limits_from(args)
    from autograder.context import environment_seed, make_context

    # Hidden checks only with an explicit seed, never one of the kit's; a seed that cannot be used
    # (too short, or DLBASICS_SEED against the course's) is an error that says why, not a silent skip.
    env_seed = environment_seed()
    context = None if course is None and env_seed is None else \
        make_context(course, None, env_seed=env_seed, limits=limits)
    student = args.student or path.stem
    worker = Worker(limits)
    try:
        result = grade_one(assignment, template, student, path, worker, context)
    except SandboxUnavailable as error:
        return fail(terminal_text(str(error)))
    finally:
        worker.stop()
    from autograder.report.outputs import visible_checks

    checks = visible_checks(result, args.release)
    say(f"{assignment.id}: {path}")
    if result.message:
        say(f"status: {result.status}: {result.message}")
    if result.status == Status.UNREADABLE:
        return 1
    for question, q in result.questions.items():
        mine = [c for c in checks if c.question == question]
        say(f"\n[{q.points:g}/{q.max_points:g}] " + as_text(question, mine))
    for cell in result.cells:
        if cell.status != Status.OK:
            say(f"\ncell {cell.label}: {cell.status}\n{cell.message}")
    if result.isolation_note:
        say(f"\nwarning: {result.isolation_note}")
    written = sum(w.max_points for w in result.written.values())
    if context is None:
        public = sum(fn.points for fn in assignment.checks() if not fn.hidden)
        say(f"\npublic checks: {result.auto_total:g} / {public:g} (the hidden checks did not run: give --course "
            f"COURSE or set DLBASICS_SEED to run them; they are worth {result.auto_max - public:g} more points)")
        return 0
    say(f"\nautomatic score: {result.auto_total:g} / {result.auto_max:g}"
        + (f" (+ {written:g} points of written answers, graded by hand)" if written else ""))
    return 0
