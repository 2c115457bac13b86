"""Valid text from untrusted strings: the one place the grader makes student text writable.

Student text reaches the grader from JSON (a notebook, the sandbox's replies), where
``"\\ud800"`` decodes to a lone surrogate, and from file names, where bytes that are not
UTF-8 become surrogate escapes. Python holds such strings happily, but encoding them (to a
file, SQLite, a terminal) raises. Everything a submission produced goes through
:func:`valid_text` / :func:`valid_data` once, at the boundary where it enters the grader.
"""

from __future__ import annotations

import re


def valid_text(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD (pairs are joined)."""
    try:
        text.encode("utf-8")
        return text  # the common case: already valid, no copy
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def valid_data(value):
    """A JSON-like structure with every string (keys too) made valid text."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_data(k) if isinstance(k, str) else k: valid_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(valid_data(item) for item in value)
    return value


def name_text(raw: str | bytes) -> str:
    """A file name as text: undecodable bytes shown as ``\\xNN`` (distinct names stay distinct)."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "backslashreplace")
    # os.listdir gives surrogate escapes for bytes that are not UTF-8: undo, then show them.
    try:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return valid_text(raw)


# ANSI/VT escape sequences (CSI, OSC, and two-character ESC sequences), then any C0/C1
# control character but newline and tab: what a terminal would obey instead of print.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` safe to print: escape sequences removed, other control characters shown as ``?``."""
    return _CONTROLS.sub("?", _ESCAPES.sub("", valid_text(str(text))))
