"""The suite proves it guards: each breakage, applied to a copy of the kit, makes a named test fail.

Every :class:`Mutation` is one deliberate bug: a file, a small exact snippet of it (the anchor)
and what it becomes. For each one the kit is copied to a temporary folder (sources,
solutions, tests; not .venv or .git), the snippet is replaced there, and the named test is
run in the copy with this interpreter, ``-x`` and ``-k`` to the guarding test. The copy's
code is what runs everywhere: its folder is first on PYTHONPATH (ahead of the venv's
editable install), ``dlbasics`` runs as ``python -m autograder.cli`` in it, and the
sandbox worker is started from the package the grader imported (the copy's).
:func:`test_the_copy_runs_its_own_code` shows it. The named test must FAIL (pytest exit
code 1); an error, an empty selection or a pass is reported. If an anchor is no longer in
its file, the test fails saying the anchor moved: update the mutation with the code.

Marked ``slow`` and run only with ``--mutations`` (about ten minutes in all):
``pytest tests/test_mutations.py --mutations``, or ``python tests/test_mutations.py [name ...]``
for a table of mutations and timings.
:func:`test_the_guarding_tests_pass_on_an_unmutated_copy` runs every guard once on an
unchanged copy, so a guard that fails for another reason is not counted as a catch.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parents[1]
# Long enough for the slowest guard (test_resume kills and resumes a batch four times) on a
# loaded machine; a guard that hangs fails instead of stalling the suite.
GUARD_SECONDS = 900


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the kit's root
    old: str  # the anchor: must occur exactly once in the file
    new: str
    test: str  # the test file that must fail
    select: str  # its -k expression: the guarding test(s)
    also: tuple[tuple[str, str], ...] = ()  # more (anchor, replacement) pairs in the same file

    def edits(self) -> list[tuple[str, str]]:
        return [(self.old, self.new), *self.also]


MUTATIONS = [
    # --- the six breakages of issue 20 --------------------------------------------------------------
    # The kit's folder bound into the sandbox like the interpreter (solutions/ with it).
    Mutation("sandbox-shows-solutions", "autograder/sandbox/pool.py",
             "    binds = _interpreter_binds()\n",
             "    binds = {**_interpreter_binds(), str(PACKAGE_DIR.parent): str(PACKAGE_DIR.parent)}\n",
             "tests/test_hostile.py", "quick_guard"),
    # Bubblewrap off (the reduced isolation everywhere): the issue's own breakage.
    Mutation("bubblewrap-off", "autograder/sandbox/pool.py",
             'wanted = os.environ.get("DLBASICS_SANDBOX", "auto")', 'wanted = "rlimits"',
             "tests/test_hostile.py", "quick_guard"),
    Mutation("results-json-unescaped", "autograder/report/gradescope.py",
             "def md_text(text: str) -> str:\n",
             "def md_text(text: str) -> str:\n    return str(text)\n",
             "tests/test_hostile.py", "results_json_shows_student_text_literally"),
    # Results held back and committed once the whole batch is done.
    Mutation("commit-at-end-of-batch", "autograder/grading/batch.py",
             "        def finish(result: Result, reused: bool) -> None:\n"
             "            self.commit(result, reused, gradebook)\n",
             "        def finish(result: Result, reused: bool) -> None:\n            held.append((result, reused))\n",
             "tests/test_resume.py", "killed",
             also=(("        executor = executor or LocalExecutor(self)\n",
                    "        executor = executor or LocalExecutor(self)\n        held = []\n"),
                   ("                refill()\n\n    def prepare(",
                    "                refill()\n        for result, reused in held:\n"
                    "            self.commit(result, reused, gradebook)\n\n    def prepare("))),
    Mutation("every-tolerance-ten-times-wider", "autograder/selfcheck/api.py",
             "abs(got - expected) <= max(rel * abs(expected), abs_)",
             "abs(got - expected) <= 10 * max(rel * abs(expected), abs_)",
             "tests/test_tolerances.py", "pinned"),
    Mutation("draw-never-rejects", "autograder/checks/cases.py",
             "        if all(c.visible() for c in comparisons):",
             "        if True:",
             "tests/test_mistake_visibility.py", "rejects"),
    Mutation("read-submission-follows-links", "autograder/grading/intake.py",
             "os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY",
             "os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY",
             "tests/test_hostile.py", "never_follows"),
    # --- and more -------------------------------------------------------------------------------------
    Mutation("one-tolerance-two-fold", "solutions/01-linear-regression/public_checks.py",
             "FIT_REL = 1e-4", "FIT_REL = 2e-4",
             "tests/test_tolerances.py", "pinned and 01"),
    Mutation("sandbox-has-network", "autograder/sandbox/pool.py",
             '"--unshare-net", "--unshare-uts"', '"--unshare-uts"',
             "tests/test_hostile.py", "quick_guard"),
    Mutation("hidden-errors-shown", "autograder/grading/grade.py",
             'if not reply.get("ok") and reply.get("kind") == "error":',
             "if False:",
             "tests/test_hostile.py", "quick_guard"),
    Mutation("csv-not-neutralised", "autograder/report/safe.py",
             "        text = \"'\" + text\n", "        text = text\n",
             "tests/test_report_safety.py", "csv_cells"),
    Mutation("html-autoescape-off", "autograder/report/outputs.py",
             "autoescape=True, finalize=page_text)", "autoescape=False, finalize=page_text)",
             "tests/test_report_safety.py", "feedback_escapes"),
    Mutation("no-content-security-policy", "autograder/report/templates/page.html.j2",
             '<meta http-equiv="Content-Security-Policy" content="{{ csp }}">', "",
             "tests/test_report_safety.py", "feedback_escapes"),
    Mutation("markdown-links-unchecked", "autograder/report/safe.py",
             "    md.validateLink = _safe_link\n", "",
             "tests/test_report_safety.py", "markdown_renderer"),
    Mutation("markdown-raw-html", "autograder/report/safe.py",
             '{"html": False, "linkify": False', '{"html": True, "linkify": False',
             "tests/test_report_safety.py", "markdown_renderer"),
    Mutation("png-pixels-unbounded", "autograder/report/safe.py",
             " and width * height <= MAX_PNG_PIXELS):", "):",
             "tests/test_report_safety.py", "png_checker"),
    Mutation("terminal-escapes-kept", "autograder/text.py",
             '    return visible_text(_ESCAPES.sub("", valid_text(str(text))))',
             "    return valid_text(str(text))",
             "tests/test_report_safety.py", "terminal_text"),
    Mutation("folder-may-start-with-a-dot", "autograder/grading/intake.py",
             '(i or byte != ord("."))', "True",
             "tests/test_broken.py", "folder_names"),
    # --- this round (issues 21, 22, 24) ----------------------------------------------------------------
    Mutation("worker-objects-not-frozen", "autograder/sandbox/worker.py",
             "    gc.freeze()\n", "    pass\n",
             "tests/test_worker_warm.py", "warmed_up"),
    Mutation("collector-left-off-in-children", "autograder/sandbox/worker.py",
             "    gc.enable()\n", "    pass\n",
             "tests/test_worker_warm.py", "warmed_up"),
    Mutation("worker-scans-the-fonts-again", "autograder/sandbox/pool.py",
             "    for font_list in font_lists():\n", "    for font_list in []:\n",
             "tests/test_worker_warm.py", "font_list"),
    Mutation("reduced-worker-scans-the-fonts-again", "autograder/sandbox/pool.py",
             '            lend_font_lists(Path(self.scratch_root) / ".matplotlib")', "            pass",
             "tests/test_worker_warm.py", "font_list and rlimits"),
    Mutation("review-formulas-drawn-page-by-page", "autograder/report/review.py",
             "            formulas.draw(sources)\n", "            pass\n",
             "tests/test_formulas.py", "one_child"),
    Mutation("late-marker-counts-against-an-extension", "autograder/report/outputs.py",
             "and due is not None and not extension:", "and due is not None:",
             "tests/test_lms_downloads.py", "extension"),
    Mutation("rename-forgets-anonymity", "autograder/cli/rename.py",
             "parser.set_defaults(release=False, anonymous=None)",
             "parser.set_defaults(release=False, anonymous=False)",
             "tests/test_report_text.py", "drop_and_rename"),
    Mutation("histogram-reused-whatever-the-totals", "autograder/report/summary.py",
             'image.format == "PNG" and image.info.get(HISTOGRAM_KEY) == key', 'image.format == "PNG"',
             "tests/test_summary.py", "histogram"),
]


# Where the copies go: NOT under /tmp. Each sandboxed job mounts a fresh /tmp of its own, which
# would hide a copy kept there from the job whatever the sandbox binds (so a sandbox that
# exposes the kit could not be seen); the real kit never lives in /tmp either. Nor in the venv,
# which the sandbox binds, nor in a folder only its owner may enter (a home), which would hide
# it from a job's uid when the isolation is broken. /var/tmp is the system's other temporary
# folder, open to every user like a checkout's parent usually is.
MUTANTS = Path("/var/tmp/dlbasics-mutations")


@contextlib.contextmanager
def kit_copy():
    """A copy of the kit's sources, solutions, samples and tests (no venv, git or caches), removed after."""
    MUTANTS.mkdir(parents=True, exist_ok=True)
    os.chmod(MUTANTS, 0o755)
    folder = Path(tempfile.mkdtemp(prefix="kit-", dir=MUTANTS))
    os.chmod(folder, 0o755)  # mkdtemp's is 0700: a job's uid could not enter even a broken sandbox's view
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".ruff_cache", ".pytest_cache", "*.egg-info",
                                    "node_modules")
    try:
        root = folder / "kit"
        shutil.copytree(KIT_ROOT, root, ignore=ignore, symlinks=True)
        yield root
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class AnchorMoved(Exception):
    pass


def mutate(root: Path, mutation: Mutation) -> None:
    path = root / mutation.file
    text = path.read_text(encoding="utf-8")
    for old, new in mutation.edits():
        found = text.count(old)
        if found != 1:
            raise AnchorMoved(f"{mutation.name}: the anchor moved: {old!r} occurs {found} times in {mutation.file} "
                              "(update the mutation in tests/test_mutations.py to the code as it is now)")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def apply(root: Path, mutation: Mutation) -> None:
    try:
        mutate(root, mutation)
    except AnchorMoved as moved:
        pytest.fail(str(moved))


def environment(root: Path) -> dict[str, str]:
    # The copy first on the path; no bytecode written (a mutated file and its original may share a
    # modification second), no stray seed from the caller's environment.
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DLBASICS_SEED")}
    return {**env, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}


def run_guard(root: Path, test: str, select: str) -> subprocess.CompletedProcess:
    # A temporary folder of the run's own: the shared /tmp/pytest-of-<user> may hold other suites'
    # leftovers (a 1 100-level folder of an intake test makes pytest's cleanup overflow the stack).
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not browser",
               f"--basetemp={root.parent / 'pytest-tmp'}", test, "-k", select]
    return subprocess.run(command, cwd=root, env=environment(root), capture_output=True, text=True,
                          timeout=GUARD_SECONDS)


def _tail(process: subprocess.CompletedProcess) -> str:
    return (process.stdout + process.stderr)[-3000:]


def test_the_copy_runs_its_own_code(tmp_path):
    """In the copy, the grader's package, the CLI's and the sandbox's are the copy's."""
    probe = ("import autograder, autograder.sandbox.pool as pool, autograder.checks as checks\n"
             "print(autograder.__file__); print(pool.PACKAGE_DIR); print(checks.KIT_ROOT)\n")
    with kit_copy() as root:
        shown = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=environment(root),
                               capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert len(shown) == 3 and all(line.startswith(str(root)) for line in shown), shown


@pytest.mark.slow
def test_the_guarding_tests_pass_on_an_unmutated_copy(kit_copies):
    guards = sorted({(m.test, m.select) for m in MUTATIONS})
    failed = []
    with kit_copy() as root:
        for test, select in guards:
            process = run_guard(root, test, select)
            if process.returncode != 0:
                failed.append(f"{test} -k {select!r}: exit {process.returncode}\n{_tail(process)}")
    assert not failed, "guards that fail without any mutation:\n" + "\n".join(failed)


@pytest.mark.slow
@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_the_named_test_catches_the_mutation(mutation, kit_copies):
    with kit_copy() as root:
        apply(root, mutation)
        process = run_guard(root, mutation.test, mutation.select)
    assert process.returncode == 1 and " failed" in process.stdout, (
        f"{mutation.name}: {mutation.test} -k {mutation.select!r} did not fail on the mutated copy "
        f"(exit {process.returncode}; 0 means the breakage went unseen, 2-5 an error or no test):\n{_tail(process)}")


def main(names: list[str]) -> int:
    """Apply each mutation (or those named), run its guard, print a table with timings."""
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    caught = 0
    for mutation in chosen:
        with kit_copy() as root:
            try:
                mutate(root, mutation)
            except AnchorMoved as moved:
                print(f"ANCHOR MOVED  {moved}", flush=True)
                continue
            started = time.monotonic()
            process = run_guard(root, mutation.test, mutation.select)
        seconds = time.monotonic() - started
        verdict = "caught" if process.returncode == 1 else f"MISSED (exit {process.returncode})"
        caught += process.returncode == 1
        print(f"{verdict:<16} {seconds:6.1f} s  {mutation.name:<32} {mutation.test} -k {mutation.select!r}",
              flush=True)
        said = [line for line in process.stdout.splitlines() if line.startswith("E   ")][:2]
        for line in said:
            print(f"{'':<26}{line[:160]}", flush=True)
    print(f"{caught} of {len(chosen)} mutations caught")
    return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
