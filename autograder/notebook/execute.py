"""Executing notebooks headless (nbclient), next to a copy of their self-check package."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.checks import ASSIGNMENTS, KIT_ROOT, Assignment


def execute_notebook(path: Path, selfcheck_dir: Path, timeout: float = 120) -> tuple:
    """Run ``path`` top to bottom in a temporary folder; return (notebook, seconds)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dlbasics-run-") as folder:
        shutil.copytree(selfcheck_dir, Path(folder) / "selfcheck")
        started = time.monotonic()
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": folder}})
        client.execute()
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
