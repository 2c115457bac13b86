"""Showing check verdicts: coloured HTML in JupyterLab, plain text in a terminal."""

from __future__ import annotations

import contextlib
import html
import sys

from .api import NOT_ATTEMPTED, NOTE, PASSED, notes

_MARK = {PASSED: "✔", NOT_ATTEMPTED: "…"}
_COLOUR = {PASSED: "#1a7f37", NOT_ATTEMPTED: "#6e7781"}


def as_text(question: str, results) -> str:
    passed = sum(r.status == PASSED for r in results)
    lines = [f"{question}: {passed}/{len(results)} checks passed"]
    if results and all(r.status == NOT_ATTEMPTED for r in results):
        return f"{question}: not implemented yet. Write the function above, run its cell, then run this check again."
    for r in results:
        message = _verdict(r.message).replace("\n", "\n      ")  # a traceback's lines stay under their check
        lines.append(f"  {_MARK.get(r.status, '✘')} {r.name.removeprefix('test_').replace('_', ' ')}: {message}")
    lines += [f"  {NOTE}{note}" for note in notes_of(results)]
    return "\n".join(lines)


def _verdict(message) -> str:
    """A check's message without its notes (they are shown once under the question's checks)."""
    return str(message).split(NOTE)[0].rstrip()


def notes_of(results) -> list[str]:
    """The notes of a question's checks, each once (two checks calling one function note it twice)."""
    return list(dict.fromkeys(note for r in results for note in notes(r.message)))


def as_html(question: str, results) -> str:
    passed = sum(r.status == PASSED for r in results)
    if results and all(r.status == NOT_ATTEMPTED for r in results):
        return (f'<div class="dlbasics-check" style="border-left:4px solid #6e7781;padding:4px 10px">'
                f"<b>{html.escape(question)}</b>: "
                "not implemented yet. Write the function above, run its cell, then run this check again.</div>")
    colour = _COLOUR[PASSED] if passed == len(results) else "#cf222e"
    rows = "".join(
        f'<li style="color:{_COLOUR.get(r.status, "#cf222e")};white-space:pre-wrap">{_MARK.get(r.status, "✘")} '
        f"<b>{html.escape(r.name.removeprefix('test_').replace('_', ' '))}</b>: {html.escape(_verdict(r.message))}</li>"
        for r in results
    )
    said = "".join(f'<div style="color:#9a6700;white-space:pre-wrap">{html.escape(NOTE + note)}</div>'
                   for note in notes_of(results))
    return (f'<div class="dlbasics-check" style="border-left:4px solid {colour};padding:4px 10px">'
            f"<b>{html.escape(question)}</b>: {passed}/{len(results)} checks passed"
            f'<ul style="margin:4px 0">{rows}</ul>{said}</div>')


def show(question: str, results) -> None:
    text = as_text(question, results)
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display({"text/html": as_html(question, results), "text/plain": text}, raw=True)
            return
    except ImportError:
        pass
    print(text)


@contextlib.contextmanager
def figures_not_shown():
    """While a check calls the student's function, ``plt.show()`` and ``display(...)`` show nothing.

    A ``plot_regression`` that calls ``plt.show()`` would otherwise put the figure of every
    check's call under the check cell (and, through ``done()``, under the story cell that
    then shows it once more), and JupyterLab's inline ``show`` would close the student's
    other open figures. A check judges the figure the function returns; the student sees
    it when their own code calls the function.

    Yields a list that holds ``"display()"`` afterwards if the function displayed something
    (IPython only): the check then adds a note (see ``api.show_note``). ``plt.show()`` is
    recorded where the call is made (``calling.shows_recorded``), in grading too.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    show = pyplot.show if pyplot else None
    captured = None
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.utils.capture import capture_output

            # Only rich output (figures, display()) is held back; the student's prints still show.
            captured = capture_output(stdout=False, stderr=False, display=True)
    except ImportError:
        pass
    if pyplot:
        pyplot.show = _show_nothing
    shown: list[str] = []
    try:
        with captured if captured is not None else contextlib.nullcontext() as held:
            yield shown
        if held is not None and held.outputs:
            shown.append("display()")
    finally:
        if pyplot:
            pyplot.show = show


def _show_nothing(*args, **kwargs) -> None:
    """``plt.show`` during a check: the figure stays open for the check to read, nothing is displayed."""
