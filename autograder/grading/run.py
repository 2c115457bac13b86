"""One grading run of a class: settings, intake, grading, the gradebook, every output.

``dlbasics grade`` is wiring around :func:`grade_class`. The run's settings (the secret
seed of the hidden inputs, the limits) are resolved once here and recorded with every
grade; a gradebook whose grades were made with other settings is not silently mixed with
new ones: the run is refused unless the instructor asks for a regrade.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import asdict
from pathlib import Path

from autograder.course import Course, CourseError
from autograder.grading.grade import Change

# The seed of a run that has no course: generated once, kept next to the gradebook.
SEED_FILE = "secret-seed.txt"


class SettingsChanged(Exception):
    """The gradebook's grades were made with another seed or other limits."""


def resolve_seed(course: Course | None, out: Path) -> tuple[str, str]:
    """The hidden inputs' seed and where it came from: the course, DLBASICS_SEED, or OUT's own.

    Never a constant of the kit's source: without a course or DLBASICS_SEED a random seed is
    generated on the first run and kept in OUT/secret-seed.txt (readable by its owner only).
    """
    env = os.environ.get("DLBASICS_SEED")
    if course is not None:
        if env and env != course.seed:
            raise CourseError("DLBASICS_SEED is set and differs from the course's seed in "
                              f"{course.root / 'secret.toml'}: unset DLBASICS_SEED to grade with the course's seed")
        return course.seed, str(course.root / "secret.toml")
    if env:
        return env, "DLBASICS_SEED"
    path = out / SEED_FILE
    try:
        seed = path.read_text(encoding="utf-8").strip()
        if seed:
            return seed, str(path)
    except FileNotFoundError:
        pass
    out.mkdir(parents=True, exist_ok=True)
    seed = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(seed + "\n")
    return seed, f"{path} (new)"


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


def print_changes(changes: list[Change], stream=sys.stdout) -> None:
    from autograder.text import terminal_text

    if changes:
        print(f"{len(changes)} question grade(s) changed:", file=stream)
        for change in changes:
            print(terminal_text(f"  {change.student}: {change.question} {change.old:g} -> {change.new:g}"),
                  file=stream)
