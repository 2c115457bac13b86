"""nbgrader's real exchange round trip, then `dlbasics grade` on the ``submitted/`` tree it collects.

``nbgrader release_assignment``, ``fetch_assignment``, ``submit`` (as two students, with
``--student``, as an exchange configured per user would) and ``collect`` run for real, in a
temporary course and exchange (``CourseDirectory.root``, ``Exchange.root``, ``Exchange.cache``),
late and on time, with a resubmission. The deadline is placed between the submissions, so the
days late are those nbgrader's own ``timestamp.txt`` imply, read with nbgrader's own
``parse_utc``; the collected files' modification times are then set elsewhere (as a copy
that did not keep them would) to show they play no part.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.notebook.fill import fill, solution_answers, write

A = ASSIGNMENTS["01-linear-regression"]
POINTS = load_template(A).points
COURSE_ID = "dl101"
# The gap between two submissions that the deadline is put into: enough for two distinct
# nbgrader timestamps (microseconds) on a loaded machine.
GAP_SECONDS = 1.5


def nbgrader(work, *args, cwd):
    # nbgrader runs `alembic` from PATH to open its gradebook.db: the venv's.
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(work / "jupyter-config"), "HOME": str(work / "home"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    process = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--course={COURSE_ID}",
                              f"--Exchange.root={work / 'exchange'}", f"--Exchange.cache={work / 'cache'}"],
                             cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
    return process


def stamp_of(course, student):
    from nbgrader.utils import parse_utc  # nbgrader's own reading of its stamp

    text = (course / "submitted" / student / A.id / "timestamp.txt").read_text()
    return parse_utc(text).replace(tzinfo=dt.UTC), text


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    work = tmp_path_factory.mktemp("exchange")
    (work / "exchange").mkdir()
    (work / "home").mkdir()
    course = work / "course"
    shutil.copytree(A.release.parent, course / "release" / A.id)
    nbgrader(work, "release_assignment", A.id, f"--CourseDirectory.root={course}", cwd=course)

    def submit(student: str, notebook: dict):
        home = work / "students" / student
        home.mkdir(parents=True, exist_ok=True)
        if not (home / A.id).exists():
            nbgrader(work, "fetch_assignment", A.id, cwd=home)
        write(notebook, home / A.id / A.notebook)
        nbgrader(work, "submit", A.id, f"--student={student}", cwd=home)

    def collect():
        nbgrader(work, "collect", A.id, f"--CourseDirectory.root={course}", "--CollectApp.check_owner=False",
                 "--update", cwd=course)

    answered = fill(A, solution_answers(A))
    broken = fill(A, {**solution_answers(A), "predict": "def predict(x, m, b):\n    return b * x + m\n"})
    submit("bob", answered)
    submit("alice", answered)  # on time
    collect()
    older = work / "older"
    shutil.copytree(course / "submitted", older / "submitted")  # a download taken before the resubmission
    time.sleep(GAP_SECONDS)
    submit("alice", broken)  # the resubmission, after the deadline
    collect()
    alice_first = stamp_of(older, "alice")[0]
    alice_last = stamp_of(course, "alice")[0]
    assert alice_last - alice_first >= dt.timedelta(seconds=1)
    due = alice_first + (alice_last - alice_first) / 2
    for tree in (course, older):  # file times that say something else: not the record
        for path in (tree / "submitted").rglob("*.ipynb"):
            os.utime(path, (due.timestamp() - 9 * 86400,) * 2)
    root = work / "dlcourse"
    run_dlbasics("init", root)
    (root / "roster.csv").write_text("id,name,email,lms_id,section\nalice,Alice A,alice@uni.edu,,A\n"
                                     "bob,Bob B,bob@uni.edu,,A\n")
    config = (root / "course.toml").read_text().replace("grace_minutes = 15", "grace_minutes = 0")
    (root / "course.toml").write_text(config.replace("[due]\n", f'[due]\n"{A.id}" = "{due.isoformat()}"\n'))
    return work, course, older, root, due


def expected_days(course, student, due) -> int:
    when, _ = stamp_of(course, student)
    return max(0, math.ceil((when - due).total_seconds() / 86400))


def test_nbgraders_exchange_gives_the_exact_days_late_and_the_newest_submission_counts(exchange):
    work, course, older, root, due = exchange
    process = run_dlbasics("grade", A.id, course / "submitted", "--course", root, "--quiet")
    out = root / "grades" / A.id
    graded = read_outputs(out, process)
    assert expected_days(course, "alice", due) == 1 and expected_days(course, "bob", due) == 0
    for student in ("alice", "bob"):
        row = graded.rows[student]
        assert row["days late"] == str(expected_days(course, student, due))
        assert row["submitted"] == stamp_of(course, student)[0].isoformat(timespec="seconds")
        assert row["file"] == A.notebook
    # The resubmission is what counts: its broken predict, not the first version's.
    assert float(graded.rows["alice"]["automatic"]) == sum(POINTS.values()) - POINTS["predict"]
    assert float(graded.rows["bob"]["automatic"]) == sum(POINTS.values())

    # A rerun over the older download never puts the older grade back ...
    rerun = run_dlbasics("grade", A.id, older / "submitted", "--course", root, "--quiet")
    assert "kept alice's newer graded submission" in rerun.stderr and "--replace" in rerun.stderr
    again = read_outputs(out, rerun)
    assert again.rows["alice"]["automatic"] == graded.rows["alice"]["automatic"]
    assert again.rows["alice"]["days late"] == "1"
    # ... unless asked to; and the lateness follows the record graded, also for bob's reused grade.
    replaced = run_dlbasics("grade", A.id, older / "submitted", "--course", root, "--quiet", "--replace")
    assert f"alice: predict 0 -> {POINTS['predict']:g}" in replaced.stdout
    final = read_outputs(out, replaced)
    assert final.rows["alice"]["days late"] == "0"
    assert final.rows["alice"]["submitted"] == stamp_of(older, "alice")[0].isoformat(timespec="seconds")
    assert final.rows["bob"]["submitted"] == stamp_of(older, "bob")[0].isoformat(timespec="seconds")
