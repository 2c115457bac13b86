"""Without bubblewrap the grader still grades, still fails closed, and says isolation was reduced."""

from __future__ import annotations

import os

from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.notebook.fill import fill, solution_answers, write


def test_rlimits_only_mode_grades_and_reports_reduced_isolation(tmp_path):
    assignment = ASSIGNMENTS["02-gradient-descent"]
    submissions = tmp_path / "submissions"
    write(fill(assignment, solution_answers(assignment)), submissions / "honest.ipynb")
    for name, code in {"loop": "while True:\n    pass\n", "exit": "import os\nos._exit(0)\n"}.items():
        write(fill(assignment, {}, extra_cells=[code]), submissions / f"{name}.ipynb")
    out = tmp_path / "out"
    process = run_dlbasics("grade", assignment.id, submissions, "--out", out, env={"DLBASICS_SANDBOX": "rlimits"})
    run = read_outputs(out, process)
    assert float(run.rows["honest"]["automatic"]) == sum(load_template(assignment).points.values())
    assert float(run.rows["loop"]["total"]) == 0 and float(run.rows["exit"]["total"]) == 0
    assert run.results["exit"].status == "crashed"
    for result in run.results.values():
        assert result.isolation == "rlimits" and "isolation reduced" in result.isolation_note
    assert "isolation reduced" in process.stdout
    handed_back = run.gradescope("honest")  # the note is for the instructor: a test students never see
    assert "isolation reduced" not in handed_back["output"]
    assert [t for t in handed_back["tests"] if t["visibility"] == "hidden" and "isolation reduced" in t["output"]]
    assert not any(name.startswith("dlbasics-scratch-") for name in os.listdir("/tmp")), "scratch left behind"
