"""Hidden inputs at which every named mistake is visible.

A hidden check draws its inputs with :func:`draw` from the random generators of the student's
:class:`~autograder.context.HiddenKey` (the run's secret seed, the assignment, the student id:
every student has inputs of their own, none of them in the kit's source). Some random draws
would hide a mistake: a sequential update is invisible when the step barely moves m, a
swapped (x, y) when the two happen to be equal. :func:`draw` therefore keeps drawing (from
the same seed, under numbered names) until every mistake the check can name lies outside the
check's tolerance; a wrong answer can then never pass by luck, and the feedback can always
name what it sees. ``tests/test_mistake_visibility.py`` checks the result for many seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.context import NoSeed
from autograder.selfcheck.api import matches

from .reference import f32s


@dataclass
class Comparison:
    """One value a check compares, its tolerance, and what each named mistake would give instead."""

    expected: float | list[float]
    variants: dict = field(default_factory=dict)
    rel: float = 0.0
    abs_: float = 0.0

    def visible(self) -> bool:
        return not any(matches(value, self.expected, self.rel, self.abs_) for value in self.variants.values())


# Enough attempts that a generator with a 50 % rejection rate still always finds a case
# (2**-60); generators here reject far fewer draws, so the loop ends in one or two draws.
ATTEMPTS = 60


def hidden_key(student):
    """The hidden-input key the grader gave this ``student`` (see ``autograder.context``), or NoSeed."""
    key = getattr(student, "hidden_key", None)
    if key is None:
        raise NoSeed()
    return key


def draw(student, name: str, make):
    """``make(r)`` -> ``(case, comparisons)`` for the first of ``student``'s random generators for
    ``name`` at which every comparison is visible."""
    key = hidden_key(student)
    for attempt in range(ATTEMPTS):
        case, comparisons = make(key.random(name if attempt == 0 else f"{name} #{attempt + 1}"))
        if all(c.visible() for c in comparisons):
            return case
    raise RuntimeError(f"no input for {name!r} makes every named mistake visible; widen its generator")


def random_points(r, n: int | None = None, noise: float = 1.0, x_range=(-3.0, 3.0)):
    """Reproducible random (x, y) data around a random line, rounded to float32 (as the student's tensors)."""
    n = n or r.randint(5, 12)
    xs = [round(r.uniform(*x_range), 3) for _ in range(n)]
    m, b = r.uniform(-4.0, 4.0), r.uniform(-5.0, 5.0)
    ys = [round(m * x + b + r.gauss(0.0, noise), 3) for x in xs]
    return f32s(xs), f32s(ys)


# The labels of a corpus mistake (solutions/<id>/corpus.py) that names no slip: a wrong answer
# no known variant explains, and an answer hard-coded for the public inputs.
UNNAMED = ""
HARD_CODED = None
