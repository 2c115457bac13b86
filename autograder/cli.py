"""The ``dlbasics`` command: build the course, grade a class, check one notebook."""

from __future__ import annotations

import argparse
import csv
import io
import os
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


def cmd_nbgrader_source(args) -> int:
    """nbgrader's source/<id>/ of one assignment: the notebook with its markup and selfcheck/, no grader file."""
    from autograder.checks import get_assignment
    from autograder.platforms.nbgrader import NbgraderSourceError, write_source

    assignment = get_assignment(args.assignment)
    try:
        target = write_source(assignment, Path(args.course_dir))
    except NbgraderSourceError as error:
        return _fail(terminal_text(str(error)))
    print(f"wrote {target}: the notebook and selfcheck/ only. Then, in {args.course_dir}: "
          f"nbgrader generate_assignment {assignment.id} (see nbgrader_config.py for autograde)")
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
    from autograder.grading.run import ClusterUnavailable, NothingToGrade, grade_class, print_changes
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

    try:
        run = grade_class(assignment, [Path(p) for p in args.submissions], out, course=course,
                          gradebook_path=Path(args.gradebook) if args.gradebook else None, jobs=args.jobs,
                          overrides={"cell_seconds": args.cell_timeout, "call_seconds": args.call_timeout},
                          regrade=args.regrade, cluster=args.cluster, released=args.release,
                          anonymous=args.anonymous, progress=progress, on_settings=on_settings,
                          on_skipped=on_skipped)
    except (NothingToGrade, SandboxUnavailable, ClusterUnavailable) as error:
        return _fail(clean(str(error)))
    print_changes(run.changes)
    if not args.quiet:
        from autograder.report.summary import render_text, summarize

        print(clean(render_text(summarize(run.results, run.questions))))
        note = next((r.isolation_note for r in run.results if r.isolation_note), "")
        if note:
            print(f"warning: {note}")
        print(f"graded {run.graded}, reused {run.reused} unchanged, in {run.seconds:.1f} s; "
              f"wrote {out / 'grades.csv'}, {out / 'summary.html'} and a feedback.html per student in "
              f"{out / 'feedback'}/")
    for student, error in run.failed_writes:
        print(clean(f"error: could not write the outputs of {student!r}: {error}; its grade is in the gradebook, "
                    "rerun to write them"), file=sys.stderr)
    faults = run.faults
    if faults:
        print(clean(f"error: the grader itself failed on {len(faults)} submission(s) ({', '.join(faults[:5])}"
                    f"{', ...' if len(faults) > 5 else ''}): status 'grader error' in grades.csv, no points "
                    "awarded for what failed; please report it"), file=sys.stderr)
    return 1 if faults or run.failed_writes else 0


def cmd_report(args) -> int:
    """Rewrite every output of an assignment from its gradebook, grading nothing."""
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.grading.run import write_outputs

    assignment = get_assignment(args.assignment)
    course = _course(args)
    out = _out(args, course, assignment)
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite", create=False)
    _use_seed(course, out)
    results, failed = write_outputs(assignment, load_template(assignment), gradebook, out, course,
                                    released=args.release, anonymous=args.anonymous)
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
    worker = Worker(_limits(args))
    try:
        result = grade_one(assignment, template, path.stem, path, worker)
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
    say(f"\nautomatic score: {result.auto_total:g} / {result.auto_max:g}"
        + (f" (+ {written:g} points of written answers, graded by hand)" if written else ""))
    return 0


def _use_seed(course, out: Path) -> None:
    """This process's seed (hidden inputs, pseudonyms): the course's, DLBASICS_SEED, or OUT's own."""
    from autograder.grading.run import resolve_seed

    os.environ["DLBASICS_SEED"] = resolve_seed(course, out)[0]


def _gradebook_path(args, course, assignment) -> Path:
    if getattr(args, "gradebook", None):
        return Path(args.gradebook)
    return _out(args, course, assignment) / "gradebook.sqlite"


def cmd_import_scores(args) -> int:
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook

    assignment = get_assignment(args.assignment)
    course = _course(args)
    path = Path(args.csv)
    gradebook = Gradebook(_gradebook_path(args, course, assignment), create=False)
    try:
        return _import_scores(path, assignment, course, gradebook, load_template(assignment).written)
    finally:
        gradebook.close()


def _import_scores(path: Path, assignment, course, gradebook, written: dict) -> int:
    known = gradebook.students(assignment.id) | {s.id for s in (course.roster if course else [])}
    _use_seed(course, gradebook.path.parent)
    from autograder.report.review import pseudonym

    hidden_names = {pseudonym(student): student for student in known}  # from an anonymous review
    scores, seen = [], set()
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = {"student", "question", "points"} - set(columns)
            if missing:
                return _fail(f"{path} needs the columns student, question, points[, comment] "
                             f"(missing: {', '.join(sorted(missing))}); nothing was imported")
            for line, raw in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
                where = f"{path}:{line}"
                if not row["points"]:
                    continue  # not scored yet (a row of the pre-filled template)
                try:
                    points = float(row["points"])
                except ValueError:
                    return _fail(f"{where}: points must be a number, got {row['points']!r}; nothing was imported")
                row["student"] = hidden_names.get(row["student"], row["student"])
                if row["student"] not in known and row["student"].startswith("'"):
                    row["student"] = row["student"][1:]  # copied from grades.csv, where '=x guards a formula
                if row["question"] not in written:
                    return _fail(terminal_text(
                        f"{where}: {row['question']!r} is not a hand-graded question of {assignment.id} "
                        f"(those are: {', '.join(written)}); nothing was imported"))
                if not 0 <= points <= written[row["question"]]:
                    return _fail(f"{where}: {points:g} is outside 0..{written[row['question']]:g} for "
                                 f"{row['question']}; nothing was imported")
                if row["student"] not in known:
                    return _fail(terminal_text(f"{where}: no student {row['student']!r} in this gradebook or roster "
                                               "(a typo?); nothing was imported"))
                if (row["student"], row["question"]) in seen:
                    return _fail(terminal_text(f"{where}: a second score for {row['student']!r}, {row['question']}; "
                                               "nothing was imported"))
                seen.add((row["student"], row["question"]))
                scores.append((row["student"], row["question"], points, row.get("comment", "")))
    except FileNotFoundError:
        return _fail(f"no such file: {path}")
    except (UnicodeDecodeError, csv.Error) as error:
        return _fail(f"{path} is not a UTF-8 CSV file ({error}); export it as 'CSV UTF-8' and try again")
    gradebook.set_manual(assignment.id, scores)
    print(f"imported {len(scores)} score(s); run `dlbasics report {assignment.id}` to rewrite grades.csv and "
          "the feedback (nothing is regraded)")
    return 0


def cmd_scores_template(args) -> int:
    """A CSV to score written answers in: untouched answers pre-filled with 0, earlier scores kept."""
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook
    from autograder.report.safe import csv_cell

    assignment = get_assignment(args.assignment)
    course = _course(args)
    gradebook = Gradebook(_gradebook_path(args, course, assignment), create=False)
    from autograder.report.review import pseudonym

    entries = gradebook.manual_entries(assignment.id)
    _use_seed(course, gradebook.path.parent)
    rows = []
    for result in gradebook.results(assignment.id):
        for question, answer in result.written.items():
            earlier = entries.get(result.student, {}).get(question)
            if answer.untouched:
                points, comment = "0", "no answer written"
            elif earlier is not None:
                points, comment = f"{earlier.points:g}", earlier.comment
                if earlier.stale:
                    points, comment = "", f"STALE (the answer changed since it was scored {earlier.points:g}): " \
                                          + earlier.comment
            else:
                points, comment = "", ""
            rows.append([pseudonym(result.student) if args.anonymous else result.student, question, points,
                         comment])
    gradebook.close()
    target = Path(args.file) if args.file else _out(args, course, assignment) / "manual-scores.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "question", "points", "comment"])
    writer.writerows([[csv_cell(cell) for cell in row] for row in rows])
    target.write_text(buffer.getvalue(), encoding="utf-8")
    todo = sum(1 for row in rows if row[2] == "")
    print(f"wrote {target}: {len(rows)} answer(s), {todo} to score (untouched answers are 0 already); "
          f"then: dlbasics import-scores {assignment.id} {target}")
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

    p = sub.add_parser("nbgrader-source", help="write an nbgrader course's source/<assignment>/: the notebook "
                       "and its self-check only (nothing of the grader reaches release/ or feedback/)")
    p.add_argument("assignment")
    p.add_argument("course_dir", help="the nbgrader course folder (where nbgrader_config.py is)")
    p.set_defaults(func=cmd_nbgrader_source)

    p = sub.add_parser("init", help="create a course folder: secret seed, limits, due dates, late policy, roster")
    p.add_argument("course", help="the folder to create, e.g. course-2026")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("grade", help="grade a class of notebooks")
    p.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    p.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks / of student folders")
    _where(p)
    p.add_argument("--anonymous", action="store_true",
                   help="review pages show a pseudonym instead of each student id")
    p.add_argument("--regrade", action="store_true",
                   help="grade again even unchanged submissions, also with another seed or limits; prints changes")
    p.add_argument("--jobs", type=int, default=None, help="parallel sandboxed workers (default: the cores)")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages in feedback")
    p.add_argument("--cell-timeout", type=float, help="seconds per notebook cell (default 5)")
    p.add_argument("--call-timeout", type=float, help="seconds per function call (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786) "
                        "instead of local workers; outputs and gradebook stay here")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("check", help="grade one notebook and print a readable summary")
    p.add_argument("notebook")
    p.add_argument("--assignment", help="assignment id (default: guessed from the notebook)")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages")
    p.add_argument("--cell-timeout", type=float)
    p.add_argument("--call-timeout", type=float)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("report", help="rewrite every output (grades.csv, feedback, summary) from the gradebook")
    p.add_argument("assignment")
    _where(p)
    p.add_argument("--anonymous", action="store_true", help="review pages show pseudonyms, not student ids")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages in feedback")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("scores-template", help="write a CSV to score the written answers in")
    p.add_argument("assignment")
    _where(p)
    p.add_argument("--file", help="where to write it (default: OUT/manual-scores.csv)")
    p.add_argument("--anonymous", action="store_true", help="pseudonyms instead of student ids (as on the "
                   "anonymous review pages); import-scores maps them back")
    p.set_defaults(func=cmd_scores_template)

    p = sub.add_parser("import-scores", help="merge hand-graded scores (CSV) into the gradebook")
    p.add_argument("assignment")
    p.add_argument("csv", help="CSV with columns student, question, points[, comment]")
    _where(p)
    p.set_defaults(func=cmd_import_scores)

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
    from autograder.grading.gradebook import GradebookCorrupt, GradebookMissing
    from autograder.grading.run import SettingsChanged

    try:
        return args.func(args)
    except (UnknownAssignment, AssignmentError, CourseError, SettingsChanged, GradebookMissing, GradebookCorrupt,
            FileNotFoundError) as error:
        return _fail(terminal_text(str(error)))
    except KeyboardInterrupt:
        # Everything graded so far is in the gradebook (one transaction per submission).
        print("\ndlbasics: interrupted; what was graded is kept, run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
