"""The check API: how a check is declared, how it reads a student's result, how it scores.

A check is a plain function ``test_<what>(student)`` with a ``@points(n, question)`` marker.
It calls the student's functions through ``student.call(name, *args)``, which returns the
JSON description built by :mod:`.protocol`, compares plain floats against expected values,
and raises :class:`CheckFailed` with a message (and, for a known slip, the mistake's name).
This module holds no expected value and no reference code, so it ships to students as is.

The return-type contract of every function of the course is enforced here, in one place, by
the readers below; the public checks, the hidden checks and nbgrader's hidden tests all use
them, so a value is accepted or refused everywhere alike, with the same message:

* a **number** (:func:`as_float`): a Python ``float`` or ``int``, a NumPy scalar, or a tensor
  or array holding exactly one value (``float(value)`` gives the number), but not a tensor
  that still requires grad (it drags its autograd graph along: ``.item()`` or ``.detach()``);
* **n numbers** (:func:`as_numbers`): a tuple or a list of n numbers, or a 1-d tensor or array
  of n values (what ``torch.stack`` or ``np.polyfit`` return);
* a **sequence of numbers** (:func:`as_floats`): a list or tuple of numbers, or a 1-d tensor
  or array;
* **n results** (:func:`as_items`): a tuple or a list of n items.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

from .status import Status

# How a check ended (see Status): the names the checks and the self-check use.
PASSED = Status.PASSED
FAILED = Status.FAILED
NOT_ATTEMPTED = Status.NOT_ATTEMPTED
ERROR = Status.ERROR
TIMEOUT = Status.TIMEOUT
CRASHED = Status.CRASHED


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
    """How one check ended: its points, its status and the message the student reads."""

    name: str
    question: str
    points: float
    max_points: float
    status: Status
    message: str
    hidden: bool
    mistake: str | None = None  # the known slip the value looks like, if any
    seconds: float = 0.0


_STUDENT_STATUS = {
    "missing": NOT_ATTEMPTED, "not_implemented": NOT_ATTEMPTED,
    "timeout": TIMEOUT, "crashed": CRASHED, "error": FAILED,
}


def run_check(fn, student) -> CheckResult:
    """Run one check. Anything but a clean return scores zero (fail closed)."""
    started = time.perf_counter()
    status, message, mistake = PASSED, "ok", None
    _take_warnings(student)  # only this check's calls speak in its verdict
    _take_shown(student)
    try:
        fn(student)
    except CheckFailed as failure:
        status, message, mistake = FAILED, failure.message, failure.mistake
    except StudentError as error:
        status, message = _STUDENT_STATUS.get(error.kind, FAILED), error.message
    except Exception as error:  # a check must never award points because it broke
        status, message = ERROR, f"the check itself failed ({type(error).__name__}: {error}); no points awarded"
    if status == FAILED:
        # PyTorch's own warnings often explain a wrong value (e.g. MSELoss's "target size
        # different to the input size" when (N, 1) meets (N,)): show them with the failure,
        # a shape (broadcasting) warning first, since it explains every value after it.
        said = _take_warnings(student)
        shapes = [w for w in said if "broadcast" in w.lower()]
        others = [w for w in said if w not in shapes]
        if shapes:
            message = (f"{SHAPES_FIRST} PyTorch warned: " + " | ".join(shapes) + f". What the check saw: {message}")
        if others:
            message += " PyTorch warned: " + " | ".join(others)
    for name, call in _take_shown(student).items():
        end = "" if message.endswith((".", "?", "!")) else "."
        message += end + ("\n" if "\n" in message else " ") + NOTE + show_note(name, call)
    awarded = fn.points if status == PASSED else 0
    return CheckResult(
        name=fn.__name__, question=fn.question, points=awarded, max_points=fn.points,
        status=status, message=message, hidden=fn.hidden, mistake=mistake,
        seconds=round(time.perf_counter() - started, 4),
    )


SHAPES_FIRST = ("Shapes first: two tensors of different shapes met and PyTorch broadcast them, so every value "
                "after that is off (e.g. model(x) is (N, 1) and y is (N,) after a .squeeze() or .view(-1): give "
                "both the same shape).")


# A note in a verdict: something the student should change that costs no point. It travels in the
# check's message (the self-check, feedback.html and results.json all show the message).
NOTE = "Note (no point lost): "


def show_note(name: str, call: str) -> str:
    """Why a checked function should not show its figure itself (``call``: one of calling.SHOW_CALLS)."""
    if call == "display()":
        return (f"{name} calls display(): in your notebook its figure is then shown twice, once inside the "
                "function and once by the code that uses it. Return the figure instead of showing it; the story "
                "cell after the check shows it.")
    return (f"{name} calls {call}: in your notebook that shows the figure and closes it, so the code that uses "
            "the returned figure afterwards (the story cell gives it a title and shows it) gets a closed figure, "
            "or an empty one if it was taken with plt.gcf() after the show. Return the figure instead of "
            "showing it; the story cell after the check shows it.")


def notes(message: str) -> list[str]:
    """The notes a verdict's message carries (see NOTE), without their prefix."""
    return [part.strip() for part in str(message).split(NOTE)[1:]]


def _take_shown(student) -> dict[str, str]:
    """{function name: how it showed a figure} for the calls since the last take."""
    return getattr(student, "__dict__", {}).pop("_shown_seen", None) or {}


def _take_warnings(student) -> list[str]:
    seen = getattr(student, "__dict__", {}).pop("_warnings_seen", None) or []
    unique = list(dict.fromkeys(str(w)[:300] for w in seen))
    return unique[:3]


# --- what the checks compare: recorded for the test that every named mistake is visible ---

_RECORDERS: list[list[dict]] = []


@contextlib.contextmanager
def recording():
    """Collect every comparison and requirement the checks make while the block runs.

    ``tests/test_mistake_visibility.py`` uses it to prove that each mistake a check can name
    lies outside that check's tolerance at that check's own inputs.
    """
    log: list[dict] = []
    _RECORDERS.append(log)
    try:
        yield log
    finally:
        _RECORDERS.remove(log)


def _record(**entry) -> None:
    for log in _RECORDERS:
        log.append(entry)


# --- reading a student's value ------------------------------------------------------

def describe(value: dict) -> str:
    """A short human description of a returned value, for feedback."""
    kind = value.get("t")
    if kind in ("float", "int", "npscalar"):
        return f"{value['type']} {value['v']!r}"
    if kind in ("tensor", "ndarray"):
        grad = ", requires grad" if value.get("requires_grad") else ""
        name = "tensor" if kind == "tensor" else "array"
        return f"{name} of shape {tuple(value['shape'])}, dtype {value['dtype']}{grad}"
    if kind in ("list", "tuple"):
        return f"{kind} of {len(value['items'])} items"
    if kind == "none":
        return "None (did you forget `return`?)"
    return f"{value.get('type', kind)} {value.get('repr', '')}".strip()


# The contract's words, shown in every message about a type, so that students read one rule.
NUMBER = "a number (a Python float; a tensor or array holding one value is accepted too)"
GRAPH_MISTAKE = "a tensor that still requires grad was returned"


def _finite(number, what: str) -> float:
    if isinstance(number, str) or not math.isfinite(number):
        raise CheckFailed(f"{what} is {number}, not a finite number", "not finite")
    return float(number)


def _no_graph(value: dict, what: str) -> None:
    if value.get("t") == "tensor" and value.get("requires_grad"):
        raise CheckFailed(f"{what} is a tensor that still requires grad ({describe(value)}): return a plain "
                          "number with .item() (or .detach() the tensor); a value attached to the autograd "
                          "graph keeps the whole graph alive and cannot be plotted", GRAPH_MISTAKE)


# None where an item of a returned tuple should be: most often a parameter's .grad.
NONE_ITEM = ("None. A tensor's .grad is None until loss.backward() reaches it: the tensor must be created with "
             "requires_grad=True, be the one the loss was computed from (not replaced, e.g. by m = m - ..., or "
             "made from .item() or a copy), and backward() must run before .grad is read; if this item is not a "
             "gradient, check what the function puts in its returned tuple")


def as_float(value: dict, what: str = "the result", *, item: bool = False) -> float:
    """A finite float from a Python number, a NumPy scalar, or a one-value tensor or array.

    ``item``: the value is one item of a returned tuple, where None usually is a ``.grad``.
    """
    kind = value.get("t")
    if kind == "none" and item:
        raise CheckFailed(f"{what} should be {NUMBER}, got {NONE_ITEM}", "None in the returned tuple")
    if kind in ("float", "int", "npscalar"):
        number = value["v"]
    elif kind in ("tensor", "ndarray") and _size(value["shape"]) == 1:
        _no_graph(value, what)
        number = value["data"]
        while isinstance(number, list):
            number = number[0]
    else:
        raise CheckFailed(f"{what} should be {NUMBER}, got {describe(value)}", "wrong type")
    return _finite(number, what)


# --- a model trained in place (the training checks of 01, 03 and 04) ----------------------------

# The named mistake of a training function that leaves the model it was given untouched: its
# losses can all be right (a copy was trained), so only the model passed in shows it.
NOT_IN_PLACE = ("the model you were given is not trained: it still has its initial weight and bias "
                "(train `model` itself; do not create a new model or train a copy)")


def as_float32(x: float) -> float:
    """``x`` as a float32 parameter holds it (the start values we pass in are stored in float32)."""
    import struct

    return struct.unpack("f", struct.pack("f", x))[0]


def trained_params(reply: dict) -> list[float]:
    """The weight and bias of the model passed in (the call's first argument), as it came back after the call."""
    params = (reply["args"][0] or {}).get("params", {})
    # Parameters require grad by nature: that rule is for values the student returns.
    return [as_float({**params.get(name, {"t": "none"}), "requires_grad": False}, f"the model's {name}")
            for name in ("weight", "bias")]


def losses_variants(expected: dict) -> dict:
    """The named mistakes as the losses alone show them (``expected["variants"]``: name -> {"losses",
    "params"}); not NOT_IN_PLACE, whose losses are the right ones."""
    return {name: v["losses"] for name, v in expected["variants"].items() if name != NOT_IN_PLACE}


def trained_variants(expected: dict) -> dict:
    """The named mistakes as the losses and the model passed in show them together."""
    return {name: v["losses"] + v["params"] for name, v in expected["variants"].items()}


def _size(shape) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def as_items(value: dict, count: int | None = None, what: str = "the result") -> list[dict]:
    """The items of a returned tuple or list (optionally of an exact length)."""
    wanted = f"a tuple (or a list) of {count} items" if count is not None else "a tuple or a list"
    if value.get("t") not in ("tuple", "list"):
        raise CheckFailed(f"{what} should be {wanted}, got {describe(value)}", "wrong type")
    items = value["items"]
    if count is not None and len(items) != count:
        raise CheckFailed(f"{what} should be {wanted}, got {len(items)} items", "wrong length")
    return items


def as_numbers(value: dict, count: int, what: str = "the result", names: tuple[str, ...] = ()) -> list[float]:
    """``count`` finite floats from a tuple or list of numbers, or a 1-d tensor or array of ``count`` values.

    ``names`` say what each number is (``("the slope", "the intercept")``) in messages.
    """
    names = names or tuple(f"item {i} of {what}" for i in range(count))
    wanted = (f"{what} should be {count} numbers: a tuple (or a list) of {count} numbers, or a 1-d tensor or "
              f"array of {count} values")
    kind = value.get("t")
    if kind in ("tensor", "ndarray"):
        _no_graph(value, what)
        if len(value["shape"]) != 1 or value["shape"][0] != count:
            raise CheckFailed(f"{wanted}; got {describe(value)}", "wrong type")
        return [_finite(number, name) for number, name in zip(value["data"], names)]
    if kind in ("tuple", "list"):
        if len(value["items"]) != count:
            raise CheckFailed(f"{wanted}; got {len(value['items'])} items", "wrong length")
        return [as_float(item, name, item=True) for item, name in zip(value["items"], names)]
    raise CheckFailed(f"{wanted}; got {describe(value)}", "wrong type")


def as_floats(value: dict, what: str = "the result") -> list[float]:
    """A list of finite floats from a list or tuple of numbers, or from a 1-d tensor or array."""
    kind = value.get("t")
    if kind in ("tensor", "ndarray"):
        _no_graph(value, what)
        if len(value["shape"]) != 1:
            raise CheckFailed(f"{what} should be a list of numbers (a 1-d tensor is accepted too), got "
                              f"{describe(value)}", "wrong type")
        return [_finite(number, what) for number in value["data"]]
    if kind in ("list", "tuple"):
        return [as_float(item, f"item {i} of {what}") for i, item in enumerate(value["items"])]
    raise CheckFailed(f"{what} should be a list of numbers, got {describe(value)}", "wrong type")


def tensor_values(value: dict, what: str = "the result") -> list[float]:
    """Every value of a returned tensor or array, flattened (after the check has read its shape)."""
    if value.get("t") not in ("tensor", "ndarray"):
        raise CheckFailed(f"{what} should be a torch tensor, got {describe(value)}", "wrong type")
    data = value["data"]
    return [_finite(number, what) for number in (_flatten(data) if isinstance(data, list) else [data])]


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


def _wrong(what: str, detail: str, mistake: str | None, otherwise: str | None = None):
    if mistake:
        raise CheckFailed(f"{what}: {detail}. This looks like: {mistake}.", mistake)
    if otherwise:
        raise CheckFailed(f"{what}: {detail}. {otherwise[0].upper()}{otherwise[1:]}.", otherwise)
    raise CheckFailed(f"{what}: {detail}.")


def expect_close(got: float, expected: float, *, rel: float, abs_: float = 0.0,
                 what: str = "the result", variants: dict | None = None, show_expected: bool = True,
                 otherwise: str | None = None):
    """Pass if ``got`` is within tolerance of ``expected``; otherwise name a matching mistake.

    ``variants`` maps a mistake's name to the value that mistake would produce on the same
    input; the first one that matches is named in the feedback, else ``otherwise`` (a
    likely cause that no single value pins down) if given.
    """
    _record(kind="value", what=what, expected=expected, variants=dict(variants or {}), rel=rel, abs_=abs_)
    if close(got, expected, rel, abs_):
        return
    # Without show_expected (a hidden check) the student's own value is not shown either: computed
    # from a hidden input, it may be that input (a function that returns its argument).
    detail = f"expected {expected:.6g}, got {got:.6g}" if show_expected else "the value is not right"
    _wrong(what, detail, match_variant(got, variants or {}, rel, abs_), otherwise)


def expect_sequence(got: list[float], expected: list[float], *, rel: float, abs_: float = 0.0,
                    what: str = "the result", variants: dict | None = None, show_expected: bool = True,
                    otherwise: str | None = None, names: list[str] | None = None):
    """Compare two sequences elementwise; name a mistake variant if one matches instead.

    ``names`` say what each position is (``["m", "b"]``) in the message; default "item i".
    """
    _record(kind="value", what=what, expected=list(expected),
            variants={k: list(v) for k, v in (variants or {}).items()}, rel=rel, abs_=abs_)
    if matches(got, expected, rel, abs_):
        return
    if len(got) != len(expected):
        detail = f"expected {len(expected)} values, got {len(got)}"
    else:
        first = next(i for i, (g, e) in enumerate(zip(got, expected)) if not close(g, e, rel, abs_))
        label = names[first] if names and first < len(names) else f"item {first}"
        detail = (f"{label} is {got[first]:.6g}, expected {expected[first]:.6g}" if show_expected
                  else f"{label} is not right")  # no value: see expect_close
    _wrong(what, detail, match_variant(got, variants or {}, rel, abs_), otherwise)


def require(condition: bool, message: str, mistake: str | None = None):
    _record(kind="require", mistake=mistake)
    if not condition:
        raise CheckFailed(message, mistake)


@contextlib.contextmanager
def called_with(description: str):
    """Say which input a call used when the student's function raises on it ("called with one pair,
    hours = [35]"): an error on an input the student did not expect (a .view(8, 1) meeting one row)
    otherwise reads as if it came from the course data."""
    try:
        yield
    except StudentError as error:
        raise StudentError(error.kind, f"{description}: {error.message}") from None


class Student:
    """What a check talks to. Subclasses say how one call reaches the student's code."""

    def request(self, name: str, args: list, kwargs: dict, render: bool) -> dict:
        """One call of the student's function ``name``; the reply (see :mod:`.calling`)."""
        raise NotImplementedError

    def call_full(self, name: str, *args, render: bool = False, **kwargs) -> dict:
        """The whole reply: ``value``, and the ``args`` as they are after the call."""
        reply = self.request(name, list(args), kwargs, render)
        said = reply.get("warnings")
        if isinstance(said, list):
            self.__dict__.setdefault("_warnings_seen", []).extend(str(w) for w in said[:3])
        shown = reply.get("shown")
        if isinstance(shown, str):  # checked at the boundary (sandbox/replies.py): one of calling.SHOW_CALLS
            self.__dict__.setdefault("_shown_seen", {}).setdefault(str(name), shown)
        if not reply.get("ok"):
            message = str(reply.get("message", "no value came back"))
            where = reply.get("traceback")
            if isinstance(where, str) and where.strip():
                message += "\n" + where.rstrip()
            raise StudentError(str(reply.get("kind", "error")), message)
        return reply

    def call(self, name: str, *args, **kwargs) -> dict:
        return self.call_full(name, *args, **kwargs)["value"]
