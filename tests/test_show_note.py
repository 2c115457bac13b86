"""A checked function that shows its figure itself gets a note, and loses no point (issue 24, item 2).

In the student's notebook (the inline backend) ``plt.show()`` inside ``plot_regression`` shows
the figure and closes it, so the story cell that then titles and shows the returned figure
showed nothing (or, with ``plt.gcf()`` after the show, an empty titled figure), while the checks,
which switch ``show`` off, gave full marks and said nothing. Now:

* the call's reply says the function showed a figure (``"shown"``, checked at the sandbox's
  boundary), and each check that called it adds a note to its verdict: in the self-check, in
  ``feedback.html`` and in ``results.json``; no point is lost;
* ``done()`` prints the note in the story cell, and the story cell shows the figure the function
  returned, titled, even though the function's own ``plt.show()`` closed it.

Breakage each test was watched failing under (see the report of the branch ``feedback``):
* calling.invoke without ``shows_recorded(shown)``: every test of a note fails (no note; in the
  grading run the sandbox's Agg ``show`` is not recorded either).
* api.run_check without the loop over ``_take_shown``: no note anywhere, points unchanged.
* display.figures_not_shown never appending ``"display()"``: the display() note is missing.
* replies.call_reply without the ``"shown"`` check: a forged ``"shown"`` passes the boundary.
* the sandbox's namespace without ``display``: the displaying submission loses plot_regression's
  points in grading (NameError), though its notebook runs.
* the story cell ``story_least_squares`` without ``plt.figure(fig)``: its last image is the
  untitled one the function showed, not the reference's titled figure.
"""

from __future__ import annotations

import base64

import pytest
from inkernel import namespace_of
from test_mistake_visibility import SEEDS, CallLog

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.context import GradingContext
from autograder.selfcheck.api import NOTE, PASSED, notes, run_check

A01 = "01-linear-regression"
SHOW_NOTE = "plot_regression calls plt.show(): in your notebook that shows the figure and closes it"
DISPLAY_NOTE = "plot_regression calls display(): in your notebook its figure is then shown twice"


def _answer(question: str) -> str:
    from autograder.notebook.fill import solution_answers

    return "".join(line for line in solution_answers(ASSIGNMENTS[A01])[question].splitlines(True)
                   if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def _showing() -> str:
    """The reference plot_regression with plt.show() before its return (the figure is still returned)."""
    answer = _answer("plot_regression")
    assert "    return fig, ax" in answer
    return answer.replace("    return fig, ax", "    plt.show()\n    return fig, ax")


def _displaying() -> str:
    """The reference plot_regression with display(fig), IPython's builtin (no import), before its return."""
    return _answer("plot_regression").replace("    return fig, ax", "    display(fig)\n    return fig, ax")


def _gcf_after_show() -> str:
    """The pyplot-state version students write: draw, plt.show(), then return plt.gcf(), plt.gca()."""
    return (
        "def plot_regression(x, y, m, b):\n"
        "    xs = x.reshape(-1).tolist()\n"
        "    ys = y.reshape(-1).tolist()\n"
        "    line_x = sorted(xs)\n"
        "    plt.figure(figsize=(6, 4))\n"
        "    plt.scatter(xs, ys, label='data')\n"
        "    plt.plot(line_x, [m * v + b for v in line_x], color='tab:red', label='model')\n"
        "    plt.xlabel('Study hours')\n"
        "    plt.ylabel('Exam score')\n"
        "    plt.legend()\n"
        "    plt.show()\n"
        "    return plt.gcf(), plt.gca()\n"
    )


def _plot_results(source: str | None):
    assignment = ASSIGNMENTS[A01]
    namespace = namespace_of(assignment, {"plot_regression": source} if source else None)
    key = GradingContext(SEEDS[0][0]).hidden(A01, SEEDS[0][1])
    return [run_check(fn, CallLog(namespace, key if fn.hidden else None))
            for fn in assignment.checks() if fn.question == "plot_regression"]


@pytest.mark.parametrize("source", [_showing, _gcf_after_show], ids=["return fig", "return plt.gcf()"])
def test_plt_show_in_a_checked_function_is_noted_and_costs_nothing(source):
    results = _plot_results(source())
    assert len(results) >= 3
    for result in results:
        assert result.status == PASSED, result.message
        assert result.points == result.max_points
        assert [note[:len(SHOW_NOTE)] for note in notes(result.message)] == [SHOW_NOTE], result.message


def test_no_note_without_a_show():
    for result in _plot_results(None):
        assert result.status == PASSED and NOTE not in result.message, result.message


def test_the_note_comes_with_a_failing_verdict_too():
    """A plot without a legend that also calls plt.show(): the failure, then the note."""
    source = _showing().replace("    ax.legend()\n", "")
    failed = [r for r in _plot_results(source) if r.status != PASSED]
    assert failed
    for result in failed:
        assert "legend" in result.message and SHOW_NOTE in result.message, result.message


def test_the_reply_schema_takes_one_of_the_known_words_only():
    from autograder.sandbox import replies
    from autograder.sandbox.replies import MalformedReply

    honest = {"ok": True, "value": {"t": "none", "type": "NoneType"}, "args": [], "warnings": []}
    assert "shown" not in replies.call_reply(honest, 0)
    assert replies.call_reply({**honest, "shown": "plt.show()"}, 0)["shown"] == "plt.show()"
    for forged in ["<b>plt.show()</b>", "x" * 5000, 1, True, ["plt.show()"], {"a": 1}, None]:
        with pytest.raises(MalformedReply):
            replies.call_reply({**honest, "shown": forged}, 0)
    with pytest.raises(MalformedReply):  # only a value that came back can carry it
        replies.call_reply({"ok": False, "kind": "error", "message": "m", "shown": "plt.show()"}, 0)


# --- through the sandbox: feedback.html and results.json ---------------------------------------------

@pytest.mark.slow
def test_the_note_reaches_feedback_and_results_json(solution_notebook, tmp_path):
    from conftest import grade_notebooks

    from autograder.grading.intake import student_folder
    from autograder.report.gradescope import md_text

    notebooks = {"shows": solution_notebook(A01, {"plot_regression": _showing()}),
                 "displays": solution_notebook(A01, {"plot_regression": _displaying()}),
                 "plain": solution_notebook(A01)}
    run = grade_notebooks(A01, notebooks, tmp_path)
    shows, plain = run.results["shows"], run.results["plain"]
    assert shows.auto_total == shows.auto_max == plain.auto_total
    # display() without an import works in a notebook (IPython's builtin): in grading too, with its note.
    displays = run.checks("displays", "plot_regression")
    assert run.results["displays"].auto_total == plain.auto_total, [c.message for c in displays]
    assert all(DISPLAY_NOTE in c.message for c in displays if not c.hidden), [c.message for c in displays]
    public = [c for c in run.checks("shows", "plot_regression") if not c.hidden]
    assert public and all(SHOW_NOTE in c.message for c in public), [c.message for c in public]
    assert not any(NOTE in c.message for c in run.checks("plain"))
    outputs = [t["output"] for t in run.gradescope("shows")["tests"] if t["name"].startswith("plot_regression")]
    assert any(md_text(SHOW_NOTE) in output for output in outputs), outputs  # results.json's Markdown
    page = (student_folder(run.out, "shows") / "feedback.html").read_text(encoding="utf-8")
    assert SHOW_NOTE in page
    assert SHOW_NOTE not in (student_folder(run.out, "plain") / "feedback.html").read_text(encoding="utf-8")


# --- in a real kernel (nbclient): the check, the story cell ---------------------------------------

def _execute(notebook: dict, tmp_path):
    from autograder.notebook.execute import execute_notebook
    from autograder.notebook.fill import write

    path = write(notebook, tmp_path / ASSIGNMENTS[A01].notebook)
    executed, _ = execute_notebook(path, KIT_ROOT / "assignments" / A01 / "selfcheck")
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in executed.cells}


def _text(cell) -> str:
    return "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))


def _pixels(cell) -> list:
    """Each image of a cell's outputs, decoded (PNG bytes may differ in metadata, pixels do not)."""
    import io

    from PIL import Image

    images = []
    for output in cell.get("outputs", []):
        data = output.get("data", {}).get("image/png")
        if data:
            image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
            images.append((image.size, image.tobytes()))
    return images


@pytest.mark.slow
def test_in_the_notebook_the_check_notes_it_and_the_story_shows_the_titled_figure(solution_notebook, tmp_path):
    reference = _execute(solution_notebook(A01), tmp_path / "reference")
    shows = _execute(solution_notebook(A01, {"plot_regression": _showing()}), tmp_path / "shows")
    titled = _pixels(reference["story_least_squares"])
    assert len(titled) == 1 and NOTE not in _text(reference["story_least_squares"])
    # The check: full marks, the note, and no figure under it.
    check = _text(shows["check_plot_regression"])
    assert "checks passed" in check and "✘" not in check and SHOW_NOTE in check, check
    assert _pixels(shows["check_plot_regression"]) == []
    # The story: done() says why, and the figure the function returned is shown with its title,
    # after the untitled one the function's own plt.show() displayed.
    story = shows["story_least_squares"]
    assert SHOW_NOTE in _text(story), _text(story)
    images = _pixels(story)
    assert images and images[-1] == titled[0], f"{len(images)} images; the last is not the titled figure"


@pytest.mark.slow
def test_in_the_notebook_display_in_a_checked_function_is_noted(solution_notebook, tmp_path):
    cells = _execute(solution_notebook(A01, {"plot_regression": _displaying()}), tmp_path)
    check = _text(cells["check_plot_regression"])
    assert "checks passed" in check and "✘" not in check and DISPLAY_NOTE in check, check
    assert _pixels(cells["check_plot_regression"]) == []
