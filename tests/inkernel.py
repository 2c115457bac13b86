"""Running a notebook's answers in this process, the way a student's kernel does.

``namespace_of(assignment, answers)`` executes the template's setup cell and the given
answer cells (the reference's where an answer is missing) in a fresh namespace, with the
kit's public ``selfcheck`` package standing in for the one next to the notebook. Checks then
run through :class:`autograder.selfcheck.LocalStudent`, exactly as ``check(...)`` in
JupyterLab and nbgrader's hidden tests do. Only for the kit's own, honest corpus: this is
no sandbox.
"""

from __future__ import annotations

import contextlib
import sys

from autograder.notebook.fill import solution_answers
from autograder.notebook.submission import load_notebook, nbgrader_meta
from autograder.selfcheck.calling import cell_filename


@contextlib.contextmanager
def selfcheck_package():
    import autograder.selfcheck as package

    previous = sys.modules.get("selfcheck")
    sys.modules["selfcheck"] = package
    try:
        yield
    finally:
        if previous is None:
            sys.modules.pop("selfcheck", None)
        else:
            sys.modules["selfcheck"] = previous


def code_cells(assignment, answers: dict[str, str]) -> list[tuple[str, str]]:
    """(label, source) of the cells a kernel runs before the checks: setup and answers, in order."""
    cells = []
    for cell in load_notebook(assignment.release)["cells"]:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id", "")
        if cell["cell_type"] != "code":
            continue
        if grade_id == "setup":
            cells.append(("setup", "".join(cell["source"])))
        elif meta.get("solution"):
            cells.append((grade_id, answers[grade_id]))
    return cells


def namespace_of(assignment, answers: dict[str, str] | None = None) -> dict:
    """A fresh namespace holding the setup cell's names and the answers' functions."""
    import matplotlib

    matplotlib.use("Agg")
    filled = {**_typed(solution_answers(assignment)), **(answers or {})}
    namespace = {"__name__": "__main__"}
    with selfcheck_package():
        for label, source in code_cells(assignment, filled):
            try:
                exec(compile(source, cell_filename(label, source), "exec"), namespace)
            except Exception:  # a broken answer cell: its function stays undefined, as in a kernel
                pass
    return namespace


def _typed(answers: dict[str, str]) -> dict[str, str]:
    return {k: "".join(line for line in v.splitlines(keepends=True)
                       if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            for k, v in answers.items()}


def story_cells(assignment) -> list[tuple[str, str]]:
    """(grade id, source) of the locked story cells, in order."""
    return [(nbgrader_meta(c)["grade_id"], "".join(c["source"])) for c in load_notebook(assignment.release)["cells"]
            if str(nbgrader_meta(c).get("grade_id", "")).startswith("story_")]
