"""Hostile submissions: nothing escapes, nothing hangs, nothing is lost, and honest work keeps its points.

Every hostile case is an ANSWERED notebook (the reference answers) plus hostile code, graded in
one batch beside honest submissions through the real `dlbasics grade` command. In a blank
notebook "earns nothing" always holds, so a broken sandbox would pass unseen; here each case must
keep exactly the points of its honest part, and its own effect is asserted: what it read is in
no output, what it wrote changed nothing, nothing reached the network, results.json was not
forged. ``tests/test_mutations.py`` breaks each guard and watches these tests fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import grade_notebooks

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template

ASSIGNMENT = "01-linear-regression"
POINTS = load_template(ASSIGNMENTS[ASSIGNMENT]).points  # points per question, from the assignment's checks
FULL = sum(POINTS.values())
SECRET_TARGETS = ["solutions/01-linear-regression/linear_regression.ipynb", "solutions/01-linear-regression/checks.py",
                  "solutions/01-linear-regression/reference.py"]
# Written by hostile code only when it managed to read a secret, built at run time so that the
# notebook's own source (which the outputs may quote) never holds it.
READ_MARK = "SECRET" + "-READ"
LEAK_MARK = "HIDDEN" + "-LEAK"

# Code appended to an answered notebook (after every answer cell).
TOP_LEVEL = {
    "frame-walk": "import sys, gc, inspect\nframes = [f for f in gc.get_objects() if inspect.isframe(f)]\n"
                  "f = sys._getframe()\nwhile f: f.f_globals.setdefault('EXPECTED', {{}}); f = f.f_back\n",
    "ignore-signals": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                      "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass\n",
    # If a secret is readable, it is carried into every output a student sees: predict raises
    # with it (a public check's message quotes the student's error), so a leak shows twice,
    # as lost points and as the mark in the files.
    "read-secrets": "import pathlib\nleak = []\nfor p in map(pathlib.Path, {targets!r}):\n"
                    "    try: leak.append(p.read_text()[:300])\n    except Exception: pass\n"
                    "if leak:\n    MARK = '-'.join(['SECRET', 'READ'])\n"
                    "    def predict(x, m, b):\n        raise RuntimeError(MARK + ' ' + ' '.join(leak))\n"
                    "    print(MARK, leak)\n",
    "write-everywhere": "import pathlib\nfor p in {paths!r}:\n    try: pathlib.Path(p).write_text('pwned')\n"
                        "    except Exception: pass\n",
    "network": "import socket\ntry:\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
               "    s.sendall(b'leak')\nexcept OSError:\n    pass\n",
    "sys-exit": "import sys\nsys.exit(0)\n",
    "os-exit": "import os\nos._exit(0)\n",
    "kill-parent": "import os\nos.kill(os.getppid(), 9)\n",
    "keyboard-interrupt": "raise KeyboardInterrupt\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "infinite-loop": "while True:\n    pass\n",
    "memory-bomb": "x = bytearray(8 * 1024 ** 3)\n",
    "fork-storm": "import os, time\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
                  "            time.sleep(2); os._exit(0)\n    except OSError: break\n",
    "print-100mb": "import sys\nfor _ in range(100):\n    print('x' * 1_000_000)\n",
    "write-1gb": "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'0' * 2**20)\n",
    "sleep": "import time\ntime.sleep(600)\n",
    "forged-results": "import json, pathlib\nfor p in {paths!r}:\n"
                      "    try: pathlib.Path(p).parent.mkdir(parents=True, exist_ok=True); "
                      "pathlib.Path(p).write_text(json.dumps({{'score': 100}}))\n    except Exception: pass\n",
    "plant-modules": "import pathlib, site, sys\nfor d in set(sys.path + [site.getusersitepackages(), '.']):\n"
                     "    for n in ('sitecustomize.py', 'torch.py', 'conftest.py', 'evil.pth'):\n"
                     "        try: (pathlib.Path(d or '.') / n).write_text('raise SystemExit')\n"
                     "        except Exception: pass\n",
}

# A wrong predict that patches the comparisons it hopes the grader makes in its process: the
# grader compares in its own process, so the lie costs exactly predict's points.
MONKEYPATCH = ("predict", "import builtins, math, torch, numpy\n"
               "def predict(x, m, b):\n    return m * x\n"
               "builtins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\n"
               "math.isfinite = lambda x: True\ntorch.allclose = lambda *a, **k: True\n"
               "numpy.allclose = lambda *a, **k: True\n")

# Whole answers that lie to the grader instead of computing: each costs its own question only.
LYING = {
    "monkeypatch-builtins": MONKEYPATCH,
    "lying-float": ("predict", "class Liar(float):\n    def __eq__(self, o): return True\n"
                    "    def __sub__(self, o): return 0.0\n    def __abs__(self): return 0.0\n"
                    "    def __lt__(self, o): return True\n    def __float__(self): return 7.0\n"
                    "def predict(x, m, b):\n    return Liar(12345.0)\n"),
    "raises-systemexit": ("predict", "def predict(x, m, b):\n    raise SystemExit(0)\n"),
    "raises-keyboardinterrupt": ("train_model", "def train_model(model, x, y, lr, epochs):\n"
                                                "    raise KeyboardInterrupt\n"),
    "loop-in-function": ("train_model", "def train_model(model, x, y, lr, epochs):\n    while True:\n        pass\n"),
    # The hidden inputs travel out only through the student's own words (an error message, a
    # returned string): HiddenInputs replaces them for hidden checks. On the course's data
    # (public_checks.HOURS) the answer is honest, so the public checks pass and only the hidden ones are lost.
    "leak-hidden-inputs": ("fit_least_squares",
                           "import torch\n"
                           "def fit_least_squares(x, y):\n"
                           "    if x.flatten().tolist() != [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]:\n"
                           "        mark = '-'.join(['HIDDEN', 'LEAK'])\n"
                           "        raise ValueError(mark + repr(x.flatten().tolist()) + repr(y.flatten().tolist()))\n"
                           "    n = x.shape[0]\n"
                           "    mx, my = x.mean(), y.mean()\n"
                           "    m = ((x - mx) * (y - my)).sum() / ((x - mx) ** 2).sum()\n"
                           "    return float(m), float(my - m * mx)\n"),
}


def _fingerprint(*roots: Path) -> dict[str, str]:
    """Hashes of every file a submission could want to change: the kit and the submissions."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots for p in root.rglob("*")
            if p.is_file() and not {".venv", "__pycache__", ".git"} & set(p.parts)}


KIT_PARTS = [KIT_ROOT / part for part in ("autograder", "solutions", "assignments", "samples")]


def every_output_text(out: Path) -> str:
    """Every file the run wrote (feedback, results.json, CSVs, summaries, the gradebook's bytes), as text."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(out.rglob("*")) if p.is_file())


@pytest.fixture(scope="module")
def listener():
    """A TCP listener on 127.0.0.1 that records whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                hits.append(connection.recv(100))
                connection.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


def hostile_notebooks(work: Path, port: int, names=None) -> dict[str, dict]:
    """The honest pair and every hostile case (or those ``names``), each an answered notebook."""
    from autograder.notebook.fill import fill, solution_answers

    assignment = ASSIGNMENTS[ASSIGNMENT]
    answers = solution_answers(assignment)
    out = work / "out"
    victims = [str(KIT_ROOT / t) for t in SECRET_TARGETS] + [str(work / "submissions" / "honest-1.ipynb"),
                                                             str(out / "grades.csv"), str(out / "gradebook.sqlite")]
    forged = [str(out / "feedback" / "honest-1" / "results.json"),
              str(out / "feedback" / "forged-results" / "results.json")]
    notebooks = {"honest-1": fill(assignment, answers), "honest-2": fill(assignment, answers)}
    for name, code in TOP_LEVEL.items():
        if names is None or name in names:
            source = code.format(targets=[str(KIT_ROOT / t) for t in SECRET_TARGETS],
                                 paths=victims if name != "forged-results" else forged, port=port)
            notebooks[name] = fill(assignment, answers, extra_cells=[source])
    for name, (question, source) in LYING.items():
        if names is None or name in names:
            notebooks[name] = fill(assignment, {**answers, question: source})
    return notebooks


@pytest.fixture(scope="module")
def batch(tmp_path_factory, listener):
    work = tmp_path_factory.mktemp("hostile")
    port, hits = listener
    before: dict[str, str] = {}
    notebooks = hostile_notebooks(work, port)
    started = time.monotonic()
    run = grade_notebooks(ASSIGNMENT, notebooks, work, "--jobs", "2", timeout=900,
                          before_grading=lambda: before.update(_fingerprint(*KIT_PARTS, work / "submissions")))
    return run, time.monotonic() - started, before, _fingerprint(*KIT_PARTS, work / "submissions"), hits, notebooks


def test_every_submission_has_a_row_and_honest_ones_keep_full_marks(batch):
    run, _, _, _, _, notebooks = batch
    assert set(run.rows) == set(notebooks)
    for honest in ("honest-1", "honest-2"):
        assert float(run.rows[honest]["automatic"]) == FULL


# Cells that end or stall their own process for good: the notebook's cells never finish, so the
# grader cannot call the answers in it and every question is 0, with the reason (a timer the
# child blocked ends in a kill, which reads as a crash or a timeout).
ENDS_ITS_PROCESS = {"ignore-signals": {"timeout", "crashed"}, "os-exit": {"crashed"}, "segfault": {"crashed"}}


@pytest.mark.parametrize("name", sorted(ENDS_ITS_PROCESS))
def test_a_cell_that_ends_its_own_process_gets_zero_and_the_reason(batch, name):
    run, *_ = batch
    result = run.results[name]
    assert result.auto_total == 0
    assert {str(q.status) for q in result.questions.values()} <= ENDS_ITS_PROCESS[name], result.questions
    assert "did not finish" in " ".join(c.message for c in run.checks(name))


@pytest.mark.parametrize("name", [n for n in TOP_LEVEL if n not in ENDS_ITS_PROCESS])
def test_hostile_code_after_the_answers_costs_nothing_and_gains_nothing(batch, name):
    """The answers are honest: full marks, whatever the added cell did (a cell that runs too
    long is interrupted at its limit; the notebook goes on)."""
    run, *_ = batch
    result = run.results[name]
    lost = {q: (info.points, info.status, [c.message for c in run.checks(name, q) if c.points < c.max_points])
            for q, info in result.questions.items() if info.points < POINTS[q]}
    assert result.auto_total == FULL, lost
    assert float(run.rows[name]["automatic"]) == FULL


@pytest.mark.parametrize("name", list(LYING))
def test_a_lying_answer_costs_exactly_its_question(batch, name):
    run, *_ = batch
    question = LYING[name][0]
    result = run.results[name]
    assert result.questions[question].points == 0 or (
        name == "leak-hidden-inputs" and 0 < result.questions[question].points < POINTS[question]), result.questions
    earned = {q: info.points for q, info in result.questions.items() if q != question}
    if name == "monkeypatch-builtins":
        # Its patches break the student's own process too (abs is 0 there): the lie gains
        # nothing, and what it breaks of the other answers is its own loss.
        assert result.auto_total <= FULL - POINTS[question]
        return
    assert earned == {q: p for q, p in POINTS.items() if q != question}, "the honest answers lost points"
    assert result.questions[question].status != "passed"


def test_a_secret_read_reaches_no_output(batch):
    """The sandbox hides the solutions: the reader finds nothing, keeps full marks, and no output holds its mark."""
    run, *_ = batch
    assert run.results["read-secrets"].auto_total == FULL
    assert READ_MARK not in every_output_text(run.out)


def test_hidden_inputs_reach_no_output_through_the_students_words(batch):
    run, *_ = batch
    result = run.results["leak-hidden-inputs"]
    public = [c for c in run.checks("leak-hidden-inputs", "fit_least_squares") if not c.hidden]
    hidden = [c for c in run.checks("leak-hidden-inputs", "fit_least_squares") if c.hidden]
    assert public and all(c.points == c.max_points for c in public)
    assert hidden and all(c.points == 0 for c in hidden)
    assert any("raised ValueError" in c.message for c in hidden), [c.message for c in hidden]
    assert result.auto_total == FULL - sum(c.max_points for c in hidden)
    assert LEAK_MARK not in every_output_text(run.out)


def test_nothing_outside_the_output_folder_changed(batch):
    run, _, before, after, hits, _ = batch
    assert before == after
    assert hits == [], "a submission reached the network"
    assert float(run.rows["honest-1"]["automatic"]) == FULL
    forged = run.gradescope("honest-1")
    assert forged["score"] == FULL
    assert run.gradescope("forged-results")["score"] == FULL  # its own, not the 100 it wrote


def test_each_case_ends_within_its_own_limit_plus_a_few_seconds(batch):
    from autograder.sandbox.pool import Limits

    run, *_ = batch
    limits = Limits()
    # The longest a single case may legitimately take: one cell or call limit, the 2 s grace
    # for a child that blocks its timer, and a few seconds of slack for a loaded machine.
    bound = max(limits.cell_seconds, limits.call_seconds) + 2 + 5
    slow = {name: r.seconds for name, r in run.results.items() if r.seconds > bound}
    assert not slow, f"cases over {bound} s: {slow}"


def test_the_batch_finished_in_bounded_time(batch):
    _, seconds, *_ = batch
    # 26 submissions on 2 workers; each resource case is bounded by its own limits (5 s per
    # cell, 5 s per call, the shared budgets of added cells and of calls); far below the sum of what they asked for.
    assert seconds < 300


# --- small, fast guards (each one a target of tests/test_mutations.py) ----------------------------


def test_quick_guard_of_the_sandbox_and_of_hidden_inputs(tmp_path, listener):
    """Three cases beside one honest pair, in a small batch: the secret reader, the network
    caller and the hidden-input leaker (the quick targets of tests/test_mutations.py)."""
    port, hits = listener
    notebooks = hostile_notebooks(tmp_path, port, names={"read-secrets", "network", "leak-hidden-inputs"})
    run = grade_notebooks(ASSIGNMENT, notebooks, tmp_path, "--jobs", "2", timeout=600)
    outputs = every_output_text(run.out)
    assert run.results["read-secrets"].auto_total == FULL, run.results["read-secrets"].questions
    assert READ_MARK not in outputs, "a secret of the kit was read and reached an output"
    assert hits == [] and run.results["network"].auto_total == FULL, "a submission reached the network"
    assert LEAK_MARK not in outputs, "a hidden check's input reached an output through the student's words"
    hidden = [c for c in run.checks("leak-hidden-inputs", "fit_least_squares") if c.hidden]
    assert run.results["leak-hidden-inputs"].auto_total == FULL - sum(c.max_points for c in hidden)


def test_read_submission_never_follows_a_link(tmp_path):
    """O_NOFOLLOW, on its own: the Gradescope runner reads the path it found without intake's check of links."""
    from autograder.grading.intake import UnreadableNotebook, read_submission

    target = tmp_path / "elsewhere.ipynb"
    target.write_text('{"cells": []}')
    link = tmp_path / "linear_regression.ipynb"
    link.symlink_to(target)
    assert read_submission(target) == b'{"cells": []}'
    with pytest.raises(UnreadableNotebook, match="symbolic link"):
        read_submission(link)
    os.unlink(link)


def test_results_json_shows_student_text_literally():
    """Gradescope renders results.json's Markdown: a student's words must stay text (md_text)."""
    from autograder.grading.result import Result
    from autograder.report.gradescope import results_json

    evil = ('<img src=x onerror=alert(1)> <script>alert(2)</script> ![t](http://evil.example/t.png) '
            '[click](javascript:alert(3)) **bold** `code`')
    check = {"name": "test_predict", "question": "predict", "points": 0.0, "max_points": 3.0, "status": "failed",
             "message": evil, "hidden": False, "mistake": ""}
    result = Result.from_json({
        "assignment": ASSIGNMENT, "student": "mallory", "status": "graded", "message": evil, "isolation_note": "",
        "auto_total": 0.0, "auto_max": 3.0, "max_points": 3.0, "notes": [], "written": {}, "plots": {}, "cells": [],
        "questions": {"predict": {"points": 0.0, "max_points": 3.0, "status": "failed", "mistakes": []}},
        "checks": [check]})
    document = results_json(result)
    outputs = [document.get("output", "")] + [t.get("output", "") for t in document["tests"]]
    # Rendered as Gradescope renders output_format "md" (CommonMark, raw HTML allowed): the
    # student's words must come out as text, with no element of their making.
    from markdown_it import MarkdownIt

    for output in outputs:
        html = MarkdownIt("commonmark").render(output)
        assert "onerror" in html, "the message is shown (as text)"
        for element in ("<img", "<script", "<a ", "<strong>bold", "<code>"):
            assert element not in html, f"{element!r} rendered from the student's text: {html}"
    json.dumps(document)
