"""What a grading run is made with: one :class:`GradingContext`, created where the run starts.

The seed of the hidden inputs, the limits, the isolation mode and the course travel together
in this object, from the entry point (``dlbasics grade``/``check``/``report``, the pytest
plugin, the Gradescope runner, a Dask task, nbgrader's hidden blocks) down to the batch, the
checks and the writers. Nothing reads them from the process environment further down, and
nothing writes them there: two runs with two seeds can share one process (a Dask worker, a
test) without seeing each other's.

**No seed is ever a default.** The kit's source holds none; an entry point that has no seed
(no course, no ``DLBASICS_SEED``, no output folder of its own) refuses to run hidden checks
with :data:`SEED_HELP`, which says how to set one.

**Hidden inputs are per student.** A hidden check draws its inputs from
``HiddenKey(seed, assignment, student).random(name)``: two students never see the same hidden
inputs, so a table of answers one of them built from leaked inputs is worth nothing to
another, while the same student's grade is reproducible from the seed and the gradebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.sandbox.pool import Limits

SEED_VARIABLE = "DLBASICS_SEED"


def seed_fingerprint(seed: str) -> str:
    """Names a seed in the gradebook and in messages without revealing it."""
    return hashlib.sha256(f"dlbasics-seed:{seed}".encode()).hexdigest()[:16]

# The seed of a run that has no course: generated once, kept next to the gradebook.
SEED_FILE = "secret-seed.txt"
# A seed shorter than this is guessable by trying; `dlbasics init` makes 64 hex characters.
MIN_SEED_CHARS = 16

SEED_HELP = (
    "hidden checks need the course's secret seed: pass --course COURSE (its secret.toml, made by "
    "`dlbasics init COURSE`), or set DLBASICS_SEED to a long random string, e.g. "
    "DLBASICS_SEED=$(python3 -c 'import secrets; print(secrets.token_hex(32))'), kept as secret as the course's"
)


class NoSeed(RuntimeError):
    """Hidden checks were asked for without a seed; the message says how to give one."""

    def __init__(self, message: str = SEED_HELP):
        super().__init__(message)


@dataclass(frozen=True)
class HiddenKey:
    """Where one student's hidden inputs of one assignment come from."""

    seed: str
    assignment: str
    student: str

    def random(self, name: str) -> random.Random:
        """A random generator for one hidden input, reproducible from the seed, assignment, student and name."""
        # JSON keeps the parts apart (no "a:b" + "c" == "a" + "b:c"); surrogatepass, as an
        # undecodable file name's id may hold lone surrogates.
        material = json.dumps([self.seed, self.assignment, self.student, name], ensure_ascii=False)
        digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class GradingContext:
    """The settings one grading run is made with (see the module's docstring)."""

    seed: str
    seed_source: str = "given"  # where the seed came from, for messages: never the seed itself
    limits: Limits = field(default_factory=Limits)
    course: object = None  # autograder.course.Course (the context reads its seed and root only)
    isolation: str = ""  # "bwrap" or "rlimits": the sandbox this run grades in (decided at its start)

    def __post_init__(self):
        if not isinstance(self.seed, str) or len(self.seed) < MIN_SEED_CHARS:
            raise NoSeed(f"the seed from {self.seed_source} is shorter than {MIN_SEED_CHARS} characters; "
                         + SEED_HELP)

    def hidden(self, assignment: str, student: str) -> HiddenKey:
        return HiddenKey(self.seed, assignment, student)

    @property
    def seed_fingerprint(self) -> str:
        return seed_fingerprint(self.seed)

    @property
    def limits_key(self) -> str:
        return json.dumps(asdict(self.limits), sort_keys=True)


def environment_seed(environ=None) -> str | None:
    """``DLBASICS_SEED`` as an entry point reads it, once (None if unset or empty)."""
    value = (os.environ if environ is None else environ).get(SEED_VARIABLE, "")
    return value or None


def resolve_seed(course, out: Path | None, env_seed: str | None, create: bool = True) -> tuple[str, str]:
    """The seed and where it came from: the course, ``env_seed`` (DLBASICS_SEED), or OUT's own file.

    Never a constant: without a course or DLBASICS_SEED a random seed is generated on the first
    run and kept in ``OUT/secret-seed.txt`` (readable by its owner only; ``create=False`` only
    reads it). Raises :class:`NoSeed` when there is none.
    """
    if course is not None:
        if env_seed and env_seed != course.seed:
            raise NoSeed("DLBASICS_SEED is set and differs from the course's seed in "
                         f"{course.root / 'secret.toml'}: unset DLBASICS_SEED to grade with the course's seed")
        return course.seed, str(course.root / "secret.toml")
    if env_seed:
        return env_seed, SEED_VARIABLE
    if out is None:
        raise NoSeed()
    path = out / SEED_FILE
    try:
        seed = path.read_text(encoding="utf-8").strip()
        if seed:
            return seed, str(path)
    except FileNotFoundError:
        pass
    if not create:
        raise NoSeed(f"{path} does not exist (no grade was made in {out}); " + SEED_HELP)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # grades are owner-only, like every output folder
    seed = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(seed + "\n")
    return seed, f"{path} (new)"


def make_context(course, out: Path | None, *, env_seed: str | None, limits: Limits | None = None,
                 create: bool = True) -> GradingContext:
    """The context of a run: its seed (see :func:`resolve_seed`), limits and the isolation it grades in."""
    from autograder.sandbox.pool import isolation_mode

    seed, source = resolve_seed(course, out, env_seed, create)
    return GradingContext(seed, source, limits or Limits(), course, isolation_mode())
