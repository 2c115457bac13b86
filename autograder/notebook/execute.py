"""Executing notebooks headless (nbclient), next to a copy of their self-check package."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.checks import ASSIGNMENTS, KIT_ROOT, Assignment


def execute_notebook(path: Path, selfcheck_dir: Path, timeout: float = 120, seed: str | None = None) -> tuple:
    """Run ``path`` top to bottom in a temporary folder; return (notebook, seconds).

    A solution notebook's hidden blocks run the hidden checks in the kernel, which reads the seed
    from its environment (autograder/checks/nbgrader_hidden.py): ``seed``, or a random one made for
    this run (a reference must pass at every seed; never a constant of the kit).
    """
    import os
    import secrets

    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dlbasics-run-") as folder:
        shutil.copytree(selfcheck_dir, Path(folder) / "selfcheck")
        started = time.monotonic()
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": folder}})
        client.execute(env={**os.environ, "DLBASICS_SEED": seed or secrets.token_hex(32)})
        return notebook, time.monotonic() - started


def execute_solutions(timeout: float = 120, assignments: list[Assignment] | None = None) -> list[str]:
    failures = []
    for assignment in assignments or ASSIGNMENTS.values():
        selfcheck = KIT_ROOT / "assignments" / assignment.id / "selfcheck"
        try:
            _, seconds = execute_notebook(assignment.solution, selfcheck, timeout)
            print(f"ok    {assignment.solution.relative_to(KIT_ROOT)} ({seconds:.1f} s)")
        except Exception as error:  # report every notebook, then fail
            failures.append(assignment.id)
            print(f"FAIL  {assignment.solution.relative_to(KIT_ROOT)}: {type(error).__name__}: {error}",
                  file=sys.stderr)
    return failures
