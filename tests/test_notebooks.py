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
