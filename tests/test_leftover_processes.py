"""A process a submission leaves behind (forked, detached with setsid) does not outlive its grading:
the worker's clean-up kills every process of the job's uid before the next submission runs."""

from __future__ import annotations

import json
import os
import re
import uuid

import pytest
from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.notebook.fill import fill, solution_answers, write

# A detached child that names itself (its /proc/PID/comm) and sleeps far past its job's end.
PLANT = """\
import ctypes, os, time
if os.fork() == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(15, b"{tag}", 0, 0, 0)  # PR_SET_NAME
    time.sleep(120)
    os._exit(0)
time.sleep(0.2)  # the child has named itself before this job ends
"""

# The next submission (same worker: --jobs 1) lists the processes it can see by that name.
LOOK = """\
import json, os
seen = []
for pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{{pid}}/comm") as comm:
            if comm.read().strip() == "{tag}":
                seen.append(pid)
    except OSError:
        pass
raise RuntimeError("OBS " + json.dumps({{"seen": seen}}))
"""

SEE_ITSELF = """\
import ctypes, json, os
ctypes.CDLL(None).prctl(15, b"{tag}", 0, 0, 0)
seen = [p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{{p}}/comm").read().strip() == "{tag}"]
ctypes.CDLL(None).prctl(15, b"python", 0, 0, 0)
raise RuntimeError("OBS " + json.dumps({{"seen": seen}}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid per submission needs a grader running as root")
def test_a_detached_process_of_one_submission_is_gone_before_the_next(tmp_path):
    tag = "lo" + uuid.uuid4().hex[:10]  # comm holds 15 characters
    assignment = ASSIGNMENTS["02-gradient-descent"]
    answers = solution_answers(assignment)
    submissions = tmp_path / "submissions"
    # The looker's probe can see a process by name at all (else the test shows nothing).
    write(fill(assignment, answers, extra_cells=[SEE_ITSELF.format(tag=tag + "s")]), submissions / "a-self.ipynb")
    write(fill(assignment, answers, extra_cells=[PLANT.format(tag=tag)]), submissions / "b-planter.ipynb")
    write(fill(assignment, answers, extra_cells=[LOOK.format(tag=tag)]), submissions / "c-look.ipynb")
    out = tmp_path / "out"
    process = run_dlbasics("grade", assignment.id, submissions, "--out", out, "--jobs", "1",
                           env={"DLBASICS_SEED": "a seed for the leftover test"})
    run = read_outputs(out, process)

    def observed(student):
        for cell in run.results[student].cells:
            match = re.search(r"OBS (\{.*\})", cell.message)
            if match:
                return json.loads(match.group(1))
        raise AssertionError(f"{student}'s probe did not report: {run.results[student].cells}")

    assert observed("a-self")["seen"], "a submission cannot see a process by its name: the test shows nothing"
    assert observed("c-look")["seen"] == [], "the planter's detached process outlived its submission"
