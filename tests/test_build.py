"""assignments/ is exactly what the build generates, and gives nothing away."""

from __future__ import annotations

import ast
import json

import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.build import check_fresh
from autograder.notebook.submission import load_notebook, nbgrader_meta


def test_generated_files_are_fresh():
    assert check_fresh() == [], "run `dlbasics build` and commit assignments/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_student_notebook_has_no_solution_and_no_hidden_test(assignment):
    text = assignment.release.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    notebook = load_notebook(assignment.release)
    assert all(not cell.get("outputs") for cell in notebook["cells"])
    # The graders' rubric of a written question stays in the solution (the review page reads it there).
    assert "rubric" not in text
    header = "".join(notebook["cells"][0]["source"])
    # Students must edit the answer cells: the banner says where to write, not "do not edit".
    assert "answer cells" in header and "do not edit" not in header.lower()


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_every_stub_raises_not_implemented_and_keeps_its_contract(assignment):
    stubs = [c for c in load_notebook(assignment.release)["cells"]
             if nbgrader_meta(c).get("solution") and c["cell_type"] == "code"]
    assert stubs
    for cell in stubs:
        tree = ast.parse("".join(cell["source"]))
        functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert functions, f"{nbgrader_meta(cell)['grade_id']}: no function defined"
        for function in functions:
            assert ast.get_docstring(function), f"{function.name}: the contract docstring is missing"
            last = function.body[-1]
            assert isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last)


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_checks_points_match_the_notebook(assignment):
    from autograder.grading.grade import load_template

    template = load_template(assignment)  # raises when the checks and the cells disagree
    checks = assignment.checks()
    assert sum(template.points.values()) == sum(f.points for f in checks) > 0
    for question in template.points:
        mine = [f for f in checks if f.question == question]
        # Every question has a public check (the self-check) and a hidden one (hard-coding).
        assert any(not f.hidden for f in mine) and any(f.hidden for f in mine), question
        assert all(f.points > 0 for f in mine), question  # a check worth nothing could not take a point


def test_student_package_holds_no_reference_and_no_hidden_check():
    forbidden_modules = {"reference", "linear_regression_hidden", "checks"}
    hidden_names = {fn.__name__ for a in ASSIGNMENTS.values() for fn in a.checks() if fn.hidden}
    for package in (KIT_ROOT / "assignments").glob("*/selfcheck"):
        files = [p for p in package.rglob("*") if p.is_file()]
        assert {p.stem for p in files}.isdisjoint(forbidden_modules)
        text = "\n".join(p.read_text() for p in files)
        assert not any(name in text for name in hidden_names), "a hidden check was shipped"
        assert "import autograder" not in text and "from autograder" not in text
        assert "least_squares(" not in text.replace("fit_least_squares(", "")  # no reference function
        for path in package.rglob("*.json"):
            json.loads(path.read_text())


def test_student_package_works_on_its_own(tmp_path):
    """Copied next to a notebook, without the kit installed: check() runs and says 'not implemented'."""
    import shutil
    import subprocess
    import sys

    shutil.copytree(KIT_ROOT / "assignments" / "02-gradient-descent" / "selfcheck", tmp_path / "selfcheck")
    script = ("import sys\n"
              "from selfcheck import check, done\n"
              "def mse_loss(t, p):\n    raise NotImplementedError()\n"
              "check('mse_loss')\n"
              "ok = done('mse_loss')\n"
              "def mse_loss(t, p):\n    return ((t.reshape(-1) - p.reshape(-1)) ** 2).mean().item()\n"
              "check('mse_loss')\n"
              "print(ok, done('mse_loss'))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "not implemented yet" in result.stdout
    assert result.stdout.strip().endswith("False True")
    assert "autograder" not in result.stdout


def test_done_says_which_functions_are_missing_in_a_sentence(capsys):
    """done() names every function that does not pass yet, in the singular or the plural."""
    from inkernel import namespace_of, selfcheck_package

    from autograder.selfcheck import done

    assignment = ASSIGNMENTS["02-gradient-descent"]
    assignment.public_module()  # registers its public checks as selfcheck.public.<module>, as the kit does
    reference = namespace_of(assignment)
    names = ("mse_loss", "mse_gradients", "gradient_descent_step")

    def needs(*missing: str) -> str:
        namespace = {k: v for k, v in reference.items() if k not in missing}
        with selfcheck_package():
            assert done(*names, namespace=namespace) is (not missing)
        return capsys.readouterr().out.strip()

    assert needs() == ""
    assert needs("mse_loss") == ("(skipped: this cell needs `mse_loss`: finish it until its check passes, "
                                 "then run this cell again.)")
    assert needs("mse_loss", "mse_gradients") == (
        "(skipped: this cell needs `mse_loss` and `mse_gradients`: finish them until their checks pass, "
        "then run this cell again.)")
    assert "needs `mse_loss`, `mse_gradients` and `gradient_descent_step`: finish them" in needs(*names)


def test_points_live_in_the_checks_and_only_generated_copies_carry_them():
    """The solution notebook (the single source) holds no points of a check cell; the student's copy
    holds exactly the checks' points (the build writes them there)."""
    from autograder.notebook.build import check_points
    from autograder.notebook.submission import load_notebook, nbgrader_meta

    for assignment in ASSIGNMENTS.values():
        stored = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c).get("points")
                  for c in load_notebook(assignment.solution)["cells"]
                  if nbgrader_meta(c).get("grade_id", "").startswith("check_")}
        assert stored and all(points is None for points in stored.values()), (assignment.id, stored)
        copy = {nbgrader_meta(c)["grade_id"].removeprefix("check_"): nbgrader_meta(c).get("points")
                for c in load_notebook(assignment.release)["cells"]
                if nbgrader_meta(c).get("grade_id", "").startswith("check_")}
        assert copy == check_points(assignment), assignment.id
