"""A batch killed at any point resumes: each submission is recorded exactly once and none is lost.

One class is graded by a run that is SIGKILLed (no chance to clean up) after its first
submission, the next run is killed at half the class, the next with one submission left, and a
last run finishes. At each kill, every submission the run had reported done (its progress bar)
must already be in the gradebook: a grader that commits only at the end of a batch, or after a
few, loses finished work here. At the end the gradebook's history holds exactly one grade per
submission (none graded twice, none lost) and every total is right.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template
from autograder.notebook.fill import fill, solution_answers, write

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
FULL = sum(load_template(ASSIGNMENT).points.values())
STUDENTS = [f"student{number}" for number in range(6)]  # six: kills after 1, 3 (half) and 5 (all but one)
# tqdm's line on stderr: "grading 01-linear-regression:  17%|#6   | 1/6 [00:02<00:10, ...]".
PROGRESS = re.compile(r"(\d+)/(\d+) \[")
# One run of six reference notebooks takes well under a minute on an idle machine; a loaded
# machine (several test suites on two cores) can take several times longer.
RUN_SECONDS = 300


def recorded(database) -> dict[str, int]:
    """Grades recorded per student (the history keeps every grade ever given)."""
    if not database.exists():
        return {}
    db = sqlite3.connect(database)
    try:
        return dict(db.execute("SELECT student, COUNT(*) FROM history GROUP BY student").fetchall())
    except sqlite3.Error:  # the first run has not made its tables yet
        return {}
    finally:
        db.close()


def kill_after(submissions, out, target: int) -> tuple[int, dict[str, int]]:
    """Grade until ``target`` submissions are reported done or recorded, then SIGKILL the whole run.

    Returns the progress the run had reported and what the gradebook held at the kill.
    """
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT.id, str(submissions), "--out", str(out),
               "--jobs", "1"]
    process = subprocess.Popen(command, cwd=KIT_ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    reported = [0]

    def read_progress():
        for chunk in iter(lambda: process.stderr.read1(4096), b""):
            for done, _ in PROGRESS.findall(chunk.decode("utf-8", "replace")):
                reported[0] = max(reported[0], int(done))

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    database = out / "gradebook.sqlite"
    deadline = time.monotonic() + RUN_SECONDS
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if reported[0] >= target or sum(recorded(database).values()) >= target:
                break
            time.sleep(0.02)
        # What the run had reported before the kill: read first, so nothing it reports later counts.
        seen = reported[0]
        assert process.poll() is None, f"the run ended before {target} submissions were done: no kill to resume from"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=10)
    return seen, recorded(database)


def test_a_batch_killed_three_times_records_each_submission_exactly_once(tmp_path):
    submissions = tmp_path / "submissions"
    notebook = fill(ASSIGNMENT, solution_answers(ASSIGNMENT))
    for student in STUDENTS:
        write(notebook, submissions / f"{student}.ipynb")
    out = tmp_path / "out"
    for target in (1, len(STUDENTS) // 2, len(STUDENTS) - 1):
        reported, at_kill = kill_after(submissions, out, target)
        assert sum(at_kill.values()) >= reported, (
            f"the run reported {reported} submissions done but the gradebook held {sum(at_kill.values())} "
            "when it was killed: finished work was not committed")
        assert sum(at_kill.values()) < len(STUDENTS), "the kill should land before the batch is done"
        assert all(count == 1 for count in at_kill.values()), f"a submission was recorded twice: {at_kill}"
    before_last = sum(recorded(out / "gradebook.sqlite").values())
    assert before_last >= len(STUDENTS) - 1
    final = run_dlbasics("grade", ASSIGNMENT.id, submissions, "--out", out, "--jobs", "1", timeout=RUN_SECONDS)
    reused = int(final.stdout.split("reused ")[1].split()[0])
    assert reused == before_last, f"what was recorded before the last kill is graded again: {final.stdout}"
    history = recorded(out / "gradebook.sqlite")
    assert history == {student: 1 for student in STUDENTS}, f"each submission graded exactly once: {history}"
    run = read_outputs(out, final)
    assert {student: float(run.rows[student]["total"]) for student in STUDENTS} == dict.fromkeys(STUDENTS, FULL)
