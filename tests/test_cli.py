"""The command line: clear errors for bad input, a row for every submission, the demo works."""

from __future__ import annotations

from conftest import grade_notebooks, read_outputs, run_dlbasics

from autograder.checks import KIT_ROOT


def test_unknown_assignment_and_missing_folder_are_usage_errors(tmp_path):
    bad = run_dlbasics("grade", "03-nope", tmp_path, "--out", tmp_path / "out", check=False)
    assert bad.returncode == 2 and "unknown assignment '03-nope'" in bad.stderr and "01-linear-regression" in bad.stderr
    missing = run_dlbasics("grade", "01", tmp_path / "nothing", "--out", tmp_path / "out", check=False)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


def test_broken_files_get_a_row_with_a_reason(solution_notebook, tmp_path):
    run = grade_notebooks("01-linear-regression", {
        "honest": solution_notebook("01-linear-regression"),
        "empty": b"",
        "not json": "{ this is not json",
        "binary": bytes(range(256)) * 4,
        "no cells": '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
    }, tmp_path)
    assert run.results["honest"]["auto_total"] == 18
    for student, word in [("empty", "empty"), ("not json", "not valid notebook JSON"), ("binary", "UTF-8"),
                          ("no cells", "no list of cells")]:
        assert run.rows[student]["status"] == "unreadable"
        assert float(run.rows[student]["total"]) == 0
        assert word in run.results[student]["message"], run.results[student]["message"]


def test_sample_class_grades_as_described(tmp_path):
    out = tmp_path / "demo"
    process = run_dlbasics("grade", "01-linear-regression", KIT_ROOT / "samples" / "01-linear-regression",
                           "--out", out)
    run = read_outputs(out, process)
    assert float(run.rows["alice"]["total"]) == 18
    assert float(run.rows["carol"]["total"]) == 0
    assert 0 < float(run.rows["bob"]["total"]) < 18
    assert run.results["dave"]["questions"]["predict"]["status"] == "timeout"
    assert "ran out of time" in run.results["dave"]["message"]
    assert "most frequent mistakes" in process.stdout
    for name in ("summary.html", "histogram.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    feedback = (out / "feedback" / "bob" / "feedback.html").read_text()
    assert "slope and intercept are swapped" in feedback
    assert "zero_grad" in feedback


def test_check_command_prints_a_readable_summary():
    result = run_dlbasics("check", KIT_ROOT / "samples" / "02-gradient-descent" / "bob.ipynb")
    assert "automatic score: 7 / 18" in result.stdout
    assert "sum of squared errors" in result.stdout


def test_checks_run_under_pytest_with_their_points(tmp_path):
    import subprocess
    import sys

    for module, notebook, expected in [
        ("linear_regression", None, "dlbasics points: 18 / 18"),
        ("gradient_descent", KIT_ROOT / "samples" / "02-gradient-descent" / "bob.ipynb", "dlbasics points: 7 / 18"),
    ]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"autograder/checks/{module}.py"]
        if notebook:
            command += ["--dlbasics-notebook", str(notebook)]
        result = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
        assert expected in result.stdout, result.stdout[-3000:]


def test_check_command_explains_an_unreadable_notebook(tmp_path):
    empty = tmp_path / "linear_regression.ipynb"
    empty.write_text("")
    guessed = run_dlbasics("check", empty, check=False)
    assert guessed.returncode == 1 and "status: unreadable: the file is empty" in guessed.stdout
    unknown = tmp_path / "mine.ipynb"
    unknown.write_text("")
    result = run_dlbasics("check", unknown, check=False)
    assert result.returncode == 2 and "the file is empty" in result.stderr and "Traceback" not in result.stderr
