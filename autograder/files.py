"""Owner-only files and folders: grades, feedback and the gradebook are about named people.

Shared by the gradebook (grading) and the writers (report), so neither imports the other for it.
"""

from __future__ import annotations

import os
from pathlib import Path

# Grades, feedback and the gradebook are about named people: readable by the instructor's account
# only. Every folder the kit creates for them is 0700 and every file it writes 0600 (folders that
# already existed, such as a --file target's, are left as they are).
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dirs(folder: Path) -> None:
    """Create ``folder`` and every missing parent, each owner-only (``mkdir``'s ``mode`` alone is
    reduced by the umask and not applied to parents)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made by a concurrent writer meanwhile
            continue
        os.chmod(created, PRIVATE_DIR)
