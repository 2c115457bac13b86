"""The three attacks that defeat same-process graders score nothing here, and the batch goes on."""

from __future__ import annotations

from conftest import grade_notebooks

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template

ASSIGNMENT = "02-gradient-descent"

ATTACKS = {
    # Blank every later cell of the kernel: nbgrader's tests would then "pass".
    "transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n",
    # Make every comparison succeed in the grading process.
    "allclose": "import torch, math\ntorch.allclose = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\n"
                "import builtins\nbuiltins.abs = lambda x: 0\n",
    # Leave the submission ungraded by killing the process that runs it.
    "exit": "import os\nos._exit(0)\n",
}


def test_attacks_on_a_blank_notebook_get_zero(stub_notebook, solution_notebook, tmp_path):
    notebooks = {"honest": solution_notebook(ASSIGNMENT)}
    for name, source in ATTACKS.items():
        notebook = stub_notebook(ASSIGNMENT)
        notebook["cells"].insert(2, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                     "source": source, "id": f"attack-{name}"})
        notebooks[name] = notebook
    run = grade_notebooks(ASSIGNMENT, notebooks, tmp_path)
    assert set(run.rows) == {"honest", *ATTACKS}
    assert run.results["honest"].auto_total == run.results["honest"].auto_max
    for name in ATTACKS:
        assert run.results[name].auto_total == 0, name
        assert float(run.rows[name]["total"]) == 0
    assert run.results["exit"].status == "crashed"
    assert "ended" in run.results["exit"].message


def test_warnings_and_stderr_output_cost_nothing(solution_notebook, tmp_path):
    """nbgrader fails a test cell that writes to stderr; here only the values count."""
    noisy_predict = ("import sys, warnings\n"
                     "def predict(x, m, b):\n"
                     "    warnings.warn('a harmless warning')\n"
                     "    print('debug output', file=sys.stderr)\n"
                     "    return m * x + b\n")
    extra = ["import sys\nprint('x' * 100, file=sys.stderr)\n42\n"]
    notebook = solution_notebook("01-linear-regression", {"predict": noisy_predict}, extra_cells=extra)
    run = grade_notebooks("01-linear-regression", {"noisy": notebook}, tmp_path)
    full = sum(load_template(ASSIGNMENTS["01-linear-regression"]).points.values())
    assert run.results["noisy"].auto_total == full
