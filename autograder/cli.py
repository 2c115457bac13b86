"""The ``dlbasics`` command: build the course, grade a class, check one notebook."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from autograder.checks import AssignmentError, UnknownAssignment
from autograder.course import CourseError
from autograder.selfcheck.status import Status
from autograder.text import terminal_text

EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"dlbasics: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_build(args) -> int:
    from autograder.notebook.build import build, check_fresh

    if args.check:
        problems = check_fresh()
        for problem in problems:
            print(problem)
        if problems:
            print("assignments/ is out of date: run `dlbasics build`", file=sys.stderr)
            return 1
        print("assignments/ is up to date")
        return 0
    written = build()
    print(f"built {len(written)} file(s)" + "".join(f"\n  {p}" for p in written))
    return 0


def cmd_run_solutions(args) -> int:
    from autograder.notebook.execute import execute_solutions

    failures = execute_solutions(timeout=args.timeout)
    return 1 if failures else 0


def _assignment_of(notebook_path: Path, name: str | None):
    from autograder.checks import ASSIGNMENTS, get_assignment
    from autograder.grading.intake import read_submission
    from autograder.notebook.submission import load_notebook, nbgrader_meta, parse_notebook

    if name:
        return get_assignment(name)
    for assignment in ASSIGNMENTS.values():
        if notebook_path.name == assignment.notebook:
            return assignment

    def grade_ids(notebook: dict) -> set:
        return {nbgrader_meta(c).get("grade_id") for c in notebook["cells"]} - {None}

    # Renamed file: the assignment whose template shares the most grade ids with it.
    ids = grade_ids(parse_notebook(read_submission(notebook_path)))
    return max(ASSIGNMENTS.values(), key=lambda a: len(ids & grade_ids(load_notebook(a.release))))


def _limits(args):
    from autograder.sandbox.pool import Limits

    limits = Limits()
    if getattr(args, "cell_timeout", None):
        limits.cell_seconds = args.cell_timeout
    if getattr(args, "call_timeout", None):
        limits.call_seconds = args.call_timeout
    return limits


def _course(args):
    """The course of ``--course`` (or None), and the output folder: OUT, or COURSE/grades/<assignment>."""
    from autograder.course import load

    course = load(Path(args.course)) if getattr(args, "course", None) else None
    return course


def _out(args, course, assignment) -> Path:
    if getattr(args, "out", None):
        return Path(args.out)
    if course is not None:
        return course.grades_dir(assignment.id)
    raise CourseError("say where the grades go: --out OUT, or --course COURSE (grades in COURSE/grades/<assignment>)")


def cmd_handout(args) -> int:
    from autograder.checks import ASSIGNMENTS, get_assignment
    from autograder.notebook.handout import HandoutError, write_bundle

    chosen = [get_assignment(name) for name in args.assignments] or list(ASSIGNMENTS.values())
    try:
        for assignment in chosen:
            print(f"wrote {write_bundle(assignment, Path(args.out))}")
    except HandoutError as error:
        return _fail(str(error))
    return 0


def cmd_init(args) -> int:
    from autograder.course import init

    written = init(Path(args.course))
    print("created " + ", ".join(str(p) for p in written) + "\nedit course.toml (due dates, late policy) and "
          "roster.csv, then grade with --course " + args.course + "; keep secret.toml out of any repository")
    return 0


def cmd_grade(args) -> int:
    from tqdm import tqdm

    from autograder.checks import get_assignment
    from autograder.context import environment_seed, make_context
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.grading.run import ClusterUnavailable, NothingToGrade, grade_class, limits_of, print_changes
    from autograder.report import write_outputs
    from autograder.sandbox.pool import SandboxUnavailable

    clean = terminal_text
    assignment = get_assignment(args.assignment)
    course = _course(args)
    out = _out(args, course, assignment)

    def progress(total: int):
        return tqdm(total=total, desc=f"grading {assignment.id}", unit="nb", disable=args.quiet, file=sys.stderr)

    def on_skipped(skipped: list) -> None:
        for item in skipped:
            print(clean(f"skipped {item.path}: {item.reason}"), file=sys.stderr)

    def on_settings(differences: list[str]) -> None:
        for difference in differences:
            print(clean(f"regrading: the earlier grades were made with {difference}"), file=sys.stderr)

    security = None
    if args.cluster:
        from autograder.grading import certs

        if args.cluster.startswith("tls://"):
            security = certs.security(course.root if course else out)
        elif not args.insecure_cluster:
            return _fail(clean(f"{args.cluster}: a cluster is reached over TLS (tls://HOST:8786) with the "
                               "course's certificates, so that only your nodes can join and see the seed and the "
                               "notebooks: run `dlbasics cluster-certs` (same --course or --out) and start the "
                               "scheduler and workers as it says; or pass --insecure-cluster on a network you trust"))
        else:
            print("warning: --insecure-cluster: the seed and the notebooks cross the network unencrypted, and any "
                  "machine that reaches the scheduler can join it as a worker", file=sys.stderr)
    limits = limits_of(course, {"cell_seconds": args.cell_timeout, "call_seconds": args.call_timeout})
    context = make_context(course, out, env_seed=environment_seed(), limits=limits)
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite")
    try:
        try:
            run = grade_class(assignment, [Path(p) for p in args.submissions], gradebook, context, jobs=args.jobs,
                              regrade=args.regrade, cluster=args.cluster, security=security, progress=progress,
                              on_settings=on_settings, on_skipped=on_skipped)
        except (NothingToGrade, SandboxUnavailable, ClusterUnavailable) as error:
            return _fail(clean(str(error)))
        # Every output is written from the whole gradebook: a run that graded one late notebook
        # leaves the class's files complete, and a failed write is redone by the next run.
        results, failed_writes = write_outputs(assignment, load_template(assignment), gradebook, out, course,
                                               released=args.release, anonymous=args.anonymous, seed=context.seed)
    finally:
        gradebook.close()
    print_changes(run.changes)
    if not args.quiet:
        from autograder.report.summary import render_text, summarize

        print(clean(render_text(summarize(results, run.questions))))
        note = next((r.isolation_note for r in results if r.isolation_note), "")
        if note:
            print(f"warning: {note}")
        print(f"graded {run.graded}, reused {run.reused} unchanged, in {run.seconds:.1f} s; "
              f"wrote {out / 'grades.csv'}, {out / 'summary.html'} and a feedback.html per student in "
              f"{out / 'feedback'}/")
    for student, error in failed_writes:
        print(clean(f"error: could not write the outputs of {student!r}: {error}; its grade is in the gradebook, "
                    "rerun to write them"), file=sys.stderr)
    faults = [r.student for r in results if r.status == Status.GRADER_ERROR]
    if faults:
        print(clean(f"error: the grader itself failed on {len(faults)} submission(s) ({', '.join(faults[:5])}"
                    f"{', ...' if len(faults) > 5 else ''}): status 'grader error' in grades.csv, no points "
                    "awarded for what failed; please report it"), file=sys.stderr)
    return 1 if faults or failed_writes else 0


def cmd_cluster_certs(args) -> int:
    from autograder.grading import certs

    course = _course(args)
    if course is None and not args.out:
        return _fail("say whose cluster: --course COURSE (certificates in COURSE/cluster/) or --out OUT")
    try:
        folder = certs.make(course.root if course else Path(args.out), renew=args.renew)
    except FileExistsError as error:
        return _fail(terminal_text(str(error)))
    print(terminal_text(f"wrote {folder}/{{{certs.CA},{certs.NODE},{certs.GRADER}}}\n" + certs.start_commands(folder)))
    return 0


def cmd_report(args) -> int:
    """Rewrite every output of an assignment from its gradebook, grading nothing."""
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report import write_outputs

    assignment = get_assignment(args.assignment)
    course = _course(args)
    out = _out(args, course, assignment)
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite", create=False)
    results, failed = write_outputs(assignment, load_template(assignment), gradebook, out, course,
                                    released=args.release, anonymous=args.anonymous, seed=_seed_of(course, out))
    gradebook.close()
    for student, error in failed:
        print(terminal_text(f"error: could not write the outputs of {student!r}: {error}"), file=sys.stderr)
    print(f"wrote the outputs of {len(results) - len(failed)} submission(s) to {out}")
    return 1 if failed else 0


def cmd_check(args) -> int:
    from autograder.grading.grade import grade_one, load_template
    from autograder.sandbox.pool import SandboxUnavailable, Worker
    from autograder.selfcheck.display import as_text

    # Everything printed here can hold student text (the file name, cell errors, check messages):
    # escape sequences in it could clear the screen and print a fake score.
    def say(text: str) -> None:
        print(terminal_text(text))

    path = Path(args.notebook)
    if not path.is_file():
        return _fail(terminal_text(f"no such notebook: {path}"))
    from autograder.notebook.submission import UnreadableNotebook

    try:
        assignment = _assignment_of(path, args.assignment)
    except UnknownAssignment as error:
        return _fail(terminal_text(str(error)))
    except UnreadableNotebook as error:
        return _fail(terminal_text(f"{path}: {error}"))
    template = load_template(assignment)
    course = _course(args)
    limits = _limits(args)
    from autograder.context import NoSeed, environment_seed, make_context

    try:  # hidden checks only with an explicit seed: never one of the kit's
        context = make_context(course, None, env_seed=environment_seed(), limits=limits)
    except NoSeed:
        context = None
    student = args.student or path.stem
    worker = Worker(limits)
    try:
        result = grade_one(assignment, template, student, path, worker, context)
    except SandboxUnavailable as error:
        return _fail(terminal_text(str(error)))
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


def _seed_of(course, out: Path, required: bool = True) -> str | None:
    """The seed grades in OUT were made with (it keys pseudonyms): the course's, DLBASICS_SEED, or OUT's own;
    without one, NoSeed (or None when not ``required``)."""
    from autograder.context import NoSeed, environment_seed, resolve_seed

    try:
        return resolve_seed(course, out, environment_seed(), create=False)[0]
    except NoSeed:
        if required:
            raise
        return None


def _gradebook_path(args, course, assignment) -> Path:
    if getattr(args, "gradebook", None):
        return Path(args.gradebook)
    return _out(args, course, assignment) / "gradebook.sqlite"


def cmd_import_scores(args) -> int:
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report.manual_scores import read_scores, where_args

    assignment = get_assignment(args.assignment)
    course = _course(args)
    gradebook = Gradebook(_gradebook_path(args, course, assignment), create=False)
    try:
        imported = read_scores(Path(args.csv), assignment.id, load_template(assignment).written,
                               gradebook.results(assignment.id), {s.id for s in (course.roster if course else [])},
                               _seed_of(course, gradebook.path.parent, required=False))
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


def cmd_scores_template(args) -> int:
    """A CSV to score written answers in: answer text and maximum, untouched answers pre-filled with 0,
    earlier scores kept."""
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook
    from autograder.report.manual_scores import template_rows, where_args, write_template

    assignment = get_assignment(args.assignment)
    course = _course(args)
    gradebook = Gradebook(_gradebook_path(args, course, assignment), create=False)
    try:
        anonymous = gradebook.anonymous(assignment.id, args.anonymous)  # remembered once chosen
        seed = _seed_of(course, gradebook.path.parent) if anonymous else None
        rows = template_rows(gradebook.results(assignment.id), gradebook.manual_entries(assignment.id), seed)
        folder = gradebook.path.parent
    finally:
        gradebook.close()
    target = Path(args.file) if args.file else (_out(args, course, assignment) if args.out or args.course
                                                 else folder) / "manual-scores.csv"
    write_template(target, rows)
    todo = sum(1 for row in rows if row[3] == "")
    print(terminal_text(f"wrote {target}: {len(rows)} answer(s), {todo} to score (untouched answers are 0 already); "
                        f"then: dlbasics import-scores {assignment.id} {shlex.quote(str(target))} {where_args(args)}"))
    return 0


def cmd_desk(args) -> int:
    """Serve the instructor's desk (hand grading in the browser) until Ctrl-C."""
    import socket

    from autograder.checks import get_assignment
    from autograder.desk.app import open_desk, report_command, serve
    from autograder.report.manual_scores import where_list

    assignment = get_assignment(args.assignment)
    course = _course(args)
    path = _gradebook_path(args, course, assignment)
    where = where_list(args)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        # Listening before the address is printed: a browser opened at once waits in the backlog
        # (128: the usual default) until the server is up, instead of being refused.
        sock.listen(128)
    except OSError as error:
        return _fail(f"cannot listen on {args.host}:{args.port} ({error}): choose another --port")
    port = sock.getsockname()[1]
    seed = _seed_of(course, path.parent)
    desk = open_desk(assignment, path, seed, report_command(assignment.id, where), args.host, port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"the desk for {assignment.id} is at http://{host}:{port}/?token={desk.token}\n"
          "(open it in your browser; the token is your key: do not share it) Ctrl-C stops it; every saved score "
          "is in the gradebook already", flush=True)
    try:
        serve(desk, sock)
    finally:
        desk.gradebook.close()
    return 0


def cmd_gradescope(args) -> int:
    """Build the Gradescope autograder zip of one assignment (it holds the course's secret seed)."""
    from autograder.checks import get_assignment
    from autograder.course import load
    from autograder.platforms.gradescope import GradescopeError, build

    assignment = get_assignment(args.assignment)
    course = load(Path(args.course))
    # Default: the course's grades/ folder, which the course's .gitignore keeps out of any repository.
    out = Path(args.out) if args.out else course.root / "grades"
    try:
        target = build(assignment, course, out)
    except GradescopeError as error:
        return _fail(terminal_text(str(error)))
    print(f"wrote {target}: upload it to Gradescope (Configure Autograder, zip file upload, Ubuntu 22.04 base "
          "image). It holds the course's secret seed: do not share it or commit it.")
    return 0


def cmd_gradescope_run(args) -> int:
    """Inside Gradescope: grade ROOT/submission, write ROOT/results/results.json."""
    from autograder.platforms.gradescope import GradescopeError, run, self_test

    root = Path(args.root)
    try:
        if args.self_test:
            print(self_test(args.assignment, root))
            return 0
        status, _ = run(args.assignment, root)
    except GradescopeError as error:
        return _fail(terminal_text(str(error)))
    return status


def cmd_export(args) -> int:
    """One CSV of every assignment's totals for an LMS gradebook import (Canvas or Moodle)."""
    from autograder.course import load
    from autograder.report.lms import LmsError, export

    course = load(Path(args.course))
    try:
        written = export(args.platform, course, Path(args.out) if args.out else None)
    except LmsError as error:
        return _fail(terminal_text(str(error)))
    for warning in written.warnings:
        print(terminal_text(f"warning: {warning}"), file=sys.stderr)
    for fault in written.faults:
        print(terminal_text(f"error: {fault}"), file=sys.stderr)
    print(terminal_text(f"wrote {written.path}: {written.students} student(s), assignment(s) "
                        f"{', '.join(written.assignments)}; {written.how_to_import}"))
    return 1 if written.faults else 0


RELEASE_HELP = ("also write OUT/hidden-checks.json, the hidden checks' full messages, for you only; "
                "students never see them (their files show a hidden check's name, points and named mistake)")


def _anonymity(p) -> None:
    """--anonymous / --names: remembered by the gradebook once chosen (Gradebook.anonymous)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--anonymous", dest="anonymous", action="store_const", const=True, default=None,
                       help="review pages and scores-template show pseudonyms instead of student ids "
                            "(remembered for this assignment's later runs)")
    group.add_argument("--names", dest="anonymous", action="store_const", const=False,
                       help="show student ids again after --anonymous (remembered too)")


def _where(p) -> None:
    """The options that say where an assignment's grades are: a course, or an output folder."""
    p.add_argument("--course", help="course folder (dlbasics init): its seed, limits, roster, due dates")
    p.add_argument("--out", help="the output folder of `dlbasics grade` (default with --course: "
                   "COURSE/grades/<assignment>)")
    p.add_argument("--gradebook", help="SQLite gradebook (default: OUT/gradebook.sqlite)")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlbasics", description=__doc__)
    sub = main.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="generate assignments/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report stale or missing generated files")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run-solutions", help="execute every solution notebook headless")
    p.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    p.set_defaults(func=cmd_run_solutions)

    p = sub.add_parser("handout", help="zip what students receive: the notebook, its self-check, requirements")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--out", default="handout", help="folder for the .zip files (default: handout)")
    p.set_defaults(func=cmd_handout)

    p = sub.add_parser("init", help="create a course folder: secret seed, limits, due dates, late policy, roster")
    p.add_argument("course", help="the folder to create, e.g. course-2026")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("grade", help="grade a class of notebooks")
    p.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    p.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks / of student folders")
    _where(p)
    _anonymity(p)
    p.add_argument("--regrade", action="store_true",
                   help="grade again even unchanged submissions, also with another seed or limits; prints changes")
    p.add_argument("--jobs", type=int, default=None, help="parallel sandboxed workers (default: the cores)")
    p.add_argument("--release", action="store_true", help=RELEASE_HELP)
    p.add_argument("--cell-timeout", type=float, help="seconds per notebook cell (default 5)")
    p.add_argument("--call-timeout", type=float, help="seconds per function call (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on the Dask cluster whose scheduler is at ADDRESS (tls://host:8786, started with "
                        "the certificates of `dlbasics cluster-certs`) instead of local workers; outputs and "
                        "gradebook stay here")
    p.add_argument("--insecure-cluster", action="store_true",
                   help="allow a tcp:// cluster: no encryption, and any machine that reaches the scheduler can "
                        "join it and receive the seed and the notebooks")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("cluster-certs", help="create the certificates a Dask cluster of this course needs (TLS): "
                                             "only nodes holding them can join")
    _where(p)
    p.add_argument("--renew", action="store_true", help="replace existing certificates")
    p.set_defaults(func=cmd_cluster_certs)

    p = sub.add_parser("check", help="grade one notebook and print a readable summary")
    p.add_argument("notebook")
    p.add_argument("--assignment", help="assignment id (default: guessed from the notebook)")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages")
    p.add_argument("--course", help="course folder: run the hidden checks too, with its secret seed "
                                    "(or set DLBASICS_SEED); without either, only the public checks run")
    p.add_argument("--student", help="whose hidden inputs to use (default: the notebook's file name)")
    p.add_argument("--cell-timeout", type=float)
    p.add_argument("--call-timeout", type=float)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("report", help="rewrite every output (grades.csv, feedback, summary) from the gradebook")
    p.add_argument("assignment")
    _where(p)
    _anonymity(p)
    p.add_argument("--release", action="store_true", help=RELEASE_HELP)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("scores-template", help="write a CSV to score the written answers in")
    p.add_argument("assignment")
    _where(p)
    p.add_argument("--file", help="where to write it (default: OUT/manual-scores.csv)")
    _anonymity(p)
    p.set_defaults(func=cmd_scores_template)

    p = sub.add_parser("import-scores", help="merge hand-graded scores (CSV) into the gradebook")
    p.add_argument("assignment")
    p.add_argument("csv", help="CSV with columns student, question, points[, comment]")
    _where(p)
    p.set_defaults(func=cmd_import_scores)

    p = sub.add_parser("desk", help="grade written answers in the browser (by question, rubric items, groups)")
    p.add_argument("assignment")
    _where(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                   "only; anything else lets others on the network reach the desk, token permitting)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one, printed)")
    p.set_defaults(func=cmd_desk)

    p = sub.add_parser("gradescope", help="build the Gradescope autograder zip of an assignment (holds the seed)")
    p.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    p.add_argument("--course", required=True, help="course folder (dlbasics init): its secret seed and limits")
    p.add_argument("--out", help="folder for <assignment>-autograder.zip (default: COURSE/grades, kept out of git)")
    p.set_defaults(func=cmd_gradescope)

    p = sub.add_parser("gradescope-run", help="inside Gradescope (run_autograder): grade ROOT/submission and "
                                               "write ROOT/results/results.json")
    p.add_argument("assignment")
    p.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    p.add_argument("--self-test", action="store_true",
                   help="only check the packaged settings and template (setup.sh runs this)")
    p.set_defaults(func=cmd_gradescope_run)

    p = sub.add_parser("export", help="write a CSV of every assignment's totals for Canvas's or Moodle's "
                                      "gradebook import")
    p.add_argument("platform", choices=["canvas", "moodle"])
    p.add_argument("--course", required=True, help="course folder: its roster and COURSE/grades/*/gradebook.sqlite")
    p.add_argument("--out", help="the CSV to write (default: COURSE/grades/<platform>-grades.csv)")
    p.set_defaults(func=cmd_export)
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
        return _fail(terminal_text(str(error)))
    except KeyboardInterrupt:
        # Everything graded so far is in the gradebook (one transaction per submission).
        print("\ndlbasics: interrupted; what was graded is kept, run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
