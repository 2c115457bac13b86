"""One grading run of a class: settings, intake, grading, the gradebook, every output.

``dlbasics grade`` is wiring around :func:`grade_class`. The run's settings (the secret
seed of the hidden inputs, the limits: a :class:`~autograder.context.GradingContext` made
once by the caller) are recorded with every grade; a gradebook whose grades were made
with other settings is not silently mixed with new ones: the run is refused unless the
instructor asks for a regrade.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.context import GradingContext
from autograder.course import Course, CourseError
from autograder.grading.grade import Change
from autograder.grading.result import Result


class SettingsChanged(Exception):
    """The gradebook's grades were made with another seed or other limits."""


def check_settings(gradebook, batch, seed_source: str, regrade: bool) -> list[str]:
    """Refuse to mix grades of two seeds or two sets of limits; with ``regrade``, say what will change.

    ``batch`` holds the fingerprint and limits this run records with every grade.
    """
    assignment_id, fingerprint, limits_key = batch.assignment.id, batch.seed_fingerprint, batch.limits_key
    other = {(fp, limits) for fp, limits in gradebook.settings(assignment_id)
             if (fp, limits) != (fingerprint, limits_key) and (fp or limits)}
    if not other:
        return []
    differences = []
    for fp, limits in sorted(other):
        if fp != fingerprint:
            differences.append(f"another seed (fingerprint {fp or 'unrecorded'}, now {fingerprint}, "
                               f"from {seed_source})")
        if limits and limits != limits_key:
            differences.append(f"other limits ({limits}, now {limits_key})")
    if not regrade:
        raise SettingsChanged(
            f"the grades of {assignment_id} in {gradebook.path} were made with " + " and ".join(differences)
            + ". Grading on would mix two sets of hidden inputs or limits. Grade with the same course (--course) "
            "or DLBASICS_SEED and limits as before, or pass --regrade to regrade these submissions with the "
            "current settings (every change is printed)")
    return differences


def limits_of(course: Course | None, overrides: dict):
    """The limits of a run: the kit's defaults, then the course's, then the command line's."""
    from autograder.sandbox.pool import Limits

    values = asdict(Limits())
    for source, extra in (("course.toml [limits]", course.limits if course else {}), ("options", overrides)):
        for key, value in extra.items():
            if value is None:
                continue
            if key not in values:
                raise CourseError(f"{source}: unknown limit {key!r}; the limits are: {', '.join(values)}")
            values[key] = type(values[key])(value)
    return Limits(**values)


def print_changes(changes: list[Change], stream=None) -> None:
    from autograder.text import terminal_text

    if changes:
        print(f"{len(changes)} question grade(s) changed:", file=stream)
        for change in changes:
            print(terminal_text(f"  {change.student}: {change.question} {change.old:g} -> {change.new:g}"),
                  file=stream)


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be reached or has lost every worker: nothing is recorded in its name."""


class NothingToGrade(Exception):
    """No notebook was found in what the instructor named."""


@dataclass
class RunOutcome:
    """What one ``dlbasics grade`` run did; the caller decides what to print."""

    questions: list[str] = field(default_factory=list)  # the automatically graded questions
    graded: int = 0  # submissions graded in this run
    reused: int = 0  # unchanged submissions whose stored grade was kept
    seconds: float = 0.0
    changes: list[Change] = field(default_factory=list)  # question grades that a regrade changed


def grade_class(assignment, inputs: list[Path], gradebook, context: GradingContext, *, jobs: int | None = None,
                regrade: bool = False, cluster: str | None = None, security=None, progress=None, on_settings=None,
                on_skipped=None, times: Path | None = None, replace: bool = False, on_warnings=None) -> RunOutcome:
    """Grade a class into ``gradebook``: intake, settings, grading (here or on a Dask cluster).

    The caller writes the outputs from the gradebook afterwards
    (:func:`autograder.report.write_outputs`): grading never imports the writers.

    ``progress(total)`` returns a context manager with ``update(n)`` (a tqdm bar) or is None;
    ``on_skipped(skipped)`` hears at once which files intake passed over and why;
    ``on_settings(differences)`` hears, before grading, which settings a regrade changes;
    ``on_warnings(lines)`` hears what intake could not settle (times unknown, files on no roster
    line, older submissions kept out); ``times``: the instructor's CSV of submission times;
    ``replace``: grade an older submission over a newer graded one.
    Raises :class:`NothingToGrade`, :class:`SettingsChanged`, ``SandboxUnavailable``,
    ``ClusterUnavailable``; anything a student did is a row, never an exception.
    """
    import contextlib

    from autograder.grading.batch import Batch, LocalExecutor
    from autograder.grading.grade import UNREADABLE, empty_result
    from autograder.grading.intake import collect, keep_newer, read_times

    course = context.course
    batch = Batch(assignment, context, jobs=jobs)
    # The sandboxed workers start (seconds of imports each) while intake and the gradebook
    # lookups run, when something will surely be graded: a first run, a regrade, or (after
    # intake) a student the gradebook has no grade for. Otherwise a worker starts on the first
    # submission that needs one, and a rerun that grades nothing starts none.
    executor = None if cluster else LocalExecutor(batch)
    try:
        stored = {r.student: r for r in gradebook.results(assignment.id)}
        if executor and (regrade or not stored):
            executor.warm()
        intake = collect(inputs, assignment, course, read_times(times) if times else None)
        submissions, skipped, problems = intake.submissions, intake.skipped, intake.problems
        if on_skipped:
            on_skipped(skipped)
        if not submissions and not problems:
            raise NothingToGrade("no notebooks found in " + ", ".join(map(str, inputs)))
        submissions, kept = keep_newer(submissions, stored, replace)
        if on_warnings:
            on_warnings(intake.warnings + kept)
        differences = check_settings(gradebook, batch, context.seed_source, regrade)
        if executor and any(s.student not in stored for s in submissions):
            executor.warm()
        outcome = RunOutcome(list(batch.template.points))
        batch.regrade = regrade
        if on_settings:
            on_settings(differences)
        started = time.monotonic()

        def count(result: Result, reused: bool) -> None:
            outcome.reused += reused
            outcome.graded += not reused

        for student, path, reason in problems:  # a link, an ambiguous folder: a row that says so
            batch.commit(empty_result(assignment, batch.template, student, path, UNREADABLE, reason), False,
                         gradebook)
        with progress(len(submissions)) if progress else contextlib.nullcontext() as bar:
            if cluster:
                from autograder.grading.cluster import run_on_cluster

                run_on_cluster(batch, submissions, cluster, gradebook=gradebook, on_result=count, progress=bar,
                               security=security)
            else:
                batch.run(submissions, gradebook=gradebook, on_result=count, progress=bar, executor=executor)
    except BaseException as error:
        if executor:  # workers warmed before a refusal or an interruption: stopped (twice is harmless)
            executor.__exit__(type(error), error, error.__traceback__)
        raise
    outcome.seconds = time.monotonic() - started
    for submission in submissions:  # the newest record, also for a grade reused for unchanged bytes
        gradebook.set_record(assignment.id, submission.student, submission.submitted_at, submission.time_note,
                             submission.late_marker)
    outcome.changes = batch.changes
    return outcome
