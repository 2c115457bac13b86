"""The check API: how a check is declared, how it reads a student's result, how it scores.

A check is a plain function ``test_<what>(student)`` with a ``@points(n, question)`` marker.
It calls the student's functions through ``student.call(name, *args)``, which returns the
JSON description built by :mod:`.protocol`, compares plain floats against expected values,
and raises :class:`CheckFailed` with a message (and, for a known slip, the mistake's name).
This module holds no expected value and no reference code, so it ships to students as is.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# How a check ended: the status words shown to students and written into grades.
PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"
TIMEOUT = "timeout"
CRASHED = "crashed"


class StudentError(Exception):
    """The student's function gave no value.

    ``kind`` is one of ``missing`` (not defined), ``not_implemented`` (still the stub),
    ``error`` (it raised), ``timeout`` or ``crashed`` (the sandbox ended).
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class CheckFailed(AssertionError):
    """A check's verdict: the value came back but is wrong. ``mistake`` names a known slip."""

    def __init__(self, message: str, mistake: str | None = None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake


def points(n: float, question: str, *, hidden: bool = False):
    """Mark a check function: worth ``n`` points of ``question``.

    Hidden checks use grader-chosen random inputs; their inputs and messages are shown to
    students only after grades are released.
    """

    def mark(fn):
        fn.points = n
        fn.question = question
        fn.hidden = hidden
        return fn

    return mark


def collect(namespace: dict) -> list:
    """The check functions of a module, in the order they are defined."""
    return [obj for name, obj in namespace.items() if name.startswith("test_") and hasattr(obj, "points")]


@dataclass
class CheckResult:
    name: str
    question: str
    points: float
    max_points: float
    status: str
    message: str
    hidden: bool
    mistake: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "name": self.name, "question": self.question, "points": self.points,
            "max_points": self.max_points, "status": self.status, "message": self.message,
            "hidden": self.hidden, "mistake": self.mistake, "seconds": round(self.seconds, 4),
            "extra": self.extra,
        }


_STUDENT_STATUS = {
    "missing": NOT_ATTEMPTED, "not_implemented": NOT_ATTEMPTED,
    "timeout": TIMEOUT, "crashed": CRASHED, "error": FAILED,
}


def run_check(fn, student) -> CheckResult:
    """Run one check. Anything but a clean return scores zero (fail closed)."""
    started = time.perf_counter()
    status, message, mistake, extra = PASSED, "ok", None, {}
    try:
        fn(student, extra) if getattr(fn, "wants_extra", False) else fn(student)
    except CheckFailed as failure:
        status, message, mistake = FAILED, failure.message, failure.mistake
    except StudentError as error:
        status, message = _STUDENT_STATUS.get(error.kind, FAILED), error.message
    except Exception as error:  # a check must never award points because it broke
        status, message = ERROR, f"the check itself failed ({type(error).__name__}: {error}); no points awarded"
    awarded = fn.points if status == PASSED else 0
    return CheckResult(
        name=fn.__name__, question=fn.question, points=awarded, max_points=fn.points,
        status=status, message=message, hidden=fn.hidden, mistake=mistake,
        seconds=time.perf_counter() - started, extra=extra,
    )


# --- reading a student's value ------------------------------------------------------

def describe(value: dict) -> str:
    """A short human description of a returned value, for feedback."""
    kind = value.get("t")
    if kind in ("float", "int", "npscalar"):
        return f"{value['type']} {value['v']!r}"
    if kind == "tensor":
        return f"tensor of shape {tuple(value['shape'])}, dtype {value['dtype']}"
    if kind in ("list", "tuple"):
        return f"{kind} of {len(value['items'])} items"
    if kind == "none":
        return "None (did you forget `return`?)"
    return f"{value.get('type', kind)} {value.get('repr', '')}".strip()


def as_float(value: dict, what: str = "the result") -> float:
    """A finite float from a Python number, a numpy scalar, or a one-element tensor.

    A 0-d tensor where a float is asked for is accepted: the number is right even if the
    type is not what the contract says.
    """
    kind = value.get("t")
    if kind in ("float", "int", "npscalar"):
        number = value["v"]
    elif kind in ("tensor", "ndarray") and _size(value["shape"]) == 1:
        number = value["data"]
        while isinstance(number, list):
            number = number[0]
    else:
        raise CheckFailed(f"{what} should be a number, got {describe(value)}", "wrong type")
    if isinstance(number, str) or not math.isfinite(number):
        raise CheckFailed(f"{what} is {number}, not a finite number", "not finite")
    return float(number)


def _size(shape) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def as_items(value: dict, count: int | None = None, what: str = "the result") -> list[dict]:
    """The items of a returned tuple or list (optionally of an exact length)."""
    if value.get("t") not in ("tuple", "list"):
        raise CheckFailed(f"{what} should be a tuple, got {describe(value)}", "wrong type")
    items = value["items"]
    if count is not None and len(items) != count:
        raise CheckFailed(f"{what} should have {count} items, got {len(items)}", "wrong length")
    return items


def as_floats(value: dict, what: str = "the result") -> list[float]:
    """A flat list of finite floats from a list/tuple of numbers or a 1-d/column tensor."""
    if value.get("t") in ("tensor", "ndarray"):
        data = value["data"]
        flat = _flatten(data) if isinstance(data, list) else [data]
        numbers = flat
    elif value.get("t") in ("list", "tuple"):
        numbers = [as_float(item, f"item {i} of {what}") for i, item in enumerate(value["items"])]
    else:
        raise CheckFailed(f"{what} should be a list of numbers, got {describe(value)}", "wrong type")
    for number in numbers:
        if isinstance(number, str) or not math.isfinite(number):
            raise CheckFailed(f"{what} contains {number}, not a finite number", "not finite")
    return [float(n) for n in numbers]


def _flatten(data) -> list:
    if isinstance(data, list):
        return [x for item in data for x in _flatten(item)]
    return [data]


def close(got: float, expected: float, rel: float, abs_: float = 0.0) -> bool:
    return math.isfinite(got) and abs(got - expected) <= max(rel * abs(expected), abs_)


def matches(got, value, rel: float, abs_: float = 0.0) -> bool:
    """``got`` equals ``value`` within tolerance: two numbers, or two sequences item by item."""
    if isinstance(value, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(value)
                and all(close(g, v, rel, abs_) for g, v in zip(got, value)))
    return isinstance(got, (int, float)) and close(got, value, rel, abs_)


def match_variant(got, variants: dict, rel: float, abs_: float = 0.0) -> str | None:
    """The name of the first known mistake that would have produced ``got``."""
    return next((name for name, value in variants.items() if matches(got, value, rel, abs_)), None)


def _wrong(what: str, detail: str, mistake: str | None):
    if mistake:
        raise CheckFailed(f"{what}: {detail}. This looks like: {mistake}.", mistake)
    raise CheckFailed(f"{what}: {detail}.")


def expect_close(got: float, expected: float, *, rel: float, abs_: float = 0.0,
                 what: str = "the result", variants: dict | None = None, show_expected: bool = True):
    """Pass if ``got`` is within tolerance of ``expected``; otherwise name a matching mistake.

    ``variants`` maps a mistake's name to the value that mistake would produce on the same
    input; the first one that matches is named in the feedback.
    """
    if close(got, expected, rel, abs_):
        return
    detail = f"expected {expected:.6g}, got {got:.6g}" if show_expected else f"got {got:.6g}, which is not right"
    _wrong(what, detail, match_variant(got, variants or {}, rel, abs_))


def expect_sequence(got: list[float], expected: list[float], *, rel: float, abs_: float = 0.0,
                    what: str = "the result", variants: dict | None = None, show_expected: bool = True):
    """Compare two sequences elementwise; name a mistake variant if one matches instead."""
    if matches(got, expected, rel, abs_):
        return
    if len(got) != len(expected):
        detail = f"expected {len(expected)} values, got {len(got)}"
    else:
        first = next(i for i, (g, e) in enumerate(zip(got, expected)) if not close(g, e, rel, abs_))
        detail = (f"item {first} is {got[first]:.6g}, expected {expected[first]:.6g}" if show_expected
                  else f"item {first} is {got[first]:.6g}, which is not right")
    _wrong(what, detail, match_variant(got, variants or {}, rel, abs_))


def require(condition: bool, message: str, mistake: str | None = None):
    if not condition:
        raise CheckFailed(message, mistake)


class Student:
    """What a check talks to. Subclasses say how one call reaches the student's code."""

    #: shown in feedback when a hidden check fails: hidden inputs are never echoed
    def request(self, name: str, args: list, kwargs: dict, spy, render: bool) -> dict:
        raise NotImplementedError

    def call_full(self, name: str, *args, spy=(), render: bool = False, **kwargs) -> dict:
        """The whole reply: ``value``, the ``args`` after the call, and ``spied`` counts."""
        reply = self.request(name, list(args), kwargs, tuple(spy), render)
        if not reply.get("ok"):
            raise StudentError(reply.get("kind", "error"), reply.get("message", "no value came back"))
        return reply

    def call(self, name: str, *args, **kwargs) -> dict:
        return self.call_full(name, *args, **kwargs)["value"]
