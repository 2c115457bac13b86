"""The two locks: the grading environment resolves where graders run, and holds what grading needs only.

``requirements-grading.lock`` is what the Gradescope autograder installs (with the kit's wheel) on
Ubuntu 22.04 (python3.11 is 3.11.0 there) or 24.04 (python3 is 3.12): every pin must have a wheel for
each Python from 3.11.0 on and for 3.12. pip answers that without installing anything:
``pip install --dry-run --python-version X --only-binary=:all: --no-deps -r LOCK --target DIR`` reads the
indexes pip is configured with (here and in CI: PyPI through the machine's registries, offline from the
internet) and fails on the first pin without a wheel for X; the test drops each failing pin and asks again,
so one run names them all.

torch is asked separately, with ``pip index versions torch --python-version X --only-binary=:all:``:
a dry run of torch downloads the whole wheel (over 500 MB from PyPI, no metadata file is served) just to
read its metadata. Graders install torch from PyTorch's CPU index, which this machine cannot reach; the
versions PyPI has wheels of for X stand in for it (PyTorch publishes ``+cpu`` builds of each release for
the same Pythons, and this machine's pip also sees a local ``2.13.0+cpu`` wheel for 3.11).

``setup.sh``'s choice of Python is ``choose-python.sh`` in the zip; it runs here against fake
``apt-get``/``python3``/``python3.11`` commands that print the version strings of both images.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from conftest import KIT_ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from autograder.platforms.gradescope import CHOOSE_PYTHON_SH, GRADING_LOCK, PYTHON_MIN, PYTHON_TOP

GRADING = KIT_ROOT / GRADING_LOCK
DEV = KIT_ROOT / "requirements-dev.lock"
PIP = [sys.executable, "-m", "pip"]
# The Pythons of the images: Ubuntu 22.04's python3.11 (3.11.0), the last 3.11 before soupsieve 4's
# floor of 3.11.5 (the pin that broke the Gradescope build), and Ubuntu 24.04's python3 (3.12).
PYTHONS = [PYTHON_MIN, "3.11.4", PYTHON_TOP]
# Packages of development only: none may be in the grading lock.
DEVELOPMENT = {"nbgrader", "jupyterlab", "notebook", "ipykernel", "nbclient", "nbconvert", "pytest", "pytest-timeout",
               "ruff", "playwright", "selenium", "dask", "distributed", "alembic", "sqlalchemy", "rich"}


def pins(path: Path) -> dict[str, str]:
    """name (canonical) -> version of every ``name==version`` line; other lines must be comments or ``-r``."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == f"-r {GRADING_LOCK}":
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        assert match, f"{path.name}: {line!r} is not name==version"
        name = canonicalize_name(match[1])
        assert name not in found, f"{path.name} pins {name} twice"
        found[name] = match[2]
    return found


def unresolved(lock_lines: list[str], python: str, target: Path) -> list[str]:
    """The pins of ``lock_lines`` that have no wheel for ``python`` (empty: all resolve)."""
    failing, remaining = [], list(lock_lines)
    # Each round drops the pin pip names; a bound, as the lock is finite and each round drops one.
    for _ in range(len(lock_lines) + 1):
        lock = target / "lock.txt"
        lock.write_text("".join(f"{line}\n" for line in remaining))
        done = subprocess.run([*PIP, "install", "--dry-run", "--python-version", python, "--only-binary=:all:",
                               "--no-deps", "-r", str(lock), "--target", str(target / "t")],
                              capture_output=True, text=True, timeout=600)
        if done.returncode == 0:
            assert "Would install" in done.stdout, done.stdout[-2000:]
            return failing
        match = re.search(r"No matching distribution found for (\S+)", done.stderr)
        assert match, f"pip failed for another reason:\n{done.stderr[-3000:]}"
        failing.append(match[1])
        remaining = [line for line in remaining if line != match[1]]
    raise AssertionError(f"pip kept failing: {failing}")


@pytest.mark.parametrize("python", PYTHONS)
def test_the_grading_lock_resolves_for_every_python_of_the_images(python, tmp_path):
    lines = [f"{name}=={version}" for name, version in pins(GRADING).items() if name != "torch"]
    failing = unresolved(lines, python, tmp_path)
    assert not failing, f"{GRADING_LOCK}: no wheel for Python {python}: {', '.join(failing)}"
    torch = pins(GRADING)["torch"]
    listed = subprocess.run([*PIP, "index", "versions", "torch", "--python-version", python, "--only-binary=:all:"],
                            capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr[-2000:]
    versions = re.search(r"Available versions: (.*)", listed.stdout)
    assert versions and torch in [v.strip() for v in versions[1].split(",")], \
        f"no torch {torch} wheel for Python {python}: {listed.stdout[-500:]}"


def test_the_unresolvable_pin_of_the_issue_is_caught(tmp_path):
    """The resolver check fails on the pin that broke the Gradescope build (soupsieve 4 needs 3.11.5)."""
    assert unresolved(["soupsieve==4.1.2", "cycler==0.12.1"], "3.11.0", tmp_path) == ["soupsieve==4.1.2"]


def test_the_development_lock_is_the_grading_lock_plus_development_only():
    assert f"-r {GRADING_LOCK}" in DEV.read_text().splitlines()
    grading, dev = pins(GRADING), pins(DEV)
    assert not grading.keys() & dev.keys(), f"pinned in both locks: {sorted(grading.keys() & dev.keys())}"
    assert not grading.keys() & DEVELOPMENT, f"development packages in {GRADING_LOCK}: {grading.keys() & DEVELOPMENT}"
    assert {"torch", "numpy", "matplotlib", "ipython", "nbformat", "jinja2", "pillow"} <= grading.keys()
    assert {"nbgrader", "jupyterlab", "pytest", "ruff", "playwright", "distributed"} <= dev.keys()


def closure(roots: list[str], python: str) -> set[str]:
    """Every distribution ``roots`` need on Linux at ``python``, read from the installed packages' metadata."""
    environment = {"python_version": ".".join(python.split(".")[:2]), "python_full_version": python,
                   "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                   "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    needed: dict[str, set[str]] = {}
    todo = [Requirement(root) for root in roots]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in needed and extras <= needed[name]:
            continue
        needed[name] = needed.get(name, set()) | extras
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is needed but not installed in this venv (make setup)") from None
        for line in requires:
            child = Requirement(line)
            if child.marker is None or any(child.marker.evaluate({**environment, "extra": extra})
                                           for extra in ["", *needed[name]]):
                todo.append(Requirement(child.name + (f"[{','.join(child.extras)}]" if child.extras else "")))
    return set(needed)


def declared() -> tuple[list[str], list[str]]:
    """pyproject's runtime dependencies, and those plus every extra (the kit's own name expanded)."""
    project = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["project"]
    runtime = project["dependencies"]
    extras = [line for group in project["optional-dependencies"].values() for line in group
              if canonicalize_name(Requirement(line).name) != "dlbasics"]
    return runtime, runtime + extras


@pytest.mark.parametrize("python", PYTHONS)
def test_each_lock_pins_everything_its_packages_need(python):
    """Complete: installing the lock gives a working environment at each Python, nothing left to chance."""
    runtime, everything = declared()
    grading, dev = pins(GRADING), pins(DEV)
    need = closure(runtime, python)
    assert need - grading.keys() == set(), f"{GRADING_LOCK} misses what grading needs: {sorted(need - grading.keys())}"
    missing = closure(everything, python) - grading.keys() - dev.keys()
    assert missing == set(), f"the locks miss {sorted(missing)}"
    # The metadata read is the pinned version's (the venv is made from these locks).
    for name, version in {**grading, **dev}.items():
        installed = Version(distribution(name).version)
        assert installed.public == Version(version).public, f"{name}: installed {installed}, pinned {version}"


def test_no_lock_pins_what_nothing_needs():
    """Nothing unused (selenium and rich were): each pin is needed at one of the Pythons at least."""
    runtime, everything = declared()
    grading, dev = pins(GRADING), pins(DEV)
    need = set().union(*(closure(runtime, python) for python in PYTHONS))
    assert grading.keys() - need == set(), f"{GRADING_LOCK} pins what grading does not need: " \
                                           f"{sorted(grading.keys() - need)}"
    need_all = set().union(*(closure(everything, python) for python in PYTHONS))
    unused = (grading.keys() | dev.keys()) - need_all
    assert unused == set(), f"pinned but needed by nothing: {sorted(unused)}"


# --- setup.sh's Python, decided by version ----------------------------------------------------------------

FAKE_APT_GET = """#!/usr/bin/env bash
# apt-get install: "installs" python3.11 with the version of the archive, or deadsnakes' once its PPA is added.
echo "apt-get $*" >> "$STATE/log"
[ "$1" = install ] || exit 0
for package in "$@"; do
  if [ "$package" = python3.11 ]; then
    if [ -e "$STATE/deadsnakes" ]; then version=$(cat "$STATE/deadsnakes-version")
    elif [ -e "$STATE/archive-python3.11" ]; then version=$(cat "$STATE/archive-python3.11")
    else echo "E: Unable to locate package python3.11" >&2; exit 100; fi
    printf '#!/usr/bin/env bash\\necho "Python %s"\\n' "$version" > "$BIN/python3.11"
    chmod +x "$BIN/python3.11"
  fi
done
"""
FAKE_APT_CACHE = """#!/usr/bin/env bash
echo "apt-cache $*" >> "$STATE/log"
[ "$1" = show ] && [ "$2" = python3.11-venv ] && { [ -e "$STATE/archive-python3.11" ] || [ -e "$STATE/deadsnakes" ]; }
"""
FAKE_ADD_APT_REPOSITORY = """#!/usr/bin/env bash
echo "add-apt-repository $*" >> "$STATE/log"
touch "$STATE/deadsnakes"
"""

# What `python3 --version` / `python3.11 --version` print on the images (Ubuntu's packages 3.10.12-1~22.04.x,
# 3.11.0-1~22.04.x in jammy-updates, 3.11.0~rc1-1~22.04 in jammy's release pocket, 3.12.3-1ubuntu0.x in noble),
# and the deadsnakes PPA's 3.11.
UBUNTU_22_04 = {"python3": "Python 3.10.12", "python3.11": "Python 3.11.0"}
UBUNTU_22_04_RC = {"python3": "Python 3.10.12", "python3.11": "Python 3.11.0rc1"}
UBUNTU_24_04 = {"python3": "Python 3.12.3", "python3.11": None}  # noble has no python3.11 package
FUTURE = {"python3": "Python 3.14.0", "python3.11": None}
DEADSNAKES = "3.11.14"


def choose(tmp_path: Path, image: dict, minimum: str = PYTHON_MIN, top: str = PYTHON_TOP):
    state, bin_ = tmp_path / "state", tmp_path / "bin"
    state.mkdir()
    bin_.mkdir()
    (state / "log").write_text("")
    (state / "deadsnakes-version").write_text(DEADSNAKES)
    if image["python3.11"]:
        (state / "archive-python3.11").write_text(image["python3.11"].removeprefix("Python "))
    for name, text in {"apt-get": FAKE_APT_GET, "apt-cache": FAKE_APT_CACHE,
                       "add-apt-repository": FAKE_ADD_APT_REPOSITORY,
                       "python3": f"#!/usr/bin/env bash\necho '{image['python3']}'\n"}.items():
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    script = tmp_path / "choose-python.sh"
    script.write_text(CHOOSE_PYTHON_SH)
    done = subprocess.run(["bash", str(script), minimum, top], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_}:/usr/bin:/bin", "STATE": str(state), "BIN": str(bin_)})
    return done, (state / "log").read_text()


@pytest.mark.parametrize(("image", "chosen"), [(UBUNTU_22_04, "python3.11"), (UBUNTU_22_04_RC, "python3.11"),
                                               (UBUNTU_24_04, "python3")])
def test_setup_takes_the_distributions_python_where_its_version_fits(tmp_path, image, chosen):
    done, log = choose(tmp_path, image)
    assert done.returncode == 0 and done.stdout == f"{chosen}\n", done.stderr
    assert "add-apt-repository" not in log


def test_setup_takes_deadsnakes_where_the_distributions_versions_do_not_fit(tmp_path):
    done, log = choose(tmp_path, FUTURE)
    assert done.returncode == 0 and done.stdout == "python3.11\n", done.stderr
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in log and "deadsnakes" in done.stderr


def test_the_choice_is_by_version_not_by_which_packages_the_archive_has(tmp_path):
    """A lock needing 3.11.5 (as soupsieve 4 did): 22.04's python3.11 (3.11.0) is there but too old."""
    done, log = choose(tmp_path, UBUNTU_22_04, minimum="3.11.5")
    assert done.returncode == 0 and done.stdout == "python3.11\n", done.stderr
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in log
    assert log.index("add-apt-repository") < log.rindex("apt-get install -y --no-install-recommends python3.11")


def test_no_fitting_python_is_a_clear_failure(tmp_path):
    done, _ = choose(tmp_path, UBUNTU_24_04, minimum="3.13.0", top="3.13")
    assert done.returncode == 1 and done.stdout == ""
    assert "no Python from 3.13.0 to 3.13 could be installed" in done.stderr
