"""What a student does with the handout zip alone: set up Python, open the notebook, run the self-check.

* The README's Linux commands, run as written (``HOME`` a fresh folder, so ``~/dlbasics-env`` is a clean
  venv), install what ``requirements.txt`` says; the notebook, with the reference answers typed in,
  runs in that venv's Jupyter (``jupyter nbconvert --execute``) and every self-check passes. The torch
  line asks PyTorch's CPU index, which this machine cannot reach: pip retries it, then takes the CPU
  wheel of the machine's configured find-links (the same build, 2.13.0+cpu), and torch's dependencies
  from PyPI, given as an extra index for this run (elsewhere all come from that index).
* Google Colab: the kernel starts in a folder that holds the uploaded notebook and the zip, not
  unpacked. The notebook's first code cell unpacks ``selfcheck/`` from the zip and the self-check runs
  (no network: the child has none, see ``offline``); without the zip the cell says how to upload it.
* conda could not be installed here: PyPI offers no ``conda`` or ``micromamba`` and Debian's archive no
  ``conda``/``micromamba`` package; ``environment.yml`` is checked for what it pins, not run.
* A second torch version: PyPI has only the CUDA builds of Linux torch (torch 2.2.2: a 755.6 MB wheel
  plus the nvidia-* packages it requires) and PyTorch's CPU index is out of reach, so the self-check is
  run with 2.13.0 only (the README says so).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.notebook.fill import fill, solution_answers, write
from autograder.notebook.handout import STUDENT_PACKAGES, TORCH_CPU_INDEX, student_pins

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("handout")
    run_dlbasics("handout", "--out", out)
    return {a: out / f"{a}.zip" for a in ASSIGNMENTS}


def members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def test_one_environment_serves_the_whole_course(handouts):
    requirements = {members(z)[f"{a}/requirements.txt"] for a, z in handouts.items()}
    environments = {members(z)[f"{a}/environment.yml"] for a, z in handouts.items()}
    assert len(requirements) == 1 and len(environments) == 1
    pins = student_pins()
    assert requirements.pop().decode() == "".join(f"{name}=={pins[name]}\n" for name in STUDENT_PACKAGES)
    environment = environments.pop().decode()
    assert f"- --extra-index-url {TORCH_CPU_INDEX}" in environment and "name: dlbasics" in environment
    assert all(f"- {name}=={pins[name]}" in environment for name in STUDENT_PACKAGES)


def test_the_readme_and_the_notebook_speak_to_the_student_with_no_path_into_the_kit(handouts):
    files = members(handouts[ASSIGNMENT.id])
    readme = files[f"{ASSIGNMENT.id}/README.md"].decode()
    notebook = json.loads(files[f"{ASSIGNMENT.id}/{ASSIGNMENT.notebook}"])
    header = "".join(notebook["cells"][0]["source"])
    for text in (readme, header, json.dumps(notebook["cells"][0]["metadata"])):
        for kit_word in ("solutions/", "dlbasics kit", "autograder", "requirements-"):
            assert kit_word not in text, kit_word
    # The right torch line per platform: PyTorch's CPU index on Linux, the default index elsewhere.
    torch = student_pins()["torch"]
    assert f"pip install torch=={torch} --index-url {TORCH_CPU_INDEX}" in readme
    assert f"`~/dlbasics-env/bin/pip install torch=={torch}` as the second line" in readme  # macOS
    assert "conda env create -f environment.yml" in readme and "Colab" in readme and "JupyterHub" in readme
    assert "Colab" in header and "JupyterHub" in header and f"{ASSIGNMENT.id}.zip" in header
    first_code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "_find_selfcheck" in "".join(first_code["source"])


def readme_commands(readme: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert len(blocks) == 1, "the README has one block of set-up commands"
    return [line for line in blocks[0].splitlines() if line.strip()]


def reference_notebook(unpacked: Path) -> Path:
    """The student's notebook from the zip with the reference answers typed into its answer cells."""
    filled = fill(ASSIGNMENT, solution_answers(ASSIGNMENT))
    student = json.loads((unpacked / ASSIGNMENT.notebook).read_text(encoding="utf-8"))
    answers = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"): cell["source"]
               for cell in filled["cells"]}
    for cell in student["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id in answers:
            cell["source"] = answers[grade_id]
    target = unpacked / "answered.ipynb"
    write(student, target)
    return target


def check_outputs(executed: Path) -> list[str]:
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for cell in notebook["cells"] for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    texts = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("check("):
            texts.append(json.dumps(cell.get("outputs", [])))
    return texts


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_readme_commands_in_a_clean_venv_give_a_working_selfcheck(handouts, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with zipfile.ZipFile(handouts[ASSIGNMENT.id]) as zipped:
        zipped.extractall(tmp_path)
    folder = tmp_path / ASSIGNMENT.id
    readme = (folder / "README.md").read_text(encoding="utf-8")
    # The student's shell: none of this kit's venv, a home of its own.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(home), PATH="/usr/local/bin:/usr/bin:/bin", PIP_DISABLE_PIP_VERSION_CHECK="1")
    # The torch line's --index-url is PyTorch's CPU index, which also serves torch's dependencies
    # (filelock, sympy, ...). It is out of reach here: PyPI, an extra index for this run only, serves them
    # instead, and the machine's find-links the 2.13.0+cpu wheel itself (see the module docstring).
    configured = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.extra-index-url"],
                                capture_output=True, text=True).stdout.split()
    env["PIP_EXTRA_INDEX_URL"] = " ".join(["https://pypi.org/simple", *configured])
    for command in readme_commands(readme):
        done = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=1200)
        assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    venv = home / "dlbasics-env"
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                               capture_output=True, text=True, check=True, env=env).stdout.lower()
    assert "\nnbgrader==" not in f"\n{installed}" and "\ndlbasics==" not in f"\n{installed}"
    assert f"\ntorch=={student_pins()['torch']}" in f"\n{installed}"
    # The kit is not importable there: the self-check is the zip's selfcheck/ alone.
    kit = subprocess.run([str(venv / "bin" / "python"), "-c", "import autograder"], capture_output=True, env=env,
                         cwd=folder)
    assert kit.returncode != 0
    answered = reference_notebook(folder)
    executed = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                               "--output", "executed.ipynb", str(answered)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=900)
    assert executed.returncode == 0, executed.stderr[-5000:]
    outputs = check_outputs(folder / "executed.ipynb")
    assert len(outputs) == len({fn.question for fn in ASSIGNMENT.checks()})
    for text in outputs:
        counts = re.findall(r"(\d+)/(\d+) checks passed", text)
        assert counts and all(a == b for a, b in counts), text[:500]


def offline(command: list[str]) -> list[str]:
    """``command`` without a network (a new network namespace) where unshare can make one, else as is."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn", *command]
    return command


COLAB_SCRIPT = """
import json, sys
notebook = json.load(open(sys.argv[1]))
code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
exec("".join(code[0]["source"]), globals())   # the notebook's first code cell, as Colab runs it
exec("".join(code[1]["source"]), globals())   # its setup cell: from selfcheck import check, done
exec("def predict(x, m, b):\\n    return m * x + b\\n", globals())
check("predict")
"""


def colab_run(content: Path, notebook: Path) -> subprocess.CompletedProcess:
    # -s -P: nothing of this kit's checkout or site on the path but the installed packages; the kit
    # itself is importable from this venv, so the test asserts which selfcheck was imported.
    script = COLAB_SCRIPT + "import selfcheck; print('FROM', selfcheck.__file__)\n"
    return subprocess.run(offline([sys.executable, "-s", "-P", "-c", script, str(notebook)]), cwd=content,
                          capture_output=True, text=True, timeout=300)


def test_in_colab_the_first_cell_unpacks_the_selfcheck_from_the_uploaded_zip(handouts, tmp_path):
    content = tmp_path / "content"  # Colab's /content: the uploaded notebook and the zip, side by side
    content.mkdir()
    notebook = content / ASSIGNMENT.notebook
    notebook.write_bytes(members(handouts[ASSIGNMENT.id])[f"{ASSIGNMENT.id}/{ASSIGNMENT.notebook}"])
    shutil.copy(handouts[ASSIGNMENT.id], content / f"{ASSIGNMENT.id}.zip")
    done = colab_run(content, notebook)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"unpacked the self-check from {ASSIGNMENT.id}.zip" in done.stdout
    assert re.search(r"predict: (\d+)/\1 checks passed", done.stdout), done.stdout
    assert f"FROM {content / ASSIGNMENT.id / 'selfcheck' / '__init__.py'}" in done.stdout
    unpacked = {p.relative_to(content).as_posix() for p in content.rglob("*") if p.is_file()}
    # Only the self-check came out of the zip (not the README, not a second notebook).
    assert {p for p in unpacked if not p.startswith(f"{ASSIGNMENT.id}/selfcheck/")} == \
        {ASSIGNMENT.notebook, f"{ASSIGNMENT.id}.zip"} | {p for p in unpacked if "__pycache__" in p}
    again = colab_run(content, notebook)  # run again: found, not unpacked twice
    assert again.returncode == 0 and "unpacked" not in again.stdout and "checks passed" in again.stdout


def test_in_colab_without_the_zip_the_first_cell_says_how_to_upload_it(handouts, tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    notebook = content / ASSIGNMENT.notebook
    notebook.write_bytes(members(handouts[ASSIGNMENT.id])[f"{ASSIGNMENT.id}/{ASSIGNMENT.notebook}"])
    done = colab_run(content, notebook)
    assert "The self-check was not found" in done.stdout and f"upload {ASSIGNMENT.id}.zip" in done.stdout
    assert done.returncode != 0 and "No module named 'selfcheck'" in done.stderr


def test_a_zip_that_tries_to_write_outside_is_not_unpacked_there(handouts, tmp_path):
    """The first cell unpacks only <assignment>/selfcheck/ members without '..': a crafted zip writes nothing else."""
    content = tmp_path / "content"
    content.mkdir()
    notebook = content / ASSIGNMENT.notebook
    notebook.write_bytes(members(handouts[ASSIGNMENT.id])[f"{ASSIGNMENT.id}/{ASSIGNMENT.notebook}"])
    with zipfile.ZipFile(content / "evil.zip", "w") as evil:
        for name, data in members(handouts[ASSIGNMENT.id]).items():
            evil.writestr(name, data)
        evil.writestr(f"{ASSIGNMENT.id}/selfcheck/../../../escaped.txt", "x")
        evil.writestr("elsewhere.txt", "x")
    done = colab_run(content, notebook)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "escaped.txt").exists() and not (content / "elsewhere.txt").exists()
    assert not (content / "escaped.txt").exists()
