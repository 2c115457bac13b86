"""``dlbasics grade``: grade a class of notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.cli.common import RELEASE_HELP, anonymity_options, course_of, fail, out_of, where_options
from autograder.selfcheck.status import Status
from autograder.text import terminal_text

NAME = "grade"
HELP = "grade a class of notebooks"


def arguments(parser) -> None:
    parser.add_argument("assignment", help="assignment id, e.g. 01-linear-regression (or 01)")
    parser.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks / of student folders")
    where_options(parser)
    anonymity_options(parser)
    parser.add_argument("--regrade", action="store_true",
                        help="grade again even unchanged submissions, also with another seed or limits; prints changes")
    parser.add_argument("--jobs", type=int, default=None, help="parallel sandboxed workers (default: the cores)")
    parser.add_argument("--release", action="store_true", help=RELEASE_HELP)
    parser.add_argument("--cell-timeout", type=float, help="seconds per notebook cell (default 5)")
    parser.add_argument("--call-timeout", type=float, help="seconds per function call (default 5)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="grade on the Dask cluster whose scheduler is at ADDRESS (tls://host:8786, started with "
                             "the certificates of `dlbasics cluster-certs`) instead of local workers; outputs and "
                             "gradebook stay here")
    parser.add_argument("--insecure-cluster", action="store_true",
                        help="allow a tcp:// cluster: no encryption, and any machine that reaches the scheduler can "
                             "join it and receive the seed and the notebooks")
    parser.add_argument("--times", metavar="FILE", help="CSV student,time: each submission's time as the LMS "
                        "recorded it (its export or API); the lateness is computed from it")
    parser.add_argument("--replace", action="store_true",
                        help="grade a submission even if the gradebook holds a newer one of that student")


def run(args) -> int:
    from tqdm import tqdm

    from autograder.checks import get_assignment
    from autograder.context import environment_seed, make_context
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.grading.run import ClusterUnavailable, NothingToGrade, grade_class, limits_of, print_changes
    from autograder.sandbox.pool import SandboxUnavailable

    clean = terminal_text
    assignment = get_assignment(args.assignment)
    course = course_of(args)
    out = out_of(args, course, assignment)

    def progress(total: int):
        return tqdm(total=total, desc=f"grading {assignment.id}", unit="nb", disable=args.quiet, file=sys.stderr)

    def on_skipped(skipped: list) -> None:
        for item in skipped:
            print(clean(f"skipped {item.path}: {item.reason}"), file=sys.stderr)

    def on_settings(differences: list[str]) -> None:
        for difference in differences:
            print(clean(f"regrading: the earlier grades were made with {difference}"), file=sys.stderr)

    def on_warnings(lines: list[str]) -> None:
        for line in lines:
            print(clean(f"warning: {line}"), file=sys.stderr)

    security = None
    if args.cluster:
        from autograder.grading.certs import InsecureCluster, cluster_security

        try:
            security = cluster_security(args.cluster, args.insecure_cluster, course.root if course else out)
        except InsecureCluster as error:
            return fail(clean(str(error)))
        if security is None:
            print("warning: --insecure-cluster: the seed and the notebooks cross the network unencrypted, and any "
                  "machine that reaches the scheduler can join it as a worker", file=sys.stderr)
    limits = limits_of(course, {"cell_seconds": args.cell_timeout, "call_seconds": args.call_timeout})
    context = make_context(course, out, env_seed=environment_seed(), limits=limits)
    gradebook = Gradebook(Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite")
    try:
        try:
            run = grade_class(assignment, [Path(p) for p in args.submissions], gradebook, context, jobs=args.jobs,
                              regrade=args.regrade, cluster=args.cluster, security=security, progress=progress,
                              on_settings=on_settings, on_skipped=on_skipped,
                              times=Path(args.times) if args.times else None, replace=args.replace,
                              on_warnings=on_warnings)
        except (NothingToGrade, SandboxUnavailable, ClusterUnavailable) as error:
            return fail(clean(str(error)))
        # Every output is written from the whole gradebook: a run that graded one late notebook
        # leaves the class's files complete, and a failed write is redone by the next run. (Imported
        # here, not above: the workers start 50 ms sooner, and import while this does.)
        from autograder.report import write_outputs

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
