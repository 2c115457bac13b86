"""The solution notebooks run top to bottom headless, and print computed numbers."""

from __future__ import annotations

import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.execute import execute_notebook

pytestmark = pytest.mark.slow


def _text_outputs(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_solution_runs_headless_and_every_self_check_passes(assignment):
    notebook, seconds = execute_notebook(assignment.solution, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    assert seconds < 60
    text = _text_outputs(notebook)
    assert "checks passed" in text
    assert "✘" not in text and "skipped" not in text and "not implemented" not in text
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2


def test_linear_regression_story_prints_the_computed_numbers():
    assignment = ASSIGNMENTS["01-linear-regression"]
    notebook, _ = execute_notebook(assignment.solution, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    text = _text_outputs(notebook)
    assert "7.3690" in text and "419.6429" in text  # the least-squares line, computed in the notebook
    assert "35" in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_stub_notebook_runs_to_the_end_without_tracebacks(assignment):
    notebook, _ = execute_notebook(assignment.release, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert "not implemented yet" in _text_outputs(notebook)


def _run(assignment, notebook: dict, tmp_path):
    """Execute ``notebook`` (a filled template) as a student's kernel would, next to its self-check."""
    from autograder.notebook.fill import write

    path = write(notebook, tmp_path / assignment.notebook)
    executed, _ = execute_notebook(path, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    return executed


def _by_grade_id(notebook) -> dict:
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}


def _images(cell) -> int:
    return sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def test_plt_show_inside_plot_regression_shows_each_figure_once(solution_notebook, tmp_path):
    """A student's plt.show() inside plot_regression: no figure under the check; under the story the one the
    function itself shows, then the returned figure with the story's title (tests/test_show_note.py)."""
    from autograder.notebook.fill import solution_answers

    assignment = ASSIGNMENTS["01-linear-regression"]
    answer = solution_answers(assignment)["plot_regression"]
    assert "    return fig, ax" in answer
    showing = answer.replace("    return fig, ax", "    plt.show()\n    return fig, ax")
    cells = _by_grade_id(_run(assignment, solution_notebook(assignment.id, {"plot_regression": showing}), tmp_path))
    check_text = _text_outputs_of(cells["check_plot_regression"])
    assert "checks passed" in check_text and "✘" not in check_text  # the figure was still there to check
    assert _images(cells["check_plot_regression"]) == 0, "the check's own calls displayed the student's figure"
    # done() runs the plot checks again before the story draws: they add no figure.
    assert _images(cells["story_least_squares"]) == 2


def _text_outputs_of(cell) -> str:
    return "\n".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                     for output in cell.get("outputs", []))


def _story_text(assignment_id: str) -> dict[str, str]:
    assignment = ASSIGNMENTS[assignment_id]
    notebook, _ = execute_notebook(assignment.solution, KIT_ROOT / "assignments" / assignment.id / "selfcheck")
    return {grade_id: _text_outputs_of(cell) for grade_id, cell in _by_grade_id(notebook).items()}


def _mse(slope: float, intercept: float, xs, ys) -> float:
    import torch

    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    return torch.mean((slope * x + intercept - y) ** 2).item()


HOURS = [10, 20, 30, 40, 50, 60, 70, 80]
SCORES = [480, 520, 710, 680, 830, 890, 920, 980]


def test_linear_regression_checks_the_posts_line_and_units_with_computed_numbers():
    text = _story_text("01-linear-regression")
    # The post's line 9.18 x + 338.15 against least squares (7.3690 x + 419.6429): both MSEs printed.
    post_line = text["story_post_line"]
    assert f"MSE {_mse(9.18, 338.15, HOURS, SCORES):8.2f}" in post_line
    assert f"MSE {_mse(7.369047619047619, 419.64285714285717, HOURS, SCORES):8.2f}" in post_line
    # The post's table (tens of hours, tens of points) is a rescaling: same slope, intercept / 10.
    assert "7.3690 * x + 41.9643" in text["story_least_squares"]
    # The last recorded loss (before the last update) is printed next to the trained line's MSE.
    assert "Loss recorded in the last epoch (before its update)" in text["story_compare"]


def test_gradient_descent_checks_the_posts_loss_and_labels_its_rates():
    text = _story_text("02-gradient-descent")
    worked = text["story_loss_example"]
    # The four squared errors of the worked example, and their mean: what the post's 2550 is checked against.
    squared = [(p - t) ** 2 for p, t in zip([440., 530., 620., 710.], [480., 520., 710., 680.])]
    assert f"your mse_loss): {sum(squared) / 4:.2f}" in worked and "2550.00" in worked
    rates = text["story_learning_rates"]
    assert "lr = 0.1 (moderate)" in rates and "( " not in rates


@pytest.mark.parametrize("assignment_id", sorted(ASSIGNMENTS))
def test_written_questions_have_a_rubric_and_nothing_gives_them_away_before_the_answer(assignment_id):
    """Each written answer cell carries a grader's rubric and is followed by a "once you have answered" stop."""
    import nbformat

    assignment = ASSIGNMENTS[assignment_id]
    from autograder.notebook.fill import written_guides

    cells = nbformat.read(assignment.solution, as_version=4).cells
    written = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
               and c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"].get("grade")]
    assert written
    for i in written:
        grade_id = cells[i].metadata["nbgrader"]["grade_id"]
        assert len(written_guides(assignment)[grade_id][1]) > 100, f"{grade_id}: no rubric"
        following = cells[i + 1].source if i + 1 < len(cells) else ""
        assert "once you have answered the question above" in following.lower(), grade_id


@pytest.mark.parametrize("assignment_id, question", [("01-linear-regression", "written_convergence"),
                                                     ("02-gradient-descent", "written_learning_rate")])
def test_rubric_reaches_the_review_page(solution_notebook, tmp_path, assignment_id, question):
    from conftest import grade_notebooks

    from autograder.notebook.fill import written_guides

    rubric = written_guides(ASSIGNMENTS[assignment_id])[question][1]
    run = grade_notebooks(assignment_id, {"ann": solution_notebook(assignment_id)}, tmp_path)
    page = (run.out / "review" / f"{question}.html").read_text()
    assert "Rubric" in page
    # The rubric's first bullet, rendered from Markdown (bold turned into <strong>).
    first = rubric.split("* **", 1)[1].split("**", 1)[0]
    assert f"<strong>{first}</strong>" in page
