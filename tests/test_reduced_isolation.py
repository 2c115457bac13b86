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


# Written by the first submission wherever an account may write, outside its own folder; the
# second looks there. The mark is built at run time, so it is in no notebook.
PLANT = """\
import json, os
mark = "REDUCED" + "-LEAK-" + "{tag}"
planted = []
for folder in ("/tmp", "/var/tmp", "/dev/shm", os.path.dirname(os.getcwd())):
    try:
        path = os.path.join(folder, mark)
        with open(path, "w") as handle:
            handle.write(mark)
        os.chmod(path, 0o666)
        planted.append(path)
    except OSError:
        pass
raise RuntimeError("OBS " + json.dumps({{"planted": planted}}))
"""
LOOK = """\
import json, os
mark = "REDUCED" + "-LEAK-" + "{tag}"
found = [os.path.join(f, mark) for f in ("/tmp", "/var/tmp", "/dev/shm", os.path.dirname(os.getcwd()))
         if os.path.exists(os.path.join(f, mark))]
raise RuntimeError("OBS " + json.dumps({{"found": found}}))
"""


def test_reduced_mode_keeps_nothing_a_submission_wrote_outside_its_folder(tmp_path):
    """Without bubblewrap, a submission that writes in /tmp, /var/tmp and /dev/shm leaves
    nothing there for the next one (with --jobs 1, the next runs in the same worker)."""
    import json
    import re
    import uuid

    tag = uuid.uuid4().hex[:8]
    assignment = ASSIGNMENTS["02-gradient-descent"]
    submissions = tmp_path / "submissions"
    answers = solution_answers(assignment)
    write(fill(assignment, answers, extra_cells=[PLANT.format(tag=tag)]), submissions / "a-planter.ipynb")
    write(fill(assignment, answers, extra_cells=[LOOK.format(tag=tag)]), submissions / "b-look.ipynb")
    out = tmp_path / "out"
    process = run_dlbasics("grade", assignment.id, submissions, "--out", out, "--jobs", "1",
                           env={"DLBASICS_SANDBOX": "rlimits"})
    run = read_outputs(out, process)

    def observed(student):
        for cell in run.results[student].cells:
            match = re.search(r"OBS (\{.*\})", cell.message)
            if match:
                return json.loads(match.group(1))
        raise AssertionError(f"{student}'s probe did not report: {run.results[student].cells}")

    assert observed("a-planter")["planted"], "the planter could write nowhere: the test shows nothing"
    assert observed("b-look")["found"] == []
    full = sum(load_template(assignment).points.values())
    assert run.results["b-look"].auto_total == full and run.results["a-planter"].auto_total == full
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(folder, f"REDUCED-LEAK-{tag}")), folder
