"""Calling one student function on grader-chosen arguments, in the process that holds it.

Used by the sandboxed child (grading) and by the student's kernel (self-check), so both
see exactly the same JSON for the same function. Everything the student's code does is
caught here and reported as data: an exception (with the student's own frames and a hint
for the usual autograd slips), a timeout, a value that cannot be read, PyTorch's warnings.
Nothing is counted or spied on: a check judges what comes back, and what the arguments
carry after the call, never state that the student's code could write to. The one thing
recorded is whether the function showed a figure itself (``plt.show()``): it adds a note to
the verdict, never a point lost or won.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
import signal
import sys
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


def cell_filename(label: str, source: str) -> str:
    """The file name to compile a notebook cell under, with its lines kept for tracebacks.

    ``compile(source, cell_filename(label, source), "exec")``: a traceback through the cell
    then shows the student's own line of code, as IPython does for its cells.
    """
    filename = f"<cell {label}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    return filename


# Frames of these folders are the kit's or Python's, never the student's.
_HERE = os.path.dirname(os.path.abspath(__file__))
_OWN = [_HERE] + ([os.path.dirname(_HERE)] if os.path.basename(os.path.dirname(_HERE)) == "autograder" else [])
_LIBRARY = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}


def _is_student_frame(filename: str) -> bool:
    if filename.startswith("<cell") or filename.startswith("<ipython-input"):
        return True
    if filename.startswith("<"):  # <frozen ...>, <string>: Python's own machinery
        return False
    path = os.path.abspath(filename)
    return not any(path.startswith(folder + os.sep) for folder in (*_OWN, *_LIBRARY))


def _where(filename: str) -> str:
    if filename.startswith("<cell "):
        return f"cell `{filename[6:-1]}`"
    return "your cell" if "ipykernel" in filename or filename.startswith("<ipython") else filename


def student_traceback(error: BaseException, limit: int = 6, exception: bool = True) -> str:
    """The last frames of a traceback that lie in the student's code: cell, line, and the line itself.

    Ends with the exception's own line unless ``exception`` is false.
    """
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_student_frame(f.filename)]
    lines = []
    for frame in frames[-limit:]:
        lines.append(f"  {_where(frame.filename)}, line {frame.lineno}, in {frame.name}\n")
        if frame.line:
            lines.append(f"    {frame.line.strip()[:200]}\n")
    if exception:
        lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)[-3000:]


# The usual slips of a beginner with autograd and tensors, by the error they cause.
_HINTS = [
    (r"'NoneType' object has no attribute '(item|tolist|numpy|detach|clone)'|"
     r"unsupported operand type\(s\) for .*'NoneType'|float\(\) argument must be .* not 'NoneType'",
     "a value is None. If it is a gradient (.grad): did you call loss.backward()? does the tensor have "
     "requires_grad=True? Otherwise: does every path of your function end with `return`?"),
    (r"does not require grad and does not have a grad_fn",
     "backward() was called on a value that autograd did not record: create the parameters with "
     "requires_grad=True before computing the loss from them"),
    (r"backward through the graph a second time",
     "the loss was reused after backward(): compute a new loss (a new forward pass) in every epoch"),
    (r"Can't call numpy\(\) on Tensor that requires grad",
     "this tensor is part of the autograd graph: use .detach() (or .item() for one value) first"),
    (r"only one element tensors can be converted|elements cannot be converted to Scalar",
     ".item() / float() need a tensor with exactly one value: reduce it first (e.g. .mean())"),
    (r"mat1 and mat2 shapes cannot be multiplied",
     "nn.Linear(1, 1) expects inputs of shape (N, 1): one row per example, one column"),
    (r"expected (scalar type|m1 and m2 to have the same dtype)|found dtype \w+ but expected|"
     r"result type Float can't be cast",
     "the tensors have different dtypes: make them torch.float32 (dtype=torch.float32 or .float())"),
    (r"a leaf Variable that requires grad is being used in an in-place operation",
     "update parameters inside `with torch.no_grad():` (or use optimizer.step())"),
]


def hint_for(error: BaseException, text: str) -> str:
    """A sentence that says what usually causes ``error`` in this course, or ''."""
    for pattern, hint in _HINTS:
        if re.search(pattern, f"{type(error).__name__}: {text}"):
            return hint
    return ""


# How a checked function can show a figure itself, as the reply names it (``"shown"``). A check
# adds a note to its verdict (api.show_note): in the student's notebook plt.show() shows the
# figure and closes it (the inline backend), so the code that uses the returned figure after
# the call gets a closed, or (plt.gcf() after show) an empty one.
SHOW_CALLS = ("plt.show()", "display()")


@contextlib.contextmanager
def shows_recorded(seen: list):
    """While the block runs, ``plt.show()`` shows nothing and appends ``"plt.show()"`` to ``seen``.

    The figure stays open for the check to read (a check judges the figure the function returns).
    Only ``matplotlib.pyplot.show`` is replaced, and only if pyplot is imported already: a
    notebook imports it in its setup cell, the sandbox's worker before any student code. Being
    recorded is no evidence of anything: it only adds a note, never changes a point.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    original = pyplot.show if pyplot else None

    def show(*args, **kwargs) -> None:
        if not seen:
            seen.append(SHOW_CALLS[0])

    if pyplot:
        pyplot.show = show
    _RECORDING.append(seen)
    try:
        yield
    finally:
        _RECORDING.pop()  # this block's own list: blocks nest, last in first out
        if pyplot:
            pyplot.show = original


# The calls being recorded now (shows_recorded): display_in_grading records into the innermost.
_RECORDING: list[list[str]] = []


def display_in_grading(*objects, **kwargs) -> None:
    """``display`` in the grader's sandbox, where no IPython runs.

    In a notebook IPython makes ``display`` a builtin, so a cell or a function may call it without
    importing it; without this name in the sandbox's namespace such a function would raise
    NameError in grading only. It shows nothing (nobody sees the sandbox's output); during a
    checked call it is recorded, as ``plt.show()`` is, for the note.
    """
    if _RECORDING and not _RECORDING[-1]:
        _RECORDING[-1].append(SHOW_CALLS[1])


def invoke(namespace: dict, name: str, args: list, kwargs: dict | None = None, *,
           render: bool = False, seconds: float | None = None) -> dict:
    """Call ``namespace[name]`` on decoded ``args``; describe what happened as JSON data.

    Nothing is counted inside the process that runs student code (the student could write to
    any counter kept there): a check sees only the reply.
    """
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
        # stderr it would fail the cell under nbgrader. A failing check shows them.
        shown: list[str] = []
        with warnings.catch_warnings(record=True) as caught, shows_recorded(shown), time_limit(seconds):
            warnings.simplefilter("always")
            value = function(*decoded, **decoded_kwargs)
    except NotImplementedError:
        return {"ok": False, "kind": "not_implemented", "message": f"`{name}` is not implemented yet"}
    except CallTimeout:
        return {"ok": False, "kind": "timeout", "message": f"`{name}` did not return within {seconds:g} s"}
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: they are the student's
        text = _first_line(error)
        hint = hint_for(error, text)
        message = f"`{name}` raised {type(error).__name__}: {text}"
        if hint:
            message += f"{'' if message.endswith(('.', '?', '!')) else '.'} Hint: {hint}"
            message += "" if hint.endswith(("?", ".", "!")) else "."
        # The exception's type as data too: a hidden check shows the type alone (never the message,
        # which could carry the hidden inputs) without parsing it back out of the prose.
        return {"ok": False, "kind": "error", "message": message, "traceback": _safe_traceback(error),
                "error_type": type(error).__name__}
    try:
        with time_limit(seconds):
            reply = {
                "ok": True,
                "value": encode(value, render=render),
                "args": [encode(arg) if isinstance(spec, dict) else None for arg, spec in zip(decoded, args)],
                "warnings": [_first_line(w.message, 300) for w in caught[:3]],
            }
            if shown:
                reply["shown"] = shown[0]
            return reply
    except BaseException as error:
        return {"ok": False, "kind": "error",
                "message": f"the value returned by `{name}` could not be read ({type(error).__name__})"}


def _safe_traceback(error: BaseException) -> str:
    try:
        return student_traceback(error, exception=False)
    except Exception:  # a hostile traceback (e.g. a lying __str__) must not break the reply
        return ""


def _first_line(error, limit: int = 300) -> str:
    try:
        text = str(error)
    except Exception:
        text = "(message unreadable)"
    return (text.splitlines() or [""])[0][:limit]
