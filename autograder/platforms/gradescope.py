"""Gradescope: the autograder zip of one assignment, and the runner inside Gradescope's container.

``dlbasics gradescope ASSIGNMENT --course C`` builds ``<assignment>-autograder.zip`` in the
layout of Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): ``setup.sh`` and
``run_autograder`` at the root of the archive, which Gradescope unpacks into
``/autograder/source``. Besides them the zip holds the kit as a wheel (the grader, which holds
no assignment), ``requirements-grading.lock`` (what grading needs, nothing of the kit's development),
``choose-python.sh`` (which Python setup.sh installs, decided by its version), and this assignment
only: its checks and references (``assignment/``: the ``.py`` files of ``solutions/<id>/`` but the
test corpus; never the solution notebook), its student template and public expected values, and
``dlbasics-gradescope.json``: the course's secret seed and limits. The zip is the instructor's, uploaded to Gradescope;
students never see it.

For every submission Gradescope runs ``run_autograder`` as root in ``/autograder``; it calls
``dlbasics gradescope-run ASSIGNMENT --root /autograder`` (:func:`run`), which grades the one
notebook under ``ROOT/submission/`` with the same sandboxed grader as ``dlbasics grade`` and
the course's seed, and writes ``ROOT/results/results.json`` atomically. Inside Gradescope's
container user namespaces are usually unavailable: the sandbox then falls back to its reduced
isolation (a separate unprivileged uid per submission, rlimits, timeouts, see
``autograder.sandbox.pool.isolation_mode``). That is why the runner makes ``ROOT/results``
root's and unwritable by anyone else before any student code runs, and ``ROOT/source`` (the
seed, the checks, the references) root's only: student code runs as another uid and can
neither write the results nor read the seed or the references.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.checks import KIT_ROOT, Assignment, AssignmentError

CONFIG_FILE = "dlbasics-gradescope.json"  # in the zip, so in ROOT/source/
TEMPLATE_DIR = "template"  # the student template, as students got it
EXPECTED_DIR = "expected"  # the public checks' expected values (made by dlbasics build)
ASSIGNMENT_DIR = "assignment"  # the assignment's checks, public checks and references
# What of solutions/<id>/ the grader does not need: the test corpus (the solution notebook is
# not a .py file and is never packaged either).
NOT_PACKAGED = {"corpus.py"}
RESULTS_FILE = "results.json"
VENV = "/autograder/venv"  # made by setup.sh; outside source/, which only root may read
STUDENT = "submission"  # the id of the one submission a Gradescope run grades (never shown)
PACKAGE = KIT_ROOT / "autograder"

# What Gradescope unpacks an upload into: a few files, or a repository. A tree of thousands of
# entries is no notebook submission, and walking it is bounded: past this many files, stop.
MAX_SUBMISSION_ENTRIES = 5000
# A grader fault's reason in the student's output (the full traceback goes to stdout, for instructors).
MAX_REASON_CHARS = 500


class GradescopeError(Exception):
    """The autograder zip cannot be built, or the packaged configuration cannot be used; says why."""


# --- building the zip ---------------------------------------------------------------------------

# The Pythons requirements-grading.lock resolves for (tests/test_locks.py resolves it at 3.11.0, 3.11.4
# and 3.12): any 3.11.x from 3.11.0, and 3.12. setup.sh takes the distribution's Python when its version is
# in this range, deadsnakes' 3.11 otherwise.
PYTHON_MIN, PYTHON_TOP = "3.11.0", "3.12"
GRADING_LOCK = "requirements-grading.lock"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's CPU-only wheels

CHOOSE_PYTHON_SH = """\
#!/usr/bin/env bash
# Installs a Python whose version requirements-grading.lock resolves for and prints its command
# (python3 or python3.11) on stdout; everything else goes to stderr. Run by setup.sh as root.
# Usage: choose-python.sh MIN TOP: a version fits when MIN <= it (X.Y.Z) and its X.Y <= TOP.
# Decided by the installed interpreter's version, never by which packages the archive has:
#   Ubuntu 24.04: python3 is 3.12.x: it fits, nothing else is installed.
#   Ubuntu 22.04: python3 is 3.10.x: too old; the archive's python3.11 (3.11.0) fits.
#   otherwise (no python3.11 in the archive, or one older than MIN): python3.11 from the deadsnakes PPA.
set -euo pipefail
min=${1:?usage: choose-python.sh MIN TOP}
top=${2:?usage: choose-python.sh MIN TOP}
IFS=. read -r min_x min_y min_z <<<"$min"
IFS=. read -r top_x top_y <<<"$top"

fits() {  # fits COMMAND: true if COMMAND --version prints "Python X.Y.Z..." within MIN..TOP
    local version
    version=$("$1" --version 2>&1) || return 1
    [[ $version =~ ^Python\\ ([0-9]+)\\.([0-9]+)\\.([0-9]+) ]] || return 1
    local x=${BASH_REMATCH[1]} y=${BASH_REMATCH[2]} z=${BASH_REMATCH[3]}
    echo "$1 is $version" >&2
    (( x * 1000000 + y * 1000 + z >= min_x * 1000000 + min_y * 1000 + min_z )) || return 1
    (( x * 1000 + y <= top_x * 1000 + top_y ))
}

install() { apt-get install -y --no-install-recommends "$@" >&2; }

install python3 python3-venv
if fits python3; then echo python3; exit 0; fi
if apt-cache show python3.11-venv >/dev/null 2>&1; then
    install python3.11 python3.11-venv
    if fits python3.11; then echo python3.11; exit 0; fi
fi
echo "no Python from $min to $top in the distribution's archive: taking python3.11 from the deadsnakes PPA" >&2
install software-properties-common gnupg gpg-agent
add-apt-repository -y ppa:deadsnakes/ppa >&2
apt-get update >&2
install python3.11 python3.11-venv
if fits python3.11; then echo python3.11; exit 0; fi
echo "error: no Python from $min to $top could be installed (python3: $(python3 --version 2>&1), " \\
     "python3.11: $(python3.11 --version 2>&1))" >&2
exit 1
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image, in /autograder/source
# (this zip, unpacked). Written by `dlbasics gradescope` for {assignment}.
# Works on Gradescope's Ubuntu 22.04 and 24.04 base images.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd /autograder/source

apt-get update
# bubblewrap: the sandbox. Python: one whose version the grading lock resolves for ({python_min} to
# {python_top}), the distribution's where it fits, else deadsnakes' (see choose-python.sh).
apt-get install -y --no-install-recommends bubblewrap ca-certificates
python=$(bash ./choose-python.sh {python_min} {python_top})

rm -rf {venv}
"$python" -m venv {venv}
install="{venv}/bin/python -m pip install --no-cache-dir --disable-pip-version-check"
# torch first, alone, the CPU build from PyTorch's own index (from the default index it is the CUDA
# build, several GB). Then the grading lock from the default index: every other package, exact
# versions (its torch==VERSION is the one just installed), nothing of the kit's development. Then the
# kit itself without dependencies: they are all in the lock.
$install --no-deps --index-url {torch_index} {torch}
$install -r {lock}
$install --no-deps {wheel}
{venv}/bin/python -m pip check

# matplotlib's list of the image's fonts, made once here (in root's cache folder): each grading's
# sandbox reads it instead of scanning every font again (autograder/fontcache.py).
{venv}/bin/python -s -c "import matplotlib.font_manager"

# The seed of the hidden inputs and the template are the grader's: root's only. Student code
# runs as another uid (see run_autograder) and must not read them.
chown -R root:root /autograder/source
chmod -R go-rwx /autograder/source
# A dry run: the kit imports, the packaged configuration and the template agree with the checks.
{venv}/bin/python -s -P -m autograder.cli gradescope-run {assignment_q} --root /autograder --self-test
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder: it grades the notebook in
# /autograder/submission with dlbasics' sandboxed grader and writes /autograder/results/results.json.
# Written by `dlbasics gradescope` for {assignment}. DLBASICS_PYTHON and DLBASICS_ROOT exist only to
# try this script outside Gradescope (see the kit's tests); Gradescope sets neither.
exec "${{DLBASICS_PYTHON:-{venv}/bin/python}}" -s -P -m autograder.cli gradescope-run {assignment_q} \\
    --root "${{DLBASICS_ROOT:-/autograder}}"
"""


def _torch_pin(lock: str) -> str:
    pins = [line.strip() for line in lock.splitlines() if re.match(r"^torch==\S+$", line.strip())]
    if len(pins) != 1:
        raise GradescopeError(f"{GRADING_LOCK} must pin torch exactly once (torch==VERSION); it is installed "
                              "first, from PyTorch's CPU index")
    return pins[0]


def build_wheel(dest: Path) -> Path:
    """The kit as a wheel (pip's own build of the ``autograder`` package); returns its path."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if name == "__pycache__" or name.endswith((".pyc", ".pyo"))}

    with tempfile.TemporaryDirectory(prefix="dlbasics-wheel-") as temporary:
        stage = Path(temporary) / "kit"
        shutil.copytree(PACKAGE, stage / "autograder", ignore=ignore)
        for name in ("pyproject.toml", "README.md"):  # README.md: pyproject names it as the long description
            shutil.copy2(KIT_ROOT / name, stage / name)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                   "--wheel-dir", str(dest), str(stage)]
        if importlib.util.find_spec("setuptools") is not None:
            # The build backend is already here: no download of an isolated build environment.
            command.insert(4, "--no-build-isolation")
        try:
            # A pure-Python wheel builds in seconds; ten minutes means pip is stuck (e.g. on the network).
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise GradescopeError("building the kit's wheel with pip did not finish in 10 minutes") from None
        if done.returncode != 0:
            raise GradescopeError(f"pip could not build the kit's wheel:\n{(done.stdout + done.stderr)[-3000:]}")
    wheels = sorted(dest.glob("dlbasics-*.whl"))
    if len(wheels) != 1:
        raise GradescopeError(f"expected one dlbasics wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def package_config(assignment: Assignment, course) -> dict:
    """What the runner needs of the course: the secret seed and the limits (nothing else)."""
    from importlib.metadata import PackageNotFoundError, version

    from autograder.context import seed_fingerprint
    from autograder.grading.run import limits_of

    try:
        kit = version("dlbasics")
    except PackageNotFoundError:
        kit = "unknown"
    return {
        "about": "dlbasics autograder settings for Gradescope. It holds the course's SECRET seed of the hidden "
                 "inputs: keep this file and its zip private.",
        "assignment": assignment.id, "notebook": assignment.notebook,
        "seed": course.seed, "seed_fingerprint": seed_fingerprint(course.seed),
        "limits": asdict(limits_of(course, {})), "kit_version": kit,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _member(name: str, executable: bool = False, private: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o600 if private else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16  # Unix permissions: the scripts must be executable
    return info


def assignment_files(assignment: Assignment) -> dict[str, Path]:
    """Archive path -> file, for this assignment's part of the zip (nothing of any other)."""
    files = {f"{TEMPLATE_DIR}/{assignment.notebook}": assignment.release,
             f"{EXPECTED_DIR}/{assignment.expected_json.name}": assignment.expected_json}
    for path in sorted(assignment.folder.glob("*.py")):
        if path.name not in NOT_PACKAGED:
            files[f"{ASSIGNMENT_DIR}/{path.name}"] = path
    return files


def build(assignment: Assignment, course, out: Path) -> Path:
    """Write ``OUT/<assignment>-autograder.zip``; return its path."""
    from autograder.grading.grade import load_template
    from autograder.notebook.build import check_fresh

    files = assignment_files(assignment)
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise GradescopeError(f"missing {', '.join(missing)}: build the autograder from a checkout of the kit, "
                              "after `dlbasics build`")
    # Only the template and the expected values are packaged (not the students' self-check bundle):
    # only they must be fresh.
    packaged = {str(path.relative_to(KIT_ROOT)) for path in (assignment.release, assignment.expected_json)}
    stale = [problem for problem in check_fresh([assignment]) if problem.split(" ", 1)[0] in packaged]
    if stale:
        raise GradescopeError("the student template is out of date (" + "; ".join(stale[:3]) +
                              "): run `dlbasics build` first")
    load_template(assignment)  # its check cells agree with the checks' points, or this says which differ
    lock = (KIT_ROOT / GRADING_LOCK).read_text(encoding="utf-8")
    torch = _torch_pin(lock)
    config = package_config(assignment, course)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{assignment.id}-autograder.zip"
    with tempfile.TemporaryDirectory(prefix="dlbasics-gradescope-") as temporary:
        wheel = build_wheel(Path(temporary))
        words = {"assignment": assignment.id, "assignment_q": shlex.quote(assignment.id), "venv": VENV,
                 "torch": torch, "wheel": shlex.quote(wheel.name), "lock": GRADING_LOCK,
                 "torch_index": TORCH_INDEX, "python_min": PYTHON_MIN, "python_top": PYTHON_TOP}
        partial = out / f".{target.name}.tmp"
        # The zip holds the seed: readable by its owner only, from the moment it exists.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            archive.writestr(_member("setup.sh", executable=True), SETUP_SH.format(**words))
            archive.writestr(_member("run_autograder", executable=True), RUN_AUTOGRADER.format(**words))
            archive.writestr(_member("choose-python.sh", executable=True), CHOOSE_PYTHON_SH)
            archive.writestr(_member(GRADING_LOCK), lock)
            archive.writestr(_member(wheel.name), wheel.read_bytes())
            archive.writestr(_member(CONFIG_FILE, private=True), json.dumps(config, indent=2) + "\n")
            for name, path in files.items():
                # The checks and references are the grader's: root's only once unpacked, like the seed.
                archive.writestr(_member(name, private=name.startswith(ASSIGNMENT_DIR)), path.read_bytes())
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    return target


# --- the runner, inside Gradescope's container ---------------------------------------------------


@dataclass(frozen=True)
class PackagedAssignment(Assignment):
    """The assignment as packaged in ROOT/source (the kit's checkout is not there)."""

    template: str = ""
    expected: str = ""

    @property
    def release(self) -> Path:
        return Path(self.template)

    @property
    def expected_json(self) -> Path:
        return Path(self.expected)


def packaged_assignment(assignment_id: str, source: Path) -> tuple[PackagedAssignment, dict]:
    """The packaged assignment and its checked settings, which must be for ``assignment_id``."""
    config = load_config(source, assignment_id)
    folder = source / ASSIGNMENT_DIR
    module = Assignment(config["assignment"], folder, config["notebook"]).module
    assignment = PackagedAssignment(config["assignment"], folder, config["notebook"],
                                    template=str(source / TEMPLATE_DIR / config["notebook"]),
                                    expected=str(source / EXPECTED_DIR / f"{module}.json"))
    return assignment, config


def load_config(source: Path, assignment_id: str) -> dict:
    """The packaged settings, checked: the runner never grades with a seed or limits it made up."""
    from autograder.grading.run import limits_of

    path = source / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradescopeError(f"{path} is missing: upload the zip made by `dlbasics gradescope`") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise GradescopeError(f"{path} is not valid JSON ({error}): rebuild the zip") from None
    if not isinstance(config, dict) or config.get("assignment") != assignment_id:
        raise GradescopeError(f"{path} was made for {config.get('assignment') if isinstance(config, dict) else '?'}, "
                              f"not {assignment_id}: upload this assignment's zip")
    if not isinstance(config.get("notebook"), str) or not config["notebook"].endswith(".ipynb") \
            or "/" in config["notebook"]:
        raise GradescopeError(f"{path} names no notebook: rebuild the zip")
    seed = config.get("seed")
    if not isinstance(seed, str) or len(seed) < 16:
        # Never the kit's default seed: anyone holding the kit could compute its hidden inputs.
        raise GradescopeError(f"{path} holds no course seed: rebuild the zip with `dlbasics gradescope "
                              f"{assignment_id} --course COURSE`")
    if not isinstance(config.get("limits"), dict):
        raise GradescopeError(f"{path} holds no limits: rebuild the zip")
    config["limits"] = limits_of(None, config["limits"])
    return config


def find_notebook(folder: Path, assignment) -> tuple[Path | None, str, str]:
    """The notebook to grade under ``folder``: ``(path, "", "")`` or ``(None, status, reason)``.

    The one finder of :mod:`autograder.grading.intake` (the same rules as ``dlbasics grade``:
    hidden and ``__MACOSX`` folders skipped, links listed but never followed, among several the
    newest, then the one holding answers, then the one named like the template); none or an
    ambiguous several is a reason shown to the student, not a guess.
    """
    from autograder.grading.grade import NO_SUBMISSION, UNREADABLE
    from autograder.grading.intake import find_notebook as find

    path, reason = find(folder, assignment, limit=MAX_SUBMISSION_ENTRIES)
    if path is not None:
        return path, "", ""
    nothing = reason.startswith(("nothing was submitted", "no notebook"))
    return None, NO_SUBMISSION if nothing else UNREADABLE, reason


def secure_results_dir(results: Path) -> None:
    """ROOT/results as a real folder of this process's user (root on Gradescope) that nobody else
    may write, and without an earlier results.json: before any student code runs."""
    results.mkdir(mode=0o755, exist_ok=True)
    info = os.lstat(results)
    if not stat.S_ISDIR(info.st_mode):
        raise GradescopeError(f"{results} is not a folder (a link?): the results cannot be written safely")
    if info.st_uid != os.geteuid():
        os.chown(results, os.geteuid(), os.getegid())  # possible as root, which is how Gradescope runs us
    # Write for the owner only: a submission runs as another uid and can create, replace or
    # block nothing in here (not results.json, not a folder of that name).
    os.chmod(results, 0o755)
    old = results / RESULTS_FILE
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink(missing_ok=True)


def secure_source(source: Path) -> None:
    """The packaged seed and template: readable by this process's user only (setup.sh did it too)."""
    if source.is_dir() and not source.is_symlink():
        os.chmod(source, 0o700)
        config = source / CONFIG_FILE
        if config.is_file() and not config.is_symlink():
            os.chmod(config, 0o600)


def write_results(results: Path, payload: dict) -> Path:
    """results.json written atomically: a temporary file in the same folder, then renamed over."""
    from autograder.report.outputs import dumps

    fd, partial = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=results)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps(payload))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, results / RESULTS_FILE)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return results / RESULTS_FILE


def fault_results(reason: str) -> dict:
    """results.json when the grader itself failed: a valid file that blames nobody and awards nothing."""
    from autograder.report.gradescope import md_text

    reason = reason[:MAX_REASON_CHARS]  # e.g. a sandbox's start-up error: the gist, not a page of it
    return {"score": 0.0, "output": md_text(f"The autograder could not grade this submission: {reason}. This is a "
                                            "problem of the grader, not of your work: please tell your instructor."),
            "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
            "execution_time": 0.0, "tests": []}


# Gradescope's own record of a submission (its documented submission_metadata.json): at most
# this much is read, as a class's metadata is a few KB.
METADATA_BYTES = 1_000_000


def submitters(root: Path) -> str:
    """Whose hidden inputs a Gradescope submission is graded on: its users' Gradescope ids.

    ``ROOT/submission_metadata.json`` lists the users of the submission (``users[].id``, all
    members of a group). Without it (an older image, a manual run) every submission shares
    one set of hidden inputs, ``submission``.
    """
    try:
        with (root / "submission_metadata.json").open("rb") as handle:
            metadata = json.loads(handle.read(METADATA_BYTES))
        ids = sorted(str(user["id"]) for user in metadata["users"] if isinstance(user.get("id"), int | str))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return STUDENT
    return "gradescope:" + "+".join(ids) if ids else STUDENT


def submission_time(root: Path) -> tuple[str | None, str]:
    """When Gradescope received the submission: ``created_at`` of ROOT/submission_metadata.json.

    Gradescope writes that file itself (the student cannot); its time is checked like every
    other record (:func:`autograder.grading.intake.checked_time`) and never stops the run.
    """
    from autograder.grading.intake import checked_time

    path = root / "submission_metadata.json"
    try:
        if path.is_symlink() or not path.is_file():
            return None, ""
        with path.open("rb") as handle:
            created = json.loads(handle.read(METADATA_BYTES)).get("created_at")
    except (OSError, ValueError, AttributeError):
        return None, "Gradescope's submission_metadata.json cannot be read: time unknown"
    if not isinstance(created, str):
        return None, ""
    return checked_time(created, "Gradescope's submission metadata", dt.datetime.now(dt.UTC), None)


def grade_submission(assignment_name: str, root: Path) -> tuple[dict, dict]:
    """Grade ROOT/submission with the packaged settings; return ``(result, results.json payload)``."""
    from autograder.context import GradingContext
    from autograder.grading.grade import empty_result, grade_one, load_template
    from autograder.report.gradescope import results_json
    from autograder.report.outputs import marks
    from autograder.sandbox.pool import Worker, isolation_mode

    assignment, config = packaged_assignment(assignment_name, root / "source")
    template = load_template(assignment)
    path, status, reason = find_notebook(root / "submission", assignment)
    context = GradingContext(config["seed"], "the autograder zip", config["limits"], None, isolation_mode())
    in_effect = context.seed_fingerprint
    started_sandbox = 0.0
    if path is None:
        result = empty_result(assignment, template, STUDENT, root / "submission", status, reason)
    else:
        # Started here, in this thread, by grade_one: bubblewrap's --die-with-parent is tied to
        # the thread that started it, so a worker started from a helper thread would die with it.
        worker = Worker(config["limits"])
        began = time.monotonic()
        try:
            # Hidden inputs of the submitter(s) Gradescope names: each student has inputs of their own.
            result = grade_one(assignment, template, submitters(root), path, worker, context)
            result.student = STUDENT
        finally:
            worker.stop()
        # What the cold start costs apart from grading: mostly the worker importing torch.
        started_sandbox = time.monotonic() - began - result.seconds
    result.submitted_at, result.time_note = submission_time(root)
    payload = results_json(result, marks(result), manual_tests=False)
    # Stored by Gradescope, not shown to students: which seed (its fingerprint only) and sandbox graded it.
    payload["extra_data"] = {"dlbasics": {"assignment": assignment.id, "status": str(result.status),
                                          "seed_fingerprint": in_effect,
                                          "isolation": result.isolation or isolation_mode(),
                                          "grading_seconds": result.seconds,
                                          "sandbox_start_seconds": round(started_sandbox, 3),
                                          "kit_version": config.get("kit_version", "")}}
    return result, payload


def self_test(assignment_name: str, root: Path) -> str:
    """What setup.sh runs once: the packaged settings and template load and agree with the checks."""
    from autograder.grading.grade import load_template

    assignment, config = packaged_assignment(assignment_name, root / "source")
    template = load_template(assignment)
    return (f"ok: {assignment.id}, {sum(template.points.values()):g} automatic points, seed fingerprint "
            f"{config['seed_fingerprint']}, limits {asdict(config['limits'])}")


def run(assignment_name: str, root: Path) -> tuple[int, dict]:
    """The whole Gradescope run; returns ``(exit status, payload written)``.

    A valid results.json is written whatever happens: the student's problems (no notebook,
    several, an unreadable file) are a zero with the reason, the grader's own (a broken
    configuration, a sandbox that cannot start) a zero that says so and exit status 1, with
    the traceback on stdout, which Gradescope shows to instructors only.
    """
    from autograder.grading.grade import GRADER_ERROR
    from autograder.sandbox.pool import SandboxUnavailable
    from autograder.text import terminal_text

    started = time.monotonic()
    results = root / "results"
    secure_results_dir(results)
    secure_source(root / "source")
    status = 0
    try:
        result, payload = grade_submission(assignment_name, root)
        print(terminal_text(f"dlbasics: {result.status}: {result.auto_total:g}/{result.auto_max:g} "
                            f"automatic points ({result.file}); isolation "
                            f"{payload['extra_data']['dlbasics']['isolation']}; seed fingerprint "
                            f"{payload['extra_data']['dlbasics']['seed_fingerprint']}"
                            + (f"; {result.message}" if result.message else "")))
        if result.status == GRADER_ERROR:
            print(terminal_text(json.dumps(result.to_json(), indent=1)[-20_000:]))
            status = 1
    except Exception as error:  # the grader's own fault: still a valid results.json
        traceback.print_exc(file=sys.stdout)
        known = isinstance(error, GradescopeError | SandboxUnavailable | AssignmentError)
        reason = str(error) if known else f"internal error ({type(error).__name__})"
        payload = fault_results(reason)
        status = 1
    payload["execution_time"] = round(time.monotonic() - started, 3)
    write_results(results, payload)
    return status, payload
