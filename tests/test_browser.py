"""End to end in the student's view: JupyterLab in headless Chromium runs the notebooks.

For each assignment, a JupyterLab server (started from this venv, in a temporary folder that
holds a copy of every generated ``assignments/<id>/`` folder) is driven by Playwright:

1. the untouched student notebook, Run ▸ Run All Cells: every self-check says "not
   implemented yet" and nothing prints a traceback or anything else on stderr;
2. a copy holding the reference answers, Run All Cells: every self-check says all its checks
   passed, the plots render as images, and (for 01) the story cells print the learned formula
   and the prediction for 35 hours;
3. that copy saved from the browser (Ctrl+S) and graded with ``dlbasics check``: full marks.

Screenshots of each step go to ``test-artifacts/browser/`` (git-ignored).
Run: ``pytest tests/test_browser.py -q -s`` (needs /usr/bin/chromium; never downloads a browser).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import chromium, sync_api_or_skip
from conftest import automatic_max

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.fill import fill, solution_answers, write

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = sync_api_or_skip()
ARTIFACTS = KIT_ROOT / "test-artifacts" / "browser"
SERVER_START_SECONDS = 90
RUN_ALL_MS = 120_000  # a whole notebook, kernel start (import torch) included
UI_MS = 60_000

# What JupyterLab's student settings are overridden with: every cell in the DOM (no virtual
# scrolling, so the DOM holds every cell's outputs), and no news / update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    root: Path
    url: str
    token: str
    log: Path

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """Free the memory of the kernels (torch) between notebooks; best effort."""
        try:
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        except (urllib.error.URLError, OSError):
            pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server whose root holds a copy of every generated assignment folder."""
    base = tmp_path_factory.mktemp("browser")
    root = base / "course"
    for assignment in ASSIGNMENTS.values():
        shutil.copytree(KIT_ROOT / "assignments" / assignment.id, root / assignment.id,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    settings = base / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values), encoding="utf-8")

    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
           "IPYTHONDIR": str(base / "ipython"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as a student gets it
    log = base / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = Lab(root=root, url=f"http://127.0.0.1:{port}", token=token, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START_SECONDS}s:\n"
                                f"{log.read_text(errors='replace')}")
                time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def browser():
    with chromium(sync_api) as launched:
        yield launched


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ---------------------------------------------------------------------------------------------
# The notebook as the student sees it (read from the DOM).

# Every code cell of the notebook on screen: its prompt, its source, and its outputs.
_READ_CELLS = """() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  return [...notebook.querySelectorAll('.jp-Cell.jp-CodeCell')].map(cell => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    source: (cell.querySelector('.jp-InputArea-editor .cm-content') || {}).innerText || '',
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(out => ({
      mime: out.getAttribute('data-mime-type') || '',
      text: out.innerText,
      checkBoxes: out.querySelectorAll('.dlbasics-check').length,
      images: out.querySelectorAll('img').length,
    })),
  }));
}"""

# True once Run All has finished: no cell queued or running ([*]), and every code cell has an
# execution count, or an error stopped the run (then the assertions report it).
_RUN_FINISHED = """() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!notebook) return false;
  const prompts = [...notebook.querySelectorAll('.jp-Cell.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent);
  if (prompts.length === 0 || prompts.some(p => p.includes('*'))) return false;
  if (notebook.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) return true;
  return prompts.every(p => /\\[\\d+\\]/.test(p));
}"""


# window.jupyterapp exists because the server runs with --LabApp.expose_app_in_browser.
_KERNEL_READY = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!widget || !widget.context || !widget.sessionContext) return false;
  const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
  return !!(widget.context.isReady && kernel
    && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}"""


def open_notebook(browser, lab: Lab, relative: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    context.set_default_timeout(UI_MS)
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{relative}?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible")
    # The notebook is loaded and its kernel connected and idle before we run anything: Run All
    # before that can be dropped (or answered with a kernel dialog).
    page.wait_for_function(_KERNEL_READY, timeout=UI_MS, polling=200)
    return context, page


def run_all_cells(page) -> list[dict]:
    """Run ▸ Run All Cells from the menu bar; wait for the run to end; return the code cells."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    try:
        page.wait_for_function(_RUN_FINISHED, timeout=RUN_ALL_MS, polling=250)
    except sync_api.TimeoutError:
        path = ARTIFACTS / f"timeout-{int(time.time())}.png"
        page.screenshot(path=str(path), full_page=True)
        prompts = [(c["prompt"], c["source"][:30]) for c in page.evaluate(_READ_CELLS)]
        pytest.fail(f"Run All did not finish in {RUN_ALL_MS / 1000:g}s (screenshot {path}); prompts: {prompts}")
    return page.evaluate(_READ_CELLS)


def problems(cells: list[dict]) -> list[str]:
    """Tracebacks and anything else on stderr, as the student would read them."""
    found = []
    for number, cell in enumerate(cells, start=1):
        for output in cell["outputs"]:
            if output["mime"] == "application/vnd.jupyter.stderr" or "Traceback" in output["text"]:
                found.append(f"code cell {number} ({cell['source'][:40]!r}):\n{output['text']}")
    return found


def check_cells(cells: list[dict]) -> list[dict]:
    found = [c for c in cells if c["source"].strip().startswith("check(")]
    assert found, "no self-check cells found in the notebook on screen"
    return found


def cell_text(cell: dict) -> str:
    return "\n".join(o["text"] for o in cell["outputs"])


def screenshot(page, artifacts: Path, name: str, show: str | None = None) -> Path:
    """Full-page screenshot, scrolled so that the first cell containing ``show`` is in view."""
    if show:
        page.locator(".jp-Cell", has_text=show).first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # let the scroll settle before the picture
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\n  screenshot: {path}")
    return path


def save(page, path: Path) -> dict:
    """Ctrl+S in the notebook; wait until the file on disk holds the executed notebook."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").wait_for(state="detached")
    deadline = time.monotonic() + 30
    while True:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
            code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
            if code and all(c.get("execution_count") for c in code):
                return notebook
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, f"{path} was not saved with its outputs"
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_student_view_in_jupyterlab(assignment, lab, browser, artifacts):
    started = time.monotonic()
    stem = Path(assignment.notebook).stem

    # Step 1: the untouched student notebook, Run All.
    context, page = open_notebook(browser, lab, f"{assignment.id}/{assignment.notebook}")
    try:
        cells = run_all_cells(page)
        screenshot(page, artifacts, f"{assignment.id}-1-student-run-all", show="not implemented yet")
        if found := problems(cells):
            pytest.fail("the untouched notebook shows errors:\n" + "\n".join(found), pytrace=False)
        for cell in check_cells(cells):
            assert "not implemented yet" in cell_text(cell), f"{cell['source']}: {cell_text(cell)!r}"
            assert re.search(r"\[\d+\]", cell["prompt"]), f"{cell['source']} did not run: {cell['prompt']!r}"
    finally:
        context.close()
        lab.shut_down_kernels()

    # Step 2: a copy with the reference answers, Run All.
    filled = write(fill(assignment, solution_answers(assignment)), lab.root / assignment.id / f"{stem}_reference.ipynb")
    context, page = open_notebook(browser, lab, f"{assignment.id}/{filled.name}")
    try:
        cells = run_all_cells(page)
        story = "Learned formula" if assignment.id == "01-linear-regression" else "checks passed"
        screenshot(page, artifacts, f"{assignment.id}-2-reference-run-all", show=story)
        if found := problems(cells):
            pytest.fail("the reference answers show errors:\n" + "\n".join(found), pytrace=False)
        for cell in check_cells(cells):
            text = cell_text(cell)
            assert sum(o["checkBoxes"] for o in cell["outputs"]) == 1, f"{cell['source']}: no check box: {text!r}"
            counts = re.search(r"(\d+)/(\d+) checks passed", text)
            assert counts and counts[1] == counts[2] and int(counts[2]) > 0, f"{cell['source']}: {text!r}"
            assert "✘" not in text and "not implemented" not in text, f"{cell['source']}: {text!r}"
        everything = "\n".join(cell_text(c) for c in cells)
        assert "skipped" not in everything, everything
        images = sum(o["images"] for c in cells for o in c["outputs"])
        assert images >= 2, f"only {images} plot(s) rendered"
        if assignment.id == "01-linear-regression":
            assert re.search(r"Learned formula: score = -?\d+\.\d\d \* hours \+ -?\d+\.\d\d", everything), everything
            assert re.search(r"Prediction for 35 hours: -?\d+\.\d points", everything), everything
            assert re.search(r"Least-squares line: score = 7\.3690 \* hours \+ 419\.6429", everything), everything

        # Step 3: save from the browser, grade the saved file.
        saved = save(page, filled)
        screenshot(page, artifacts, f"{assignment.id}-3-saved", show="checks passed")
    finally:
        context.close()
        lab.shut_down_kernels()
    assert sum(1 for c in saved["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})) >= 2
    graded = subprocess.run([sys.executable, "-m", "autograder.cli", "check", str(filled)], capture_output=True,
                            text=True, timeout=180, cwd=KIT_ROOT,  # with a seed: the hidden checks run too
                            env={**os.environ, "DLBASICS_SEED": "the browser test's secret seed"})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    full = automatic_max(assignment)  # from its checks' points, never pasted from a run
    assert f"automatic score: {full:g} / {full:g}" in graded.stdout, graded.stdout + graded.stderr
    print(f"  {assignment.id}: {time.monotonic() - started:.1f}s in the browser and the grader")
