"""Valid text from untrusted strings: the one place the grader makes student text writable.

Student text reaches the grader from JSON (a notebook, the sandbox's replies), where
``"\\ud800"`` decodes to a lone surrogate, and from file names, where bytes that are not
UTF-8 become surrogate escapes. Python holds such strings happily, but encoding them (to a
file, SQLite, a terminal) raises. Everything a submission produced goes through
:func:`valid_text` / :func:`valid_data` once, at the boundary where it enters the grader.
"""

from __future__ import annotations

import re
import unicodedata


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


# ECMA-48 escape sequences: CSI (colours, cursor moves, "clear screen"), OSC (window title,
# hyperlinks, clipboard) and the string commands DCS/SOS/PM/APC, each up to its terminator (or the
# end of the text, if a student leaves it open); then any other two-character escape.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[\x20-\x7e]?"
)
# Characters that are not text a reader can see: controls (Unicode category Cc: C0, DEL, C1, whose
# 8-bit CSI/OSC act in some terminals and NUL truncates a cell in some readers), format characters
# (Cf: the bidirectional overrides and isolates U+202A-U+202E and U+2066-U+2069, which reorder what
# is shown, "81 / 18" as "18 / 18"; the marks U+200E/U+200F; zero-width U+200B-U+200D and U+2060;
# the byte-order mark U+FEFF; ...) and the line and paragraph separators (Zl, Zp), which some
# readers take for line breaks. By category rather than by a list of code points, so that none is
# forgotten; written by hand because no library on the list (/work/.library/env/packages) offers it
# apart from the unicodedata table used here. Zero-width joiners inside some scripts' words and
# emoji are lost: the text stays readable.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp"))
_MAYBE_INVISIBLE = re.compile("[^\x20-\x7e\n\t]")  # the fast path: printable ASCII needs no lookup


def visible_text(text: str, keep: str = "\t\n") -> str:
    """``text`` (valid, see :func:`valid_text`) without controls, format characters and line or
    paragraph separators, except the characters in ``keep``."""
    text = valid_text(str(text))
    if not _MAYBE_INVISIBLE.search(text):
        return text
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in _INVISIBLE)


def terminal_text(text) -> str:
    """``text`` as it may be printed: no escape sequences, no control or format characters but ``\\n`` and ``\\t``."""
    return visible_text(_ESCAPES.sub("", valid_text(str(text))))
