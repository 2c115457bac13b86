"""Intake: what a student controls about the *file* — its name, its type, links, its size —
never stops the batch, never reaches a file it should not, and never costs a neighbour a grade.

One batch through the real `dlbasics grade`, every hostile entry next to fully answered
notebooks (which must keep full marks): a hostile case that scored zero anyway would prove
nothing, so each case below is an otherwise correct notebook or a link to one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template
from autograder.grading.intake import folder_name, student_folder
from autograder.notebook.fill import fill, solution_answers, write

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
FULL = sum(load_template(ASSIGNMENT).points.values())
SOLUTION = ASSIGNMENT.solution
# Words of the model written answer: if they show up in any output, a link was followed.
MODEL_ANSWER_MARK = max(re.findall(r"[A-Za-z ,]{25,}", solution_answers(ASSIGNMENT)[
    next(iter(load_template(ASSIGNMENT).written))]), key=len).strip()


def reference() -> dict:
    """Every function answered; the written answer in the student's own words, not the model's."""
    written = next(iter(load_template(ASSIGNMENT).written))
    return fill(ASSIGNMENT, {**solution_answers(ASSIGNMENT), written: "My own answer, in my own words."})


def with_cell(notebook: dict, source: str) -> dict:
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "id": f"added-{len(notebook['cells'])}", "source": source})
    return notebook


def every_output(out) -> str:
    """The text of every file the run wrote (binary files decoded loosely), and every stored answer.

    The review pages show graders the model answer on purpose, in a <details> block of their
    own: that block is left out; what students wrote, anywhere, is not.
    """
    import sqlite3

    texts = [re.sub(r"<details.*?</details>", "", p.read_bytes().decode("utf-8", "replace"), flags=re.S)
             for p in out.rglob("*") if p.is_file() and p.suffix != ".sqlite"]
    db = sqlite3.connect(out / "gradebook.sqlite")
    texts += [row[0] for row in db.execute("SELECT result FROM grades")]
    db.close()
    return "\n".join(texts)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = tmp_path_factory.mktemp("intake")
    subs = work / "submissions"
    subs.mkdir()
    write(reference(), subs / "honest.ipynb")
    # Text that cannot be encoded (a lone surrogate) in an error message and a written answer.
    surrogate = with_cell(reference(), "raise ValueError('bad \\ud800 text')\n")
    for cell in surrogate["cells"]:
        if str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")).startswith("written"):
            cell["source"] = "An answer with a lone surrogate: \ud800 and more."
    (subs / "surrogate.ipynb").write_text(json.dumps(surrogate), encoding="utf-8")  # json escapes it as \\ud800
    # A file name that is not UTF-8.
    with open(os.path.join(os.fsencode(subs), b"bad\xffname.ipynb"), "w") as handle:
        json.dump(reference(), handle)
    # Student ids equal to the kit's own output names.
    for name in ("grades.csv", "gradebook.sqlite", "summary.html", "feedback", "review", "histogram.png"):
        write(reference(), subs / f"{name}.ipynb")
    # A FIFO and links: to a device, to the kit's solution, to a secret, a linked student folder.
    os.mkfifo(subs / "fifo.ipynb")
    os.symlink("/dev/zero", subs / "zero.ipynb")
    os.symlink(SOLUTION, subs / "cheat.ipynb")
    os.symlink("/etc/shadow", subs / "shadow.ipynb")
    os.symlink(SOLUTION.parent, subs / "linked-folder")
    # One student, two submissions (a file and a folder for "name"): one row, the other file listed;
    # a real "name~2" keeps its own row.
    write(reference(), subs / "name.ipynb")
    write(reference(), subs / "name" / ASSIGNMENT.notebook)
    write(reference(), subs / "name~2.ipynb")
    # A folder with two notebooks, none named like the template: ambiguous, reported.
    write(reference(), subs / "twins" / "Untitled.ipynb")
    write(reference(), subs / "twins" / "copy.ipynb")
    # An empty Untitled.ipynb beside the real work, saved as a copy: the copy is graded.
    (subs / "copied" / "Untitled.ipynb").parent.mkdir(parents=True)
    (subs / "copied" / "Untitled.ipynb").write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, '
        '"source": "1 + 1", "outputs": [], "execution_count": null}]}')
    write(reference(), subs / "copied" / ASSIGNMENT.notebook.replace(".ipynb", "-Copy1.ipynb"))
    # nbgrader's submitted/<student>/<assignment>/ layout.
    write(reference(), subs / "nbg" / ASSIGNMENT.id / ASSIGNMENT.notebook)
    # Malformed shapes: the file's fault, never the grader's.
    odd = reference()
    odd["nbformat"] = "4"
    write(odd, subs / "nbformat-string.ipynb")
    listed = reference()
    for cell in listed["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id") == "predict":
            meta["grade_id"] = ["predict"]
    write(listed, subs / "list-grade-id.ipynb")
    (subs / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    out = work / "out"
    process = run_dlbasics("grade", ASSIGNMENT.id, subs, "--out", out, "--quiet", "--jobs", "2", timeout=600)
    return read_outputs(out, process), out


def test_the_batch_completes_and_honest_work_keeps_full_marks(batch):
    run, out = batch
    assert "name~3" not in run.rows and f"{ASSIGNMENT.notebook} counts (named {ASSIGNMENT.notebook})" in \
        run.process.stderr
    for student in ("honest", "copied", "name", "name~2", "grades.csv", "gradebook.sqlite", "summary.html",
                    "feedback", "review", "histogram.png", "nbg", "list-grade-id"):
        assert float(run.rows[student]["total"]) == FULL, (student, run.results[student].message)
    assert (out / "grades.csv").is_file() and (out / "gradebook.sqlite").is_file()
    assert (out / "summary.html").is_file() and (out / "histogram.png").is_file()


def test_text_that_cannot_be_encoded_is_made_valid_not_fatal(batch):
    run, out = batch
    assert float(run.rows["surrogate"]["total"]) == FULL
    folder = student_folder(out, "surrogate")
    assert "bad \ufffd text" in (folder / "feedback.html").read_text(encoding="utf-8")
    assert any("\ufffd and more" in w.answer for w in run.results["surrogate"].written.values())


def test_a_file_name_that_is_not_utf8_keeps_a_readable_distinct_id(batch):
    run, out = batch
    assert float(run.rows["bad\\xffname"]["total"]) == FULL
    assert (student_folder(out, "bad\\xffname") / "results.json").is_file()


@pytest.mark.parametrize("student, reason", [
    ("fifo", "FIFO"), ("zero", "symbolic link"), ("cheat", "symbolic link"), ("shadow", "symbolic link"),
    ("linked-folder", "symbolic link"), ("twins", "notebooks were submitted"), ("deep", "nested too deeply"),
    ("nbformat-string", "format version"),
])
def test_what_cannot_be_graded_gets_a_row_that_says_why(batch, student, reason):
    run, _ = batch
    result = run.results[student]
    assert result.status == "unreadable" and result.auto_total == 0
    assert reason in result.message, result.message
    assert run.rows[student]["status"] == "unreadable"


def test_links_are_never_followed_into_any_output(batch):
    run, out = batch
    text = every_output(out)
    assert MODEL_ANSWER_MARK not in text, "the model answer reached an output through a link"
    assert "root:" not in text


def test_every_student_has_exactly_one_row_and_one_folder(batch):
    run, out = batch
    assert set(run.rows) == set(run.results)
    folders = [p.name for p in (out / "feedback").iterdir()]
    assert len(folders) == len(set(folders)) == len(run.rows)
    assert sorted(folders) == sorted(folder_name(s) for s in run.rows)


def test_a_folder_of_links_and_fifos_does_not_block(tmp_path):
    """A FIFO would block an ordinary open forever; the run must end on its own."""
    subs = tmp_path / "subs"
    subs.mkdir()
    os.mkfifo(subs / "a.ipynb")
    process = run_dlbasics("grade", ASSIGNMENT.id, subs, "--out", tmp_path / "out", "--quiet", timeout=120)
    assert read_outputs(tmp_path / "out", process).results["a"].status == "unreadable"


def test_a_grader_fault_is_its_own_status_and_fails_the_command(tmp_path):
    """A check that raises is the grader's fault: no points for it, status 'grader error', exit 1."""
    write(reference(), tmp_path / "subs" / "alice.ipynb")
    script = (
        "import sys\n"
        "from autograder.checks import Assignment\n"
        "from autograder.selfcheck.api import points\n"
        "@points(0, 'predict')\n"
        "def test_broken_check(student):\n"
        "    raise KeyError('expected value missing')\n"
        "original = Assignment.checks\n"
        "Assignment.checks = lambda self: original(self) + [test_broken_check]\n"
        "from autograder.cli import main\n"
        f"sys.exit(main(['grade', '{ASSIGNMENT.id}', {str(tmp_path / 'subs')!r}, '--out', "
        f"{str(tmp_path / 'out')!r}, '--quiet']))\n")
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=KIT_ROOT,
                             timeout=300)
    assert process.returncode == 1, process.stderr
    assert "grader itself failed" in process.stderr
    run = read_outputs(tmp_path / "out", process)
    assert run.rows["alice"]["status"] == "grader error"
    assert run.results["alice"].questions["predict"].status == "grader error"
    assert float(run.rows["alice"]["total"]) == FULL  # the working checks still count


def test_ctrl_c_ends_with_one_line_and_the_rerun_resumes(tmp_path):
    subs = tmp_path / "subs"
    for number in range(6):
        write(reference(), subs / f"s{number}.ipynb")
    out = tmp_path / "out"
    # SIGINT at its default in the child: a shell that starts this suite in the background (`make
    # test &`) ignores SIGINT, the child would inherit that, and Python installs no Ctrl-C handler then.
    process = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT.id, str(subs), "--out",
                                str(out), "--quiet", "--jobs", "1"], cwd=KIT_ROOT, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / "gradebook.sqlite").exists():
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    rerun = run_dlbasics("grade", ASSIGNMENT.id, subs, "--out", out, "--quiet")
    assert len(read_outputs(out, rerun).rows) == 6


def test_a_failed_write_stops_nothing_and_the_outputs_are_regenerated_from_the_gradebook(tmp_path):
    """A file where alice's feedback folder belongs: her files cannot be written, the rest are."""
    subs = tmp_path / "subs"
    for student in ("alice", "bob"):
        write(reference(), subs / f"{student}.ipynb")
    out = tmp_path / "out"
    blocker = student_folder(out, "alice")
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    process = run_dlbasics("grade", ASSIGNMENT.id, subs, "--out", out, "--quiet", check=False)
    assert process.returncode == 1 and "could not write the outputs of 'alice'" in process.stderr
    run = read_outputs(out, process)
    assert set(run.rows) == {"alice", "bob"} and float(run.rows["alice"]["total"]) == FULL
    assert (student_folder(out, "bob") / "feedback.html").is_file()
    blocker.unlink()
    report = run_dlbasics("report", ASSIGNMENT.id, "--out", out)
    assert "2 submission(s)" in report.stdout
    assert json.loads((student_folder(out, "alice") / "results.json").read_text())["score"] == FULL


def _nested(root, depth: int):
    """``depth`` folders one inside the other under ``root`` (made without recursion), deepest returned."""
    where = root
    for _ in range(depth):
        where = where / "a"
        os.mkdir(where)
    return where


def _remove_nested(root) -> None:
    """Remove a chain made by :func:`_nested` from the deepest folder up: Python 3.11's shutil.rmtree
    (and so pytest's clean-up of old temporary folders) recurses and fails on 1 100 levels."""
    chain = [root]
    while (chain[-1] / "a").is_dir():
        chain.append(chain[-1] / "a")
    for folder in reversed(chain):
        for entry in folder.iterdir():
            if not entry.is_dir():
                entry.unlink()
        folder.rmdir()


def test_an_upload_nested_deeper_than_any_stack_is_the_students_zero_not_a_crash(tmp_path, solution_notebook):
    """A zip of 1 100 nested folders made Python 3.11's recursive os.walk raise RecursionError: the
    Gradescope runner's "internal error", and a class batch that stopped."""
    try:
        _deep_upload(tmp_path, solution_notebook)
    finally:
        for top in (tmp_path / "deep", tmp_path / "class" / "deep"):
            if top.exists():
                _remove_nested(top)


def _deep_upload(tmp_path, solution_notebook) -> None:
    from autograder.grading.intake import MAX_FOLDER_DEPTH, find_notebook

    assignment = ASSIGNMENTS["01-linear-regression"]
    deep = tmp_path / "deep"
    deep.mkdir()
    write(solution_notebook(assignment.id), _nested(deep, 1100) / assignment.notebook)
    path, reason = find_notebook(deep, assignment)
    assert path is None and "no notebook" in reason
    shallow = tmp_path / "shallow"
    shallow.mkdir()
    write(solution_notebook(assignment.id), _nested(shallow, MAX_FOLDER_DEPTH) / assignment.notebook)
    assert find_notebook(shallow, assignment)[0] is not None  # as deep as an unzipped download can be: found
    # In a class: the deep folder is a student's row, the others are graded, the run ends 0.
    subs = tmp_path / "class"
    (subs / "deep").mkdir(parents=True)
    write(solution_notebook(assignment.id), _nested(subs / "deep", 1100) / assignment.notebook)
    write(solution_notebook(assignment.id), subs / "honest.ipynb")
    out = tmp_path / "out"
    run = run_dlbasics("grade", assignment.id, subs, "--out", out, "--quiet",
                       env={"DLBASICS_SEED": "the intake test's secret seed"})
    graded = read_outputs(out, run)
    assert graded.rows["honest"]["total"] == str(sum(load_template(assignment).points.values())).rstrip("0").rstrip(".")
    assert "deep" not in graded.rows or float(graded.rows["deep"]["total"]) == 0
