"""matplotlib's list of the machine's fonts, lent to the processes that start with an empty cache folder.

matplotlib scans every system font when its cache folder has no ``fontlist-v*.json``, and writes one.
The grader's own matplotlib keeps that file in the user's cache folder; a sandbox worker (its own
empty /tmp for a home) and the formula drawer (a cache folder under the output folder) started from
nothing and scanned every font again: 0.15 s of each worker's start with this machine's 38 fonts,
more with more fonts (measured: ``import matplotlib.pyplot`` 0.46 s with an empty cache folder,
0.31 s with the list; issue 21). They are given the grader's list instead.

Only a hint: where it is missing, unreadable or stale (another matplotlib wrote it), matplotlib
builds its own list as before. It names font files and nothing of a course or a student.
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.files import PRIVATE_DIR, PRIVATE_FILE

# A list of a few thousand fonts is a few MB; anything larger is not matplotlib's list, and is not lent.
MAX_BYTES = 16 * 2**20


def matplotlib_cache_folder() -> Path:
    """Where this user's matplotlib keeps its cache (``matplotlib.get_cachedir()``'s rule, without
    importing matplotlib: that takes 0.3 s)."""
    configured = os.environ.get("MPLCONFIGDIR")
    if configured:
        return Path(configured).resolve()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"


def font_lists() -> list[Path]:
    """The font lists this user's matplotlib has written (usually one, named after its version)."""
    try:
        return sorted(path for path in matplotlib_cache_folder().glob("fontlist-v*.json")
                      if path.is_file() and path.stat().st_size <= MAX_BYTES)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return []


def lend_font_lists(folder: Path) -> None:
    """Copy the user's font lists into ``folder`` (a matplotlib cache folder) where it has none, as
    owner-only files like everything the kit writes (``autograder.files``)."""
    for path in font_lists():
        target = folder / path.name
        if target.exists():
            continue
        try:
            folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            data = path.read_bytes()
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with os.fdopen(handle, "wb") as copy:
                copy.write(data)
        except OSError:
            pass  # matplotlib then scans the fonts itself, as it always did
