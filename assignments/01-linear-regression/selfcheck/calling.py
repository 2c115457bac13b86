"""Calling one student function on grader-chosen arguments, in the process that holds it.

Used by the sandboxed child (grading) and by the student's kernel (self-check), so both
see exactly the same JSON for the same function. Everything the student's code does is
caught here and reported as data: an exception, a timeout, a value that cannot be read.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
import warnings

from .protocol import decode_arg, encode


class CallTimeout(BaseException):
    """Raised inside student code when its time is up (BaseException: `except Exception` won't eat it)."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Interrupt the block after ``seconds`` of wall time, from the main thread only.

    After the first interrupt the timer keeps firing every 0.2 s, so a bare ``except:`` in
    student code cannot swallow it for good. A student who replaces the handler defeats
    this; the grader's own wall-clock limit on the whole process is the backstop.
    """
    if not seconds:
        yield
        return

    def interrupt(signum, frame):
        raise CallTimeout()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Built-ins whose use a check may want to see (e.g. "compute the MSE by hand").
_SPIES = {
    "mse_loss": ("torch.nn.functional", "mse_loss"),
    "backward": ("torch.autograd", "backward"),
    "autograd_grad": ("torch.autograd", "grad"),
}


@contextlib.contextmanager
def spies(names):
    """Count calls to the named built-ins while the block runs."""
    import importlib

    counts = {name: 0 for name in names}
    patched = []
    for name in names:
        module = importlib.import_module(_SPIES[name][0])
        attribute = _SPIES[name][1]
        original = getattr(module, attribute)

        def spy(*args, __name=name, __original=original, **kwargs):
            counts[__name] += 1
            return __original(*args, **kwargs)

        setattr(module, attribute, spy)
        patched.append((module, attribute, original))
    try:
        yield counts
    finally:
        for module, attribute, original in patched:
            setattr(module, attribute, original)


def student_traceback(error: BaseException, limit: int = 6) -> str:
    """The last frames of a traceback that lie in the student's cells."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
    lines = traceback.format_list(frames[-limit:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)[-3000:]


def invoke(namespace: dict, name: str, args: list, kwargs: dict | None = None, *,
           spy=(), render: bool = False, seconds: float | None = None) -> dict:
    """Call ``namespace[name]`` on decoded ``args``; describe what happened as JSON data."""
    function = namespace.get(name)
    if function is None:
        return {"ok": False, "kind": "missing",
                "message": f"`{name}` is not defined: run its cell, and keep the name from the template"}
    if not callable(function):
        return {"ok": False, "kind": "missing", "message": f"`{name}` is a {type(function).__name__}, not a function"}
    try:
        decoded = [decode_arg(arg) for arg in args]
        decoded_kwargs = {key: decode_arg(value) for key, value in (kwargs or {}).items()}
    except Exception as error:
        return {"ok": False, "kind": "error", "message": f"could not build the arguments: {error}"}
    try:
        # Warnings are recorded, not printed: a warning is no wrong answer, and printed to
        # stderr it would fail the cell under nbgrader.
        with warnings.catch_warnings(record=True) as caught, spies(spy) as counts, time_limit(seconds):
            warnings.simplefilter("always")
            value = function(*decoded, **decoded_kwargs)
    except NotImplementedError:
        return {"ok": False, "kind": "not_implemented", "message": f"`{name}` is not implemented yet"}
    except CallTimeout:
        return {"ok": False, "kind": "timeout", "message": f"`{name}` did not return within {seconds:g} s"}
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: they are the student's
        return {"ok": False, "kind": "error",
                "message": f"`{name}` raised {type(error).__name__}: {_first_line(error)}",
                "traceback": student_traceback(error)}
    try:
        with time_limit(seconds):
            return {
                "ok": True,
                "value": encode(value, render=render),
                "args": [encode(arg) if isinstance(spec, dict) else None for arg, spec in zip(decoded, args)],
                "spied": counts,
                "warnings": [str(w.message)[:300] for w in caught[:3]],
            }
    except BaseException as error:
        return {"ok": False, "kind": "error",
                "message": f"the value returned by `{name}` could not be read ({type(error).__name__})"}


def _first_line(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:
        text = "(message unreadable)"
    return (text.splitlines() or [""])[0][:300]
