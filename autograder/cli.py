"""The ``dlbasics`` command: build the course, grade a class, check one notebook."""

from __future__ import annotations

import argparse
import base64
import csv
import sys
import time
from pathlib import Path

from autograder.checks import UnknownAssignment
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


def cmd_grade(args) -> int:
    from tqdm import tqdm

    from autograder.checks import get_assignment
    from autograder.grading.grade import GRADER_ERROR, UNREADABLE, Batch, empty_result
    from autograder.grading.gradebook import Gradebook
    from autograder.grading.intake import find_submissions
    from autograder.sandbox.pool import SandboxUnavailable
    clean = terminal_text

    try:
        assignment = get_assignment(args.assignment)
        submissions, skipped, problems = find_submissions([Path(p) for p in args.submissions], assignment)
    except (UnknownAssignment, FileNotFoundError) as error:
        return _fail(str(error))
    for item in skipped:
        print(clean(f"skipped {item.path}: {item.reason}"), file=sys.stderr)
    if not submissions and not problems:
        return _fail("no notebooks found in " + ", ".join(args.submissions))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        batch = Batch(assignment, jobs=args.jobs, limits=_limits(args))
    except SandboxUnavailable as error:
        return _fail(str(error))
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite")
    started = time.monotonic()
    reused = 0

    def count(result: dict, was_stored: bool) -> None:
        nonlocal reused
        reused += was_stored

    for student, path, reason in problems:  # a link, an ambiguous folder: a row that says so
        gradebook.record(empty_result(assignment, batch.template, student, path, UNREADABLE, reason), batch.version)
    with tqdm(total=len(submissions), desc=f"grading {assignment.id}", unit="nb", disable=args.quiet,
              file=sys.stderr) as bar:
        batch.run(submissions, gradebook=gradebook, on_result=count, progress=bar)
    # Every output is written from the whole gradebook: a run that graded one late notebook
    # leaves the class's files complete, and a failed write is redone by the next run.
    results = gradebook.results(assignment.id)
    failed_writes = write_outputs(assignment, batch.template, results, gradebook.manual(assignment.id), out,
                                  released=args.release)
    gradebook.close()
    info = None
    faults = [r["student"] for r in results if r["status"] == GRADER_ERROR]
    if not args.quiet:
        from autograder.report import outputs

        info = outputs.summary(results, list(batch.template.points))
        print(clean(outputs.summary_text(info)))
        note = results[0].get("isolation_note") if results else ""
        if note:
            print(f"warning: {note}")
        print(f"graded {len(submissions) - reused}, reused {reused} unchanged, in {time.monotonic() - started:.1f} s; "
              f"wrote {out / 'grades.csv'}, {out / 'summary.html'} and a feedback.html per student in "
              f"{out / 'feedback'}/")
    for student, error in failed_writes:
        print(clean(f"error: could not write the outputs of {student!r}: {error}; its grade is in the gradebook, "
                    "rerun to write them"), file=sys.stderr)
    if faults:
        print(clean(f"error: the grader itself failed on {len(faults)} submission(s) ({', '.join(faults[:5])}"
                    f"{', ...' if len(faults) > 5 else ''}): status '{GRADER_ERROR}' in grades.csv, no points "
                    "awarded for what failed; please report it"), file=sys.stderr)
    return 1 if faults or failed_writes else 0


def cmd_report(args) -> int:
    """Rewrite every output of an assignment from its gradebook, grading nothing."""
    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook

    try:
        assignment = get_assignment(args.assignment)
    except UnknownAssignment as error:
        return _fail(str(error))
    out = Path(args.out)
    path = Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite"
    if not path.is_file():
        return _fail(f"no gradebook at {path}: grade first (dlbasics grade {assignment.id} SUBMISSIONS --out {out})")
    gradebook = Gradebook(path)
    results = gradebook.results(assignment.id)
    failed = write_outputs(assignment, load_template(assignment), results, gradebook.manual(assignment.id), out,
                           released=args.release)
    gradebook.close()
    for student, error in failed:
        print(terminal_text(f"error: could not write the outputs of {student!r}: {error}"), file=sys.stderr)
    print(f"wrote the outputs of {len(results) - len(failed)} submission(s) to {out}")
    return 1 if failed else 0


def write_outputs(assignment, template, results: list[dict], manual: dict, out: Path, released: bool) -> list:
    """Every file of a grading run, from the gradebook's results; returns the students whose files failed.

    One student's files failing to write (a full disk, a permission) stops nothing: the
    others and the class-wide files are still written, and the failure is reported.
    """
    from autograder.grading.intake import student_folder
    from autograder.report import outputs

    expected_plots = _expected_plots(assignment) if results else {}
    failed = []
    for result in results:
        scores = manual.get(result["student"], {})
        folder = student_folder(out, result["student"])
        try:
            outputs.write_atomic(folder / "results.json", outputs.dumps(outputs.gradescope(result, scores)))
            outputs.write_atomic(folder / "feedback.html",
                                 outputs.feedback_html(result, released=released, expected_plots=expected_plots))
        except (OSError, ValueError) as error:
            failed.append((result["student"], error))
    questions = list(template.points)
    written = list(template.written)
    outputs.write_atomic(out / "grades.csv", outputs.csv_rows(results, questions, written, manual))
    info = outputs.summary(results, questions)
    histogram = outputs.histogram_png(info["totals"], info["max_points"])
    outputs.write_atomic(out / "histogram.png", histogram)
    outputs.write_atomic(out / "summary.html", outputs.summary_html(info, assignment.id, histogram))
    outputs.write_atomic(out / "summary.json", outputs.dumps({k: v for k, v in info.items() if k != "totals"}))
    for question, max_points in template.written.items():
        answers = [(r["student"], r["written"].get(question, {}).get("answer", "")) for r in results]
        outputs.write_atomic(out / "review" / f"{question}.html",
                             outputs.review_page(assignment.id, question, answers, max_points))
    return failed


def _expected_plots(assignment) -> dict:
    module = assignment.check_module()
    if not hasattr(module, "expected_plots"):
        return {}
    return {question: base64.b64encode(png).decode() for question, png in module.expected_plots().items()}


def cmd_check(args) -> int:
    from autograder.grading.grade import grade_one, load_template
    from autograder.report.safe import clean_terminal
    from autograder.sandbox.pool import SandboxUnavailable, Worker
    from autograder.selfcheck.display import as_text

    # Everything printed here can hold student text (the file name, cell errors, check messages):
    # escape sequences in it could clear the screen and print a fake score.
    def say(text: str) -> None:
        print(clean_terminal(text))

    path = Path(args.notebook)
    if not path.is_file():
        return _fail(clean_terminal(f"no such notebook: {path}"))
    from autograder.notebook.submission import UnreadableNotebook

    try:
        assignment = _assignment_of(path, args.assignment)
    except UnknownAssignment as error:
        return _fail(clean_terminal(str(error)))
    except UnreadableNotebook as error:
        return _fail(clean_terminal(f"{path}: {error}"))
    template = load_template(assignment)
    worker = Worker(_limits(args))
    try:
        result = grade_one(assignment, template, path.stem, path, worker)
    except SandboxUnavailable as error:
        return _fail(clean_terminal(str(error)))
    finally:
        worker.stop()
    from autograder.report.outputs import visible_checks
    from autograder.selfcheck.api import CheckResult

    checks = [CheckResult(**{k: c[k] for k in ("name", "question", "points", "max_points", "status", "message",
                                               "hidden", "mistake")}) for c in visible_checks(result, args.release)]
    say(f"{assignment.id}: {path}")
    if result["message"]:
        say(f"status: {result['status']}: {result['message']}")
    if result["status"] == "unreadable":
        return 1
    for question, q in result["questions"].items():
        mine = [c for c in checks if c.question == question]
        say(f"\n[{q['points']:g}/{q['max_points']:g}] " + as_text(question, mine))
    for cell in result["cells"]:
        if cell["status"] != "ok":
            say(f"\ncell {cell['label']}: {cell['status']}\n{cell['message']}")
    if result.get("isolation_note"):
        say(f"\nwarning: {result['isolation_note']}")
    written = sum(w["max_points"] for w in result["written"].values())
    say(f"\nautomatic score: {result['auto_total']:g} / {result['auto_max']:g}"
        + (f" (+ {written:g} points of written answers, graded by hand)" if written else ""))
    return 0


def cmd_import_scores(args) -> int:
    from autograder.checks import get_assignment
    from autograder.grading.gradebook import Gradebook

    try:
        assignment = get_assignment(args.assignment)
    except UnknownAssignment as error:
        return _fail(str(error))
    path = Path(args.csv)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    from autograder.grading.grade import load_template

    written = load_template(assignment).written
    scores = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"student", "question", "points"} - set(reader.fieldnames or [])
        if missing:
            return _fail(f"{path} needs the columns student, question, points (missing: {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, start=2):
            try:
                points = float(row["points"])
            except (TypeError, ValueError):
                return _fail(f"{path}:{line}: points must be a number, got {row['points']!r}; nothing was imported")
            if row["question"] not in written:
                return _fail(f"{path}:{line}: {row['question']!r} is not a hand-graded question of {assignment.id} "
                             f"(those are: {', '.join(written)}); nothing was imported")
            if not 0 <= points <= written[row["question"]]:
                return _fail(f"{path}:{line}: {points:g} is outside 0..{written[row['question']]:g} for "
                             f"{row['question']}; nothing was imported")
            scores.append((row["student"], row["question"], points, row.get("comment") or ""))
    gradebook = Gradebook(Path(args.gradebook))
    gradebook.set_manual(assignment.id, scores)
    gradebook.close()
    print(f"imported {len(scores)} score(s); run `dlbasics grade` again to rewrite grades.csv (nothing is regraded)")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlbasics", description=__doc__)
    sub = main.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="generate assignments/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report stale or missing generated files")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run-solutions", help="execute every solution notebook headless")
    p.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    p.set_defaults(func=cmd_run_solutions)

    p = sub.add_parser("grade", help="grade a class of notebooks")
    p.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    p.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks / of student folders")
    p.add_argument("--out", required=True, help="output folder (grades.csv, per-student results)")
    p.add_argument("--jobs", type=int, default=None, help="parallel sandboxed workers (default: the cores)")
    p.add_argument("--gradebook", help="SQLite gradebook (default: OUT/gradebook.sqlite)")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages in feedback")
    p.add_argument("--cell-timeout", type=float, help="seconds per notebook cell (default 5)")
    p.add_argument("--call-timeout", type=float, help="seconds per function call (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
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
    p.add_argument("--out", required=True, help="the output folder of `dlbasics grade`")
    p.add_argument("--gradebook", help="SQLite gradebook (default: OUT/gradebook.sqlite)")
    p.add_argument("--release", action="store_true", help="show hidden checks' messages in feedback")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("import-scores", help="merge hand-graded scores (CSV) into the gradebook")
    p.add_argument("assignment")
    p.add_argument("csv", help="CSV with columns student, question, points[, comment]")
    p.add_argument("--gradebook", required=True)
    p.set_defaults(func=cmd_import_scores)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        # Everything graded so far is in the gradebook (one transaction per submission).
        print("\ndlbasics: interrupted; what was graded is kept, run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
