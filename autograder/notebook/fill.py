"""Filling a student template with answers: sample submissions, test corpora, benchmarks.

``fill(assignment, {"predict": "def predict(x, m, b):\\n    return m * x + b\\n"})`` is the
template with those answer cells replaced, as if a student had typed them and saved.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from autograder.checks import Assignment
from autograder.notebook.submission import load_notebook, nbgrader_meta


def solution_answers(assignment: Assignment) -> dict[str, str]:
    """The reference answer cells (and written answers), by grade id."""
    answers = {}
    for cell in load_notebook(assignment.solution)["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            source = cell["source"]
            answers[meta["grade_id"]] = "".join(source) if isinstance(source, list) else source
    return answers


def fill(assignment: Assignment, answers: dict[str, str], extra_cells: list[str] = (),
         base: str = "release") -> dict:
    """The template (or the solution, ``base="solution"``) with ``answers`` pasted in.

    ``extra_cells`` are appended as student-added code cells at the end.
    """
    notebook = copy.deepcopy(load_notebook(assignment.release if base == "release" else assignment.solution))
    for cell in notebook["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    for source in extra_cells:
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": f"added-{len(notebook['cells'])}",
                                  "metadata": {}, "outputs": [], "source": source})
    return notebook


def write(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    return path


def written_guides(assignment: Assignment) -> dict[str, tuple[str, str]]:
    """For graders: each written question's model answer (from the solution) and its rubric.

    The rubric is the written cell's ``metadata.dlbasics.rubric`` in the solution notebook.
    """
    guides = {}
    for cell in load_notebook(assignment.solution)["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade") and cell.get("cell_type") == "markdown":
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            model = "\n".join(line for line in source.splitlines()
                              if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            extra = cell.get("metadata", {}).get("dlbasics", {})
            rubric = extra.get("rubric", "") if isinstance(extra, dict) else ""
            guides[meta["grade_id"]] = (model.strip(), "".join(rubric) if isinstance(rubric, list) else rubric)
    return guides
