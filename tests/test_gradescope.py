"""The Gradescope autograder: the zip `dlbasics gradescope` builds, and its run_autograder, end to end.

A simulated ``/autograder`` tree is made the way Gradescope makes it: the zip unpacked into
``ROOT/source`` (file modes as the archive says), the student's upload in ``ROOT/submission``,
and the kit installed from the zip's own wheel (unpacked onto PYTHONPATH, as pip would put it in
site-packages). Then ``ROOT/source/run_autograder`` itself runs, with only its root and Python
pointed elsewhere. Every results.json is checked against Gradescope's specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/) by ``check_spec`` below.

The tree lives under /var/tmp, not /tmp: without bubblewrap each submission gets a private /tmp,
which would hide a tree under /tmp from student code and prove nothing about the permissions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import KIT_ROOT, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.context import seed_fingerprint
from autograder.grading.grade import load_template
from autograder.notebook.fill import write
from autograder.platforms.gradescope import (
    CHOOSE_PYTHON_SH,
    CONFIG_FILE,
    GRADING_LOCK,
    PYTHON_MIN,
    PYTHON_TOP,
    find_notebook,
)

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
OTHER = ASSIGNMENTS["02-gradient-descent"]
TEMPLATE = load_template(ASSIGNMENT)
AUTO = sum(TEMPLATE.points.values())

# --- Gradescope's results.json specification, as a validator ---------------------------------------
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
NUMBER = (int, float)
TOP_LEVEL = {  # every key the specification defines at the top level, with its type or allowed values
    "score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": FORMATS,
    "test_output_format": FORMATS, "test_name_format": FORMATS, "visibility": VISIBILITY,
    "stdout_visibility": VISIBILITY, "extra_data": dict, "tests": list, "leaderboard": list,
}
TEST = {  # ... and in each test
    "score": NUMBER, "max_score": NUMBER, "status": {"passed", "failed"}, "name": str, "name_format": FORMATS,
    "number": str, "output": str, "output_format": FORMATS, "tags": list, "visibility": VISIBILITY,
    "extra_data": dict,
}
# What issue 13 asks of every file, beyond the specification's optional keys.
REQUIRED_TOP = {"score", "output", "output_format", "visibility", "stdout_visibility", "execution_time", "tests"}
REQUIRED_TEST = {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility", "tags"}
SHORT_TAG = 40


def check_value(where: str, value, kind) -> None:
    if isinstance(kind, set):
        assert value in kind, f"{where}: {value!r} is not one of {sorted(kind)}"
    elif kind is NUMBER:
        assert isinstance(value, NUMBER) and not isinstance(value, bool), f"{where}: {value!r} is not a number"
    else:
        assert isinstance(value, kind), f"{where}: {value!r} is not a {kind.__name__}"


def check_spec(results: dict) -> dict:
    assert isinstance(results, dict)
    assert not set(results) - set(TOP_LEVEL), f"keys outside the specification: {set(results) - set(TOP_LEVEL)}"
    assert REQUIRED_TOP <= set(results), f"missing: {REQUIRED_TOP - set(results)}"
    for key, value in results.items():
        check_value(key, value, TOP_LEVEL[key])
    for i, test in enumerate(results["tests"]):
        where = f"tests[{i}]"
        assert isinstance(test, dict)
        assert not set(test) - set(TEST), f"{where}: keys outside the specification: {set(test) - set(TEST)}"
        assert REQUIRED_TEST <= set(test), f"{where}: missing {REQUIRED_TEST - set(test)}"
        for key, value in test.items():
            check_value(f"{where}.{key}", value, TEST[key])
        assert re.fullmatch(r"\d+(\.\d+)*", test["number"]), f"{where}: number {test['number']!r}"
        assert 0 <= test["score"] <= test["max_score"], f"{where}: score outside 0..max_score"
        assert (test["status"] == "passed") == (test["score"] == test["max_score"]), f"{where}: status vs score"
        assert test["tags"] and all(isinstance(t, str) and 0 < len(t) <= SHORT_TAG for t in test["tags"])
    # "score: optional, but required if not on each test case"; here it is always there, and a total.
    assert 0 <= results["score"] <= sum(t["max_score"] for t in results["tests"])
    assert results["execution_time"] >= 0
    return results


# --- the simulated /autograder ---------------------------------------------------------------------


def unpack(archive: Path, target: Path) -> None:
    """Unpack with the archive's Unix modes (what Gradescope's image build does with the zip)."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(zipped.read(info))
            os.chmod(path, (info.external_attr >> 16) & 0o777)


@pytest.fixture(scope="module")
def kit():
    if not os.path.isdir("/var/tmp"):
        pytest.skip("needs /var/tmp (see the module docstring)")
    base = Path(tempfile.mkdtemp(prefix="dlbasics-gradescope-", dir="/var/tmp"))
    os.chmod(base, 0o755)  # like /autograder's parents: student code may pass through, not write
    try:
        course = base / "course"
        run_dlbasics("init", course)
        config = (course / "course.toml").read_text()
        (course / "course.toml").write_text(config.replace("cell_seconds = 5.0", "cell_seconds = 6.0"))
        built = run_dlbasics("gradescope", ASSIGNMENT.id, "--course", course, "--out", base / "zip")
        archive = base / "zip" / f"{ASSIGNMENT.id}-autograder.zip"
        assert f"wrote {archive}" in built.stdout and "secret seed" in built.stdout
        pristine = base / "pristine"
        unpack(archive, pristine)
        site = base / "site"  # the wheel, unpacked: what pip install puts in site-packages
        (wheel,) = pristine.glob("dlbasics-*.whl")
        zipfile.ZipFile(wheel).extractall(site)
        seed = tomllib.loads((course / "secret.toml").read_text())["seed"]
        yield SimpleNamespace(base=base, course=course, archive=archive, pristine=pristine, site=site, seed=seed,
                              wheel=wheel, roots=iter(range(1000)))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make_root(kit, files: dict[str, dict | bytes], root: Path | None = None) -> Path:
    """A fresh /autograder: source/ from the zip, submission/ holding ``files`` (path -> notebook or bytes)."""
    root = root or kit.base / f"autograder-{next(kit.roots)}"
    root.mkdir(mode=0o755)
    shutil.copytree(kit.pristine, root / "source")
    submission = root / "submission"
    submission.mkdir(mode=0o755)
    for name, content in files.items():
        if isinstance(content, dict):
            write(content, submission / name)
        else:
            (submission / name).parent.mkdir(parents=True, exist_ok=True)
            (submission / name).write_bytes(content)
    return root


def run_autograder(kit, root: Path, **env) -> tuple[subprocess.CompletedProcess, dict]:
    process = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                             timeout=600, env={**os.environ, "DLBASICS_PYTHON": sys.executable,
                                               "DLBASICS_ROOT": str(root), "PYTHONPATH": str(kit.site), **env})
    results = root / "results" / "results.json"
    assert results.is_file(), f"no results.json:\n{process.stdout}\n{process.stderr}"
    return process, check_spec(json.loads(results.read_text(encoding="utf-8")))


# --- the zip -------------------------------------------------------------------------------------------


def test_the_zip_has_gradescopes_layout_the_course_settings_and_nothing_of_other_assignments(kit):
    checks = {f"assignment/{p.name}" for p in ASSIGNMENT.folder.glob("*.py") if p.name != "corpus.py"}
    with zipfile.ZipFile(kit.archive) as zipped:
        members = {info.filename: info for info in zipped.infolist()}
        assert {"setup.sh", "run_autograder"} <= set(members)  # at the root of the archive, not in a folder
        for script in ("setup.sh", "run_autograder", "choose-python.sh"):
            assert (members[script].external_attr >> 16) & 0o111 == 0o111, f"{script} is not executable"
        assert set(members) == {"setup.sh", "run_autograder", "choose-python.sh", GRADING_LOCK, kit.wheel.name,
                                CONFIG_FILE,
                                f"template/{ASSIGNMENT.notebook}", f"expected/{ASSIGNMENT.expected_json.name}",
                                *checks}
        assert "assignment/checks.py" in checks and "assignment/reference.py" in checks
        for name in [CONFIG_FILE, *checks]:  # the seed, the hidden checks, the references: root's only
            assert (members[name].external_attr >> 16) & 0o077 == 0, name
        assert zipped.read(f"template/{ASSIGNMENT.notebook}") == ASSIGNMENT.release.read_bytes()
        assert zipped.read(f"expected/{ASSIGNMENT.expected_json.name}") == ASSIGNMENT.expected_json.read_bytes()
        # Only the grading lock: nothing of the kit's development is installed on Gradescope.
        assert zipped.read(GRADING_LOCK) == (KIT_ROOT / GRADING_LOCK).read_bytes()
        assert zipped.read("choose-python.sh").decode() == CHOOSE_PYTHON_SH  # run by tests/test_locks.py
        config = json.loads(zipped.read(CONFIG_FILE))
        setup = zipped.read("setup.sh").decode()
        runner = zipped.read("run_autograder").decode()
    assert oct(kit.archive.stat().st_mode & 0o777) == "0o600"  # it holds the seed
    # The course's seed and limits (cell_seconds changed in its course.toml), never the kit's default.
    assert config["seed"] == kit.seed and config["seed_fingerprint"] == seed_fingerprint(kit.seed)
    assert config["limits"]["cell_seconds"] == 6.0 and config["assignment"] == ASSIGNMENT.id
    # setup.sh: bubblewrap from apt, a Python chosen by its version (choose-python.sh, tests/test_locks.py),
    # a venv, torch alone from PyTorch's CPU index before the grading lock from the default index, the kit's
    # own wheel last and without dependencies; both scripts are valid bash.
    assert "apt-get install -y --no-install-recommends bubblewrap" in setup
    assert f'python=$(bash ./choose-python.sh {PYTHON_MIN} {PYTHON_TOP})' in setup
    assert "ppa:deadsnakes/ppa" in CHOOSE_PYTHON_SH
    torch = setup.index("--no-deps --index-url https://download.pytorch.org/whl/cpu torch==2.13.0")
    assert setup.count("--index-url") == 1  # torch only: the lock comes from the default index
    assert torch < setup.index(f"-r {GRADING_LOCK}") < setup.index(f"--no-deps {kit.wheel.name}")
    assert "chmod -R go-rwx /autograder/source" in setup and "--self-test" in setup
    assert f"gradescope-run {ASSIGNMENT.id} " in runner and "/autograder/venv/bin/python" in runner
    for script in ("setup.sh", "run_autograder", "choose-python.sh"):
        assert subprocess.run(["bash", "-n", str(kit.pristine / script)]).returncode == 0
    # Nothing of the other assignment, and no solution: the wheel is the grader alone.
    wheel_names = zipfile.ZipFile(kit.wheel).namelist()
    for name in [*members, *wheel_names]:
        assert OTHER.id not in name and OTHER.module not in name and OTHER.notebook not in name, name
        assert not name.endswith(ASSIGNMENT.notebook) or name == f"template/{ASSIGNMENT.notebook}", name
        assert "corpus" not in name and not name.startswith("solutions/"), name
    assert not any(name.startswith("autograder/") and ASSIGNMENT.module in name for name in wheel_names)
    assert OTHER.id not in json.dumps(config)
    assert "autograder/platforms/gradescope.py" in wheel_names


def test_the_runner_runs_the_wheels_code_and_its_self_test_passes(kit):
    found = subprocess.run([sys.executable, "-s", "-P", "-c", "import autograder; print(autograder.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(kit.site)}, capture_output=True, text=True)
    assert found.stdout.strip() == str(kit.site / "autograder" / "__init__.py")
    root = make_root(kit, {})
    test = subprocess.run([sys.executable, "-s", "-P", "-m", "autograder.cli", "gradescope-run", ASSIGNMENT.id,
                           "--root", str(root), "--self-test"], env={**os.environ, "PYTHONPATH": str(kit.site)},
                          capture_output=True, text=True, timeout=300)
    assert test.returncode == 0 and f"ok: {ASSIGNMENT.id}, {AUTO:g} automatic points" in test.stdout
    assert seed_fingerprint(kit.seed) in test.stdout


# --- submissions: correct, wrong, hostile, unreadable, none, several --------------------------------------


def assert_graded_by_the_course(kit, results: dict) -> None:
    info = results["extra_data"]["dlbasics"]
    assert info["seed_fingerprint"] == seed_fingerprint(kit.seed)  # the seed in effect while grading
    # Written answers are Gradescope's manual grading: no hand-graded test, only the automatic points.
    assert sum(t["max_score"] for t in results["tests"]) == AUTO
    assert not any("manual" in t["tags"] for t in results["tests"])
    assert "graded by hand" in results["output"]
    hidden = [t for t in results["tests"] if "hidden" in t["tags"]]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert all(t["visibility"] == "visible" for t in results["tests"] if "public" in t["tags"])


@pytest.mark.slow
def test_a_correct_submission_gets_every_automatic_point(kit, solution_notebook):
    root = make_root(kit, {ASSIGNMENT.notebook: solution_notebook(ASSIGNMENT.id),
                           f".ipynb_checkpoints/{ASSIGNMENT.notebook[:-6]}-checkpoint.ipynb": b"{}"})
    process, results = run_autograder(kit, root)
    assert process.returncode == 0, process.stdout + process.stderr
    assert results["score"] == AUTO and all(t["status"] == "passed" for t in results["tests"])
    assert results["output_format"] == "md" and all(t["output_format"] == "md" for t in results["tests"])
    assert_graded_by_the_course(kit, results)


@pytest.mark.slow
def test_the_grading_lock_and_the_wheel_alone_grade(kit, solution_notebook):
    """The environment setup.sh makes, here: a venv with torch, the zip's grading lock and its wheel only
    (no development package, nothing of this checkout on the path) grades a correct and a wrong submission.
    torch comes from the machine's configured indexes (its local CPU wheel), not PyTorch's CPU index,
    which this machine cannot reach; the rest as setup.sh installs it."""
    venv = kit.base / "grading-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    torch = re.search(r"^torch==\S+$", (kit.pristine / GRADING_LOCK).read_text(), re.M)[0]
    for step in ([*pip, "--no-deps", torch], [*pip, "-r", str(kit.pristine / GRADING_LOCK)],
                 [*pip, "--no-deps", str(kit.wheel)], [str(venv / "bin" / "python"), "-m", "pip", "check"]):
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, cwd=kit.base)
        assert done.returncode == 0, f"{step}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout.lower()
    for package in ("nbgrader", "jupyterlab", "pytest", "dask", "distributed", "ruff", "playwright", "nbclient"):
        assert f"\n{package}==" not in f"\n{listed}", f"{package} is installed in the grading environment"
    env = {"DLBASICS_PYTHON": str(venv / "bin" / "python"), "PYTHONPATH": ""}
    wrong = solution_notebook(ASSIGNMENT.id, {"predict": "def predict(x, m, b):\n    return b * x + m\n"})
    for notebook, full in ((solution_notebook(ASSIGNMENT.id), True), (wrong, False)):
        process, results = run_autograder(kit, make_root(kit, {ASSIGNMENT.notebook: notebook}), **env)
        assert process.returncode == 0, process.stdout + process.stderr
        assert (results["score"] == AUTO) is full and results["score"] >= AUTO - TEMPLATE.points["predict"]
        assert_graded_by_the_course(kit, results)


@pytest.mark.slow
def test_a_wrong_submission_loses_exactly_the_wrong_question(kit, solution_notebook):
    wrong = solution_notebook(ASSIGNMENT.id, {"predict": "def predict(x, m, b):\n    return b * x + m\n"})
    root = make_root(kit, {"my answers.ipynb": wrong})  # the only notebook, whatever its name
    process, results = run_autograder(kit, root)
    assert process.returncode == 0, process.stdout + process.stderr
    assert results["score"] == AUTO - TEMPLATE.points["predict"]
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["tags"][0] == "predict" and t["score"] == 0 for t in failed)
    assert all(t["output"].startswith("**failed**") for t in failed)
    assert_graded_by_the_course(kit, results)


HOSTILE = """
import json, os
ROOT, REPORT = {root!r}, {report!r}
attempts = {{}}

def attempt(name, action):
    try:
        action()
        attempts[name] = "done"
    except Exception as error:
        attempts[name] = type(error).__name__

def write(path, text, mode="w"):
    with open(path, mode) as handle:
        handle.write(text)

forged = json.dumps({{"score": 999, "output": "forged", "tests": []}})
attempt("forge results.json", lambda: write(os.path.join(ROOT, "results", "results.json"), forged))
attempt("block results.json", lambda: os.mkdir(os.path.join(ROOT, "results", "results.json")))
attempt("plant in results", lambda: write(os.path.join(ROOT, "results", "planted.json"), forged))
attempt("read the seed", lambda: attempts.__setitem__("seed", open(os.path.join(ROOT, "source", {config!r})).read()))
attempt("read the references", lambda: open(os.path.join(ROOT, "source", "assignment", "reference.py")).read())
attempt("change the settings", lambda: write(os.path.join(ROOT, "source", {config!r}), "{{}}", "a"))
attempt("replace run_autograder", lambda: write(os.path.join(ROOT, "source", "run_autograder"), "exit 0"))
attempt("plant in the root", lambda: write(os.path.join(ROOT, "planted.txt"), "x"))
write(REPORT, json.dumps(attempts))
"""


@pytest.mark.slow
def test_student_code_cannot_write_the_results_or_read_the_seed_with_reduced_isolation(kit, solution_notebook):
    """Where user namespaces are missing (Gradescope's container), isolation falls back to a uid of
    the submission's own: the results folder is root's, unwritable by others, before any student
    code runs; the packaged seed is root's only. A fully answered notebook tries everything."""
    if os.geteuid() != 0:
        pytest.skip("Gradescope runs the autograder as root; only then does student code get a uid of its own")
    exfil = kit.base / "exfil"  # a folder student code can write to, so it can say what it managed
    exfil.mkdir(mode=0o1777, exist_ok=True)
    os.chmod(exfil, 0o1777)
    root = kit.base / "autograder-hostile"
    report = exfil / "attempts.json"
    code = HOSTILE.format(root=str(root), report=str(report), config=CONFIG_FILE)
    make_root(kit, {ASSIGNMENT.notebook: solution_notebook(ASSIGNMENT.id, extra_cells=[code])}, root)
    settings = (root / "source" / CONFIG_FILE).read_bytes()
    script = (root / "source" / "run_autograder").read_bytes()

    process, results = run_autograder(kit, root, DLBASICS_SANDBOX="rlimits")
    assert process.returncode == 0, process.stdout + process.stderr
    attempts = json.loads(report.read_text())
    assert attempts == {name: "PermissionError" for name in (
        "forge results.json", "block results.json", "plant in results", "read the seed", "read the references",
        "change the settings", "replace run_autograder", "plant in the root")}, attempts
    # The file is the grader's: full marks, the course's seed, nothing forged, nothing planted.
    assert results["score"] == AUTO and "forged" not in json.dumps(results)
    assert_graded_by_the_course(kit, results)
    assert results["extra_data"]["dlbasics"]["isolation"] == "rlimits"
    # Said to the instructor in a test Gradescope never shows students, not in the student's output.
    assert "isolation reduced" not in results["output"]
    assert [t for t in results["tests"] if t["visibility"] == "hidden" and "isolation reduced" in t["output"]]
    assert kit.seed not in json.dumps(results) and kit.seed not in report.read_text()
    assert sorted(os.listdir(root / "results")) == ["results.json"]
    assert not (root / "planted.txt").exists()
    assert (root / "source" / CONFIG_FILE).read_bytes() == settings
    assert (root / "source" / "run_autograder").read_bytes() == script
    folder, written = (root / "results").stat(), (root / "results" / "results.json").stat()
    assert folder.st_uid == 0 and stat.S_IMODE(folder.st_mode) & 0o022 == 0
    assert written.st_uid == 0 and stat.S_IMODE(written.st_mode) & 0o022 == 0
    assert stat.S_IMODE((root / "source").stat().st_mode) & 0o077 == 0


def test_an_unreadable_notebook_gets_zero_and_says_why(kit):
    root = make_root(kit, {ASSIGNMENT.notebook: b"{ this is not JSON"})
    process, results = run_autograder(kit, root)
    assert process.returncode == 0
    assert results["score"] == 0 and results["tests"] and all(t["status"] == "failed" for t in results["tests"])
    assert "JSON" in results["output"]
    assert results["extra_data"]["dlbasics"]["status"] == "unreadable"


@pytest.mark.parametrize("files, says", [
    ({}, "nothing was submitted: upload linear_regression.ipynb"),  # an empty upload
    ({"answers.txt": b"x", ".ipynb_checkpoints/a-checkpoint.ipynb": b"{}"},
     "no notebook (.ipynb file) was found in the submission: upload linear_regression.ipynb"),
    ({"a.ipynb": b"{}", "b/c.ipynb": b"{}"},
     "2 notebooks were submitted (a.ipynb, b/c.ipynb) and it is not clear which to grade: submit only "
     "linear_regression.ipynb"),
])
def test_no_notebook_or_several_get_zero_with_a_clear_output(kit, files, says):
    root = make_root(kit, files)
    if not files:
        shutil.rmtree(root / "submission")
    process, results = run_autograder(kit, root)
    assert process.returncode == 0
    assert results["score"] == 0 and all(t["score"] == 0 for t in results["tests"])
    assert says in results["output"].replace("\\", "")  # md_text escapes Markdown's . ( ) _


def test_a_zip_without_the_course_seed_grades_nothing(kit, solution_notebook):
    """Never the kit's default seed: without the course's, a clear zero and exit status 1."""
    root = make_root(kit, {ASSIGNMENT.notebook: solution_notebook(ASSIGNMENT.id)})
    config = json.loads((root / "source" / CONFIG_FILE).read_text())
    del config["seed"]
    (root / "source" / CONFIG_FILE).write_text(json.dumps(config))
    process, results = run_autograder(kit, root)
    assert process.returncode == 1 and results["score"] == 0 and results["tests"] == []
    assert "holds no course seed" in results["output"] and "not of your work" in results["output"]
    assert "Traceback" in process.stdout  # for the instructor (Gradescope shows stdout to instructors only)


def test_a_results_folder_that_is_a_link_is_refused(kit, tmp_path):
    root = make_root(kit, {})
    (root / "results").symlink_to(tmp_path)
    process = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                             env={**os.environ, "DLBASICS_PYTHON": sys.executable, "DLBASICS_ROOT": str(root),
                                  "PYTHONPATH": str(kit.site)}, timeout=300)
    assert process.returncode == 2 and "not a folder" in process.stderr
    assert not list(tmp_path.iterdir())


def test_finding_the_notebook(tmp_path):
    folder = tmp_path / "submission"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.ipynb").write_text("{}")
    (folder / "sub" / ASSIGNMENT.notebook).write_text("{}")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / ASSIGNMENT.notebook).write_text("{}")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / f"._{ASSIGNMENT.notebook}").write_text("x")
    path, status, reason = find_notebook(folder, ASSIGNMENT)  # several: the template's name wins
    assert path == folder / "sub" / ASSIGNMENT.notebook and not reason
    (folder / "other").mkdir()
    (folder / "other" / ASSIGNMENT.notebook).write_text("{}")
    path, status, reason = find_notebook(folder, ASSIGNMENT)  # two of that name: not a guess
    assert path is None and status == "unreadable" and "3 notebooks were submitted" in reason
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "x.ipynb").symlink_to(ASSIGNMENT.solution)  # listed, never followed: grading refuses links
    assert find_notebook(linked, ASSIGNMENT)[0] == linked / "x.ipynb"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.ipynb").write_text("{}")
    (linked / "folder").symlink_to(outside, target_is_directory=True)
    assert find_notebook(linked, ASSIGNMENT)[0] == linked / "x.ipynb"  # the linked folder is not walked
