"""LaTeX formulas of written answers, drawn in a child process with limits and cached by content.

A formula is student text, and matplotlib's mathtext can be made to work for a long time and a lot
of memory by a short one: two 128-character formulas cost 10-18 s and about 1 GB, one wider formula
40 s and 3.6 GB, when they were drawn in the grader's own process (issue 18). So:

* they are drawn by a child process (:data:`_CHILD`: our own code, the formula is its data) with an
  address-space limit and a clock per formula; a formula that reaches either becomes
  ``TOO_LARGE`` and is shown as text with the note "formula not drawn: too large";
* a child that dies anyway (a crash in C, the kill at the parent's own deadline) costs only the
  formula it was drawing: the parent marks that one too large and starts a child for the rest;
* every outcome is cached under the output folder by the sha256 of the formula and the renderer
  (matplotlib's version, the resolution, :data:`FORMAT`), so a rerun draws nothing it drew before
  (issue 21: redrawing every formula was 2.1 s of a 3.2 s rerun that had nothing to grade).

A drawn image is re-encoded by Pillow within the page's image limits (``safe.safe_png``) once, when
it enters the cache, which then holds only such images: a rerun reads them as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from autograder.fontcache import lend_font_lists

# Every number here is a limit on what one student's text can cost the grader.
# A formula of the course draws in 10-50 ms of CPU time (after the first, which loads the fonts and is
# drawn before any clock starts); 2 s of CPU time is 40x that. CPU time, not the wall clock: another
# process's load cannot make an honest formula "too large" (the parent's wall-clock deadline below is
# the backstop for a child that does not run at all).
FORMULA_SECONDS = 2.0
# The child's address space. Python, numpy and matplotlib mapped take about 0.5 GB of it (with one
# BLAS thread), a formula of the course a few MB more; at 1 GiB the child's peak stays far below
# the grader's budget of 2 GB whatever a formula asks for (a wider one cost 3.6 GB unbounded).
CHILD_ADDRESS_SPACE = 1 << 30
# Starting the child (Python, numpy, matplotlib, its font cache) takes 1-3 s, more under load; the
# parent's deadline is this plus FORMULA_SECONDS + 1 s per formula, after which the child is killed.
CHILD_START_SECONDS = 30.0
# All formulas of one writing run together (wall clock): beyond this the rest are shown as text, not
# cached (the next run draws them). A class of 200 with 5 formulas each needs about 50 s of drawing;
# 300 s leaves room for a loaded machine, and bounds a class of hostile formulas (150 at the 2 s limit).
TOTAL_SECONDS = 300.0
# The resolution the review pages show formulas at; part of the cache key, with FORMAT.
DPI = 110
FORMAT = 1  # bump when the drawing or the cached files change

# Outcomes (the cached file's suffix).
PNG, TOO_LARGE, NOT_LATEX, NOT_DRAWN = "png", "large", "text", "notdrawn"

# The child: our code; the formulas arrive as JSON on stdin, each outcome is written to
# DIR/<key>.<outcome> (atomically) as soon as it is known, and its key printed.
_CHILD = r"""
import io, json, os, resource, signal, sys
limit, seconds, folder = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
os.umask(0o077)  # the cache is the instructor's only, like every grades file
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
jobs = json.loads(sys.stdin.read())
import warnings
import matplotlib
matplotlib.use("Agg")
from matplotlib import mathtext

class TooLong(BaseException):
    pass

def stop(*_):
    raise TooLong()

signal.signal(signal.SIGPROF, stop)
# Fonts and mathtext's parser load on the first formula (about 1 s): done here, off every formula's clock.
mathtext.math_to_image("$x$", io.BytesIO(), dpi=110, format="png")
print("ready", flush=True)

def save(key, outcome, data=b""):
    temporary = os.path.join(folder, "." + key + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, os.path.join(folder, key + "." + outcome))

for key, tex, dpi in jobs:
    buffer = io.BytesIO()
    try:
        signal.setitimer(signal.ITIMER_PROF, seconds)  # CPU time: a loaded machine does not shorten it
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mathtext.math_to_image("$" + tex + "$", buffer, dpi=dpi, format="png")
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
    except (TooLong, MemoryError):
        buffer = None
        save(key, "large")
    except Exception:  # mathtext covers a subset of LaTeX: the rest is shown as typed
        save(key, "text")
    else:
        save(key, "png", buffer.getvalue())
    print(key, flush=True)
"""


def renderer() -> str:
    return f"mathtext {version('matplotlib')} dpi {DPI} format {FORMAT}"


def key(tex: str, drawn_by: str) -> str:
    return hashlib.sha256(f"{drawn_by}\0{tex}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Drawn:
    outcome: str  # PNG, TOO_LARGE, NOT_LATEX or NOT_DRAWN
    png: bytes = b""  # with PNG: re-encoded by safe.safe_png


class Formulas:
    """Draws formulas for the pages of one writing run. ``cache``: a folder kept between runs
    (e.g. ``OUT/formula-cache``); ``None``: a temporary one, removed with this object."""

    def __init__(self, cache: Path | None = None):
        self._temporary = None
        if cache is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="dlbasics-formulas-")
            cache = Path(self._temporary.name)
        self.cache = cache
        self.renderer = renderer()
        self.drawn = 0  # formulas drawn by a child in this run (a rerun with a warm cache: 0)
        self.children = 0  # children started in this run

    def _cached(self, digest: str) -> Drawn | None:
        for outcome in (PNG, TOO_LARGE, NOT_LATEX):
            path = self.cache / f"{digest}.{outcome}"
            try:
                data = path.read_bytes()  # a marker (too large, not LaTeX) is an empty file
            except FileNotFoundError:
                continue
            return Drawn(outcome, data if outcome == PNG else b"")
        return None

    def _verified(self, digest: str, drawn: Drawn | None) -> Drawn | None:
        """A PNG the child just drew, re-encoded by Pillow within the page's image limits (once: the
        cache then holds only verified images); one beyond the limits is too large to show."""
        from autograder.report.outputs import write_atomic
        from autograder.report.safe import safe_png

        if drawn is None or drawn.outcome != PNG:
            return drawn
        png = safe_png(drawn.png)
        path = self.cache / f"{digest}.{PNG}"
        if png is None:
            write_atomic(self.cache / f"{digest}.{TOO_LARGE}", b"")
            path.unlink(missing_ok=True)
            return Drawn(TOO_LARGE)
        write_atomic(path, png)
        return Drawn(PNG, png)

    def draw(self, sources: list[str]) -> dict[str, Drawn]:
        """Every formula in ``sources`` (TeX without dollars) -> how it is shown."""
        from autograder.report.outputs import private_dirs, write_atomic

        keys = {tex: key(tex, self.renderer) for tex in dict.fromkeys(sources)}
        found: dict[str, Drawn] = {}
        if not keys:
            return found
        private_dirs(self.cache)
        todo = []
        for tex, digest in keys.items():
            cached = self._cached(digest)
            if cached is None:
                todo.append(tex)
            else:
                found[tex] = cached
        deadline = time.monotonic() + TOTAL_SECONDS
        while todo and time.monotonic() < deadline:
            if not self._run_child(todo, keys, deadline):
                break  # the child cannot start here (matplotlib missing?): no formula is to blame
            done = []
            for tex in todo:
                cached = self._verified(keys[tex], self._cached(keys[tex]))
                if cached is not None:
                    found[tex] = cached
                    done.append(tex)
            self.drawn += len(done)
            rest = [tex for tex in todo if tex not in found]
            if rest and time.monotonic() < deadline:
                # The child died or was killed while drawing rest[0] (they are drawn in order): that
                # formula is too large, for this run and the next; the others get a new child.
                write_atomic(self.cache / f"{keys[rest[0]]}.{TOO_LARGE}", b"")
                found[rest[0]] = Drawn(TOO_LARGE)
                rest = rest[1:]
            todo = rest
        for tex in todo:  # out of time for this run: text now, tried again next run
            found[tex] = Drawn(NOT_DRAWN)
        return found

    def _run_child(self, todo: list[str], keys: dict[str, str], deadline: float) -> bool:
        """Draw ``todo`` in order in one child; ``False`` if the child never got to drawing."""
        jobs = json.dumps([[keys[tex], tex, DPI] for tex in todo])
        seconds = min(CHILD_START_SECONDS + len(todo) * (FORMULA_SECONDS + 1), max(0.0, deadline - time.monotonic()))
        environment = {
            "PATH": os.defpath, "HOME": str(self.cache), "MPLBACKEND": "Agg",
            # One BLAS/OpenMP thread: each further thread maps its own buffers into the limited space.
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            # matplotlib's font cache: kept with the formula cache, so a rerun's child starts faster.
            "MPLCONFIGDIR": str(self.cache / "matplotlib"),
        }
        self.children += 1
        lend_font_lists(self.cache / "matplotlib")  # read, not built by scanning every font (fontcache.py)
        try:
            printed = subprocess.run(
                [sys.executable, "-I", "-c", _CHILD, str(CHILD_ADDRESS_SPACE), str(FORMULA_SECONDS), str(self.cache)],
                input=jobs, text=True, capture_output=True, env=environment, timeout=seconds, check=False).stdout
        except subprocess.TimeoutExpired as error:  # killed by subprocess.run; what it finished is cached
            printed = error.stdout or ""
            printed = printed.decode() if isinstance(printed, bytes) else printed
        return printed.startswith("ready\n")

    def close(self) -> None:
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
