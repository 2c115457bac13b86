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
                on_skipped=None) -> RunOutcome:
    """Grade a class into ``gradebook``: intake, settings, grading (here or on a Dask cluster).

    The caller writes the outputs from the gradebook afterwards
    (:func:`autograder.report.write_outputs`): grading never imports the writers.

    ``progress(total)`` returns a context manager with ``update(n)`` (a tqdm bar) or is None;
    ``on_skipped(skipped)`` hears at once which files intake passed over and why;
    ``on_settings(differences)`` hears, before grading, which settings a regrade changes.
    Raises :class:`NothingToGrade`, :class:`SettingsChanged`, ``SandboxUnavailable``,
    ``ClusterUnavailable``; anything a student did is a row, never an exception.
    """
    import contextlib

    from autograder.grading.batch import Batch
    from autograder.grading.grade import UNREADABLE, empty_result
    from autograder.grading.intake import find_submissions

    course = context.course
    submissions, skipped, problems = find_submissions(inputs, assignment, course.roster if course else None)
    if on_skipped:
        on_skipped(skipped)
    if not submissions and not problems:
        raise NothingToGrade("no notebooks found in " + ", ".join(map(str, inputs)))
    batch = Batch(assignment, context, jobs=jobs)
    differences = check_settings(gradebook, batch, context.seed_source, regrade)
    outcome = RunOutcome(list(batch.template.points))
    batch.regrade = regrade
    if on_settings:
        on_settings(differences)
    started = time.monotonic()

    def count(result: Result, reused: bool) -> None:
        outcome.reused += reused
        outcome.graded += not reused

    for student, path, reason in problems:  # a link, an ambiguous folder: a row that says so
        batch.commit(empty_result(assignment, batch.template, student, path, UNREADABLE, reason), False, gradebook)
    with progress(len(submissions)) if progress else contextlib.nullcontext() as bar:
        if cluster:
            from autograder.grading.cluster import run_on_cluster

            run_on_cluster(batch, submissions, cluster, gradebook=gradebook, on_result=count, progress=bar,
                           security=security)
        else:
            batch.run(submissions, gradebook=gradebook, on_result=count, progress=bar)
    outcome.seconds = time.monotonic() - started
    outcome.changes = batch.changes
    return outcome
