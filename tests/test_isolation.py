"""The submission, not the worker, is the unit of isolation; its time budgets are its own.

Every attack sits in an otherwise fully answered notebook, graded through the real
`dlbasics grade --jobs 1` beside honest and blank neighbours, in both orders. What the
attack sees from inside is reported by a cell that raises ``RuntimeError("OBS {json}")``:
the cell's message reaches the result's ``cells`` list, so each test asserts the specific
effect (the write failed at the cap, the earlier file is absent, the uid differs) as well
as the grades.
"""

from __future__ import annotations

import errno
import json
import re
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import grade_notebooks

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.notebook.fill import solution_answers
from autograder.sandbox.pool import Limits

ASSIGNMENT = "01-linear-regression"
FULL = sum(load_template(ASSIGNMENTS[ASSIGNMENT]).points.values())
# Built at run time in the planter, so this literal is in no notebook: if it shows up in
# an output, a later submission read what the planter recorded.
MARK = "SEEN-LEAK-7f3a"
PDB = str(Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "pdb.py")
SHM_KEY = 0x444C42  # the SysV shared-memory key the planter leaves a segment under

# The code every planted module runs when imported: it finds the importing cell's globals
# and flips the grade (a blank notebook gets the reference answers, an answered one a
# wrong predict). On a grader that puts a writable folder on sys.path, a later
# submission's `import pdb` (a module the sandbox has not imported yet) runs it.
PAYLOAD = """\
import sys
_f = sys._getframe()
while _f is not None and not _f.f_code.co_filename.startswith("<cell"):
    _f = _f.f_back
if _f is not None:
    _predict = _f.f_globals.get("predict")
    if _predict is None or "NotImplementedError" in _predict.__code__.co_names:
        exec({answers!r}, _f.f_globals)
    else:
        exec("def predict(x, m, b):\\n    return [0.0 for _ in x]\\n", _f.f_globals)
"""

PLANT = """\
import ctypes, json, os, site, sys
PAYLOAD = {payload!r}
names = {{n: PAYLOAD for n in ("pdb.py", "statistics.py", "torch.py", "numpy.py", "selfcheck.py",
                               "sitecustomize.py", "usercustomize.py", "dlb_planted.py")}}
names["zz_planted.pth"] = "import dlb_planted\\n"
dirs = {{"/tmp", "/var/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"),
        site.getusersitepackages(), *[p for p in sys.path if p]}}
planted = []
for d in sorted(dirs):
    for name, text in names.items():
        try:
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, name), "w") as handle:
                handle.write(text)
            os.chmod(os.path.join(d, name), 0o666)
            planted.append(os.path.join(d, name))
        except OSError:
            pass
writable_on_path = [p or "(cwd)" for p in sys.path if os.access(p or ".", os.W_OK)]
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget({key}, 4096, 0o1000 | 0o666)
mark = "SEEN" + "-LEAK-" + "7f3a"
if segment >= 0:
    ctypes.memmove(libc.shmat(segment, None, 0), mark.encode(), len(mark))
raise RuntimeError("OBS " + json.dumps({{"probe": "planter", "planted": planted[:40], "segment": segment,
                                         "writable_on_path": writable_on_path, "uid": os.getuid()}}))
"""

# Appended after the answers: predict still answers correctly, and records every input the
# checks give it (the hidden ones too) where a later submission could look.
RECORD = """\
import os
_real_predict = predict
def predict(x, m, b):
    for d in ("/tmp", os.getcwd(), os.path.expanduser("~")):
        try:
            with open(os.path.join(d, "seen.txt"), "a") as handle:
                handle.write("SEEN" + "-LEAK-" + "7f3a " + repr((x, m, b)) + "\\n")
            os.chmod(os.path.join(d, "seen.txt"), 0o666)
        except OSError:
            pass
    return _real_predict(x, m, b)
"""

# The planter's own later cell: what it planted must not be importable even by itself.
PLANTER_LATER = """\
import json, os, pdb
try:
    import dlb_planted
    planted_import = dlb_planted.__file__
except ImportError:
    planted_import = None
raise RuntimeError("OBS " + json.dumps({"probe": "planter-later", "pdb": pdb.__file__,
                                        "planted_import": planted_import, "uid": os.getuid()}))
"""

# What an honest or blank neighbour runs last: an import a student may well write, and a
# look at everything an earlier submission could have left for it.
LOOK = """\
import ctypes, json, os, pdb
found = {}
for d in sorted({"/tmp", os.getcwd(), os.path.expanduser("~")}):
    try:
        found[d] = sorted(os.listdir(d))[:30]
    except OSError as error:
        found[d] = str(error)
    if os.path.exists(os.path.join(d, "seen.txt")):
        found[d + "/seen.txt"] = open(os.path.join(d, "seen.txt")).read()[:300]
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget(SHM_KEY, 0, 0)
shared = ctypes.string_at(libc.shmat(segment, None, 0), 14).decode(errors="replace") if segment >= 0 else None
raise RuntimeError("OBS " + json.dumps({"probe": "look", "found": found, "shared": shared, "uid": os.getuid(),
                                        "pdb": pdb.__file__}))
""".replace("SHM_KEY", str(SHM_KEY))

FILL_TMP = """\
import json, os
written, error = 0, None
try:
    for i in range(256):  # 256 files of 8 MiB: 2 GiB, each file under the 16 MB file limit
        with open(f"/tmp/fill-{i}", "wb") as handle:
            for _ in range(8):
                handle.write(b"\\0" * 2**20)
                written += 2**20
except OSError as e:
    error = e.errno
files, files_error = 0, None
try:
    for i in range(100_000):
        open(f"/tmp/n{i}", "w").close()
        files += 1
except OSError as e:
    files_error = e.errno
raise RuntimeError("OBS " + json.dumps({"probe": "filler", "written": written, "error": error, "files": files,
                                        "files_error": files_error, "uid": os.getuid()}))
"""

# The child has nothing left to do after the last call but exit; this makes it hang instead.
HANG_AT_EXIT = "import os, time\nos._exit = lambda *args: time.sleep(10**6)\n"


def _cell(source: str, tag: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": tag, "metadata": {}, "outputs": [], "source": source}


def _answered(extra_after_setup=(), extra_at_end=()) -> dict:
    from autograder.notebook.fill import fill

    assignment = ASSIGNMENTS[ASSIGNMENT]
    notebook = fill(assignment, solution_answers(assignment), extra_cells=list(extra_at_end))
    for number, source in enumerate(extra_after_setup):
        notebook["cells"].insert(2 + number, _cell(source, f"early-{number}"))
    return notebook


def _blank(extra_at_end=()) -> dict:
    from autograder.notebook.fill import fill

    return fill(ASSIGNMENTS[ASSIGNMENT], {}, extra_cells=list(extra_at_end))


def _planter() -> dict:
    from autograder.grading.grade import load_template

    assignment = ASSIGNMENTS[ASSIGNMENT]
    code_answers = load_template(assignment).answers
    answers = "\n".join(source for grade_id, source in solution_answers(assignment).items() if grade_id in code_answers)
    plant = PLANT.format(payload=PAYLOAD.format(answers=answers), key=SHM_KEY)
    return _answered(extra_after_setup=[plant], extra_at_end=[RECORD, PLANTER_LATER])


def observed(result: dict) -> dict[str, dict]:
    """What the submission's probe cells reported from inside the sandbox, by probe name."""
    found = {}
    for cell in result.cells:
        match = re.search(r"OBS (\{.*\})", cell.message or "")
        if match:
            report = json.loads(match.group(1))
            found[report["probe"]] = report
    return found


class ShmemPeak:
    """The machine's peak tmpfs/shared memory (``Shmem`` in /proc/meminfo) while a block runs."""

    def __enter__(self):
        self.start = self.peak = self._read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._read())

    @staticmethod
    def _read() -> int:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("Shmem:"):
                    return int(line.split()[1]) * 1024
        return 0

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def forward(tmp_path_factory):
    """Planter first, then its neighbours (students grade in name order with --jobs 1)."""
    notebooks = {
        "a-planter": _planter(),
        "b-honest": _answered(extra_at_end=[LOOK]),
        "c-blank": _blank(extra_at_end=[LOOK]),
        "d-filler": _answered(extra_at_end=[FILL_TMP]),
        "e-hanger": _answered(extra_at_end=[HANG_AT_EXIT]),
        "f-slow-cells": _answered(extra_after_setup=["import time\ntime.sleep(4.9)\n"] * 19),
        "g-honest-after": _answered(extra_at_end=[LOOK]),
    }
    with ShmemPeak() as shmem:
        run = grade_notebooks(ASSIGNMENT, notebooks, tmp_path_factory.mktemp("forward"), "--jobs", "1")
    return run, shmem


@pytest.fixture(scope="module")
def backward(tmp_path_factory):
    """The same neighbours graded before the planter."""
    notebooks = {"a-honest": _answered(extra_at_end=[LOOK]), "b-blank": _blank(extra_at_end=[LOOK]),
                 "c-planter": _planter()}
    return grade_notebooks(ASSIGNMENT, notebooks, tmp_path_factory.mktemp("backward"), "--jobs", "1")


def _all_output_text(run) -> str:
    return "\n".join(path.read_bytes().decode("utf-8", "replace") for path in run.out.rglob("*") if path.is_file())


def test_the_planter_could_plant_but_nothing_writable_is_on_sys_path(forward, backward):
    for run, planter in ((forward[0], "a-planter"), (backward, "c-planter")):
        result = run.results[planter]
        assert result.auto_total == FULL, result.checks
        seen = observed(result)
        assert seen["planter"]["planted"], "the attack did not run: it planted nothing"
        assert seen["planter"]["writable_on_path"] == []
        # SysV shared memory is refused by the seccomp filter (autograder/sandbox/syscalls.py); where
        # it is not, each submission's IPC namespace dies with it (the neighbours' look below).
        assert seen["planter"]["segment"] == -1, "the seccomp filter let the planter create a SysV segment"
        # Its own later cells are unaffected too: the real pdb, and no planted module.
        assert seen["planter-later"]["planted_import"] is None
        assert seen["planter-later"]["pdb"] == PDB


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_neighbours_keep_their_grades_in_both_orders(forward, backward, order):
    run = forward[0] if order == "forward" else backward
    honest, blank = ("b-honest", "c-blank") if order == "forward" else ("a-honest", "b-blank")
    assert run.results[honest].auto_total == FULL, run.results[honest].checks
    assert float(run.rows[honest]["total"]) == FULL
    assert run.results[blank].auto_total == 0
    assert float(run.rows[blank]["total"]) == 0
    if order == "forward":
        assert run.results["g-honest-after"].auto_total == FULL


def test_a_later_submission_finds_nothing_an_earlier_one_left(forward):
    run, _ = forward
    for student in ("b-honest", "c-blank", "g-honest-after"):
        look = observed(run.results[student])["look"]
        names = {name for entries in look["found"].values() if isinstance(entries, list) for name in entries}
        left = names & {"pdb.py", "torch.py", "sitecustomize.py", "zz_planted.pth", "seen.txt", "fill-0", "n0"}
        assert not left and not any(key.endswith("seen.txt") for key in look["found"]), (student, look["found"])
        assert look["shared"] is None, f"{student} read the planter's shared memory: {look['shared']!r}"
        assert look["pdb"] == PDB
    # What the planter recorded (hidden inputs included) is in no file the grader wrote.
    assert MARK not in _all_output_text(run)


def test_each_submission_runs_as_its_own_uid(forward):
    run, _ = forward
    uids = {}
    for student, result in run.results.items():
        for report in observed(result).values():
            uids.setdefault(student, set()).add(report["uid"])
    assert all(len(seen) == 1 for seen in uids.values()), uids  # one uid within a submission
    flat = [next(iter(seen)) for seen in uids.values()]
    assert len(flat) >= 5 and len(set(flat)) == len(flat), uids  # and a different one for each
    assert 0 not in flat


def test_tmp_is_capped_in_size_and_files_and_the_submission_keeps_its_points(forward):
    run, shmem = forward
    result = run.results["d-filler"]
    assert result.auto_total == FULL, result.checks
    # The 2 GiB it tried to keep in memory never reached the machine (tmpfs pages are Shmem).
    assert shmem.peak - shmem.start < 1 * 2**30, f"Shmem rose by {(shmem.peak - shmem.start) / 2**20:.0f} MiB"
    # The writes stopped at the caps, well within the cell's time: the cell says so itself.
    seen = observed(result)
    assert "filler" in seen, f"the filling cell did not report: {result.cells}"
    limits = Limits()
    assert seen["filler"]["error"] == errno.ENOSPC and seen["filler"]["written"] <= limits.tmp_mb * 2**20, seen
    assert seen["filler"]["files_error"] == errno.ENOSPC and seen["filler"]["files"] <= limits.tmp_inodes, seen


def test_added_cells_share_their_budget_and_the_answers_still_run(forward):
    run, _ = forward
    result = run.results["f-slow-cells"]
    assert result.auto_total == FULL, result.checks
    cells = {cell.label: cell for cell in result.cells}
    skipped = [c for c in cells.values() if c.status == "skipped"]
    assert skipped and all("used up" in c.message for c in skipped)
    answers = [label for label in ("to_column_tensors", "predict", "fit_least_squares", "plot_regression",
                                   "train_model") if label in cells]
    assert all(cells[label].status == "ok" for label in answers)


def test_a_child_that_hangs_after_its_last_call_costs_only_the_closing_grace(forward):
    run, _ = forward
    result = run.results["e-hanger"]
    assert result.status == "graded" and result.auto_total == FULL, result
    # Generous: the honest work takes about a second; the old grader waited 30 s here.
    limits = Limits()
    assert result.seconds < limits.close_seconds + 15, result.seconds


def test_a_huge_cell_of_shell_escapes_is_transformed_inside_the_sandbox(tmp_path):
    source = "!echo x\n" * 124_999  # just under the 1 MB per-cell cap: this cell is run
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The batch returns: 240 s is generous for one submission (worker start included); a
    # grader that transforms the cell itself is still at it minutes later.
    run = grade_notebooks(ASSIGNMENT, {"shell": _answered(extra_at_end=[source])}, tmp_path, "--jobs", "1",
                          timeout=240)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run.results["shell"]
    assert result.auto_total == FULL, result.checks
    cell = next(c for c in result.cells if c.label.startswith("added"))
    assert cell.status in ("timeout", "error"), cell
    # The whole run (grader, worker start, the child's bounded attempt) in CPU seconds: the
    # transformation in the grader used to cost minutes of CPU before any clock started.
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert used < 60, used


def test_the_grader_never_imports_ipython_to_grade():
    code = ("import sys\nimport autograder.cli, autograder.grading.grade, autograder.notebook.submission\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'IPython'))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
