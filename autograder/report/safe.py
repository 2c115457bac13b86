"""Making student-controlled text and images safe for the pages, CSV files and terminals we write.

Everything a student controls is hostile: the file name that becomes the student id, the text of
a written answer, the message of an exception raised in a cell, and the bytes of a plot (the PNG
is rendered inside the sandbox, so the child chooses them). Each writer goes through one helper
here instead of escaping on its own:

* ``valid_text`` (from ``autograder.text``): a ``str`` that can always be encoded as UTF-8;
* ``render_markdown``: a written answer as HTML, with raw HTML off, no images loaded and
  links only to http(s)/mailto;
* ``safe_png_base64``: a plot checked (signature, byte size, pixel size before decompressing)
  and re-encoded by Pillow, or ``None``;
* ``csv_cell``: text a spreadsheet will not execute as a formula;
* ``terminal_text`` (from ``autograder.text``): text without escape sequences or control characters.
"""

from __future__ import annotations

import base64
import binascii
import html as htmllib
import io
import re
import struct
import warnings

from markupsafe import Markup

# The one helper that makes text encodable (lone surrogates from a child's JSON or a file name
# become U+FFFD); re-exported so every writer here uses it.
from autograder.text import valid_text, visible_text

# Pages are opened from disk or an LMS: nothing may run and nothing may be fetched. Images are
# inlined as data: URIs (our own histogram and the re-encoded plots), styles are inline in <style>.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")


# Control characters are not allowed in HTML text (a parse error, shown as boxes or worse when
# the file is printed in a terminal); tab, newline and carriage return are whitespace and stay.
_HTML_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def page_text(value):
    """Jinja ``finalize`` for every ``{{ }}`` in a page: valid text without control characters.

    Escaping comes after it (autoescape); ``Markup`` (the Markdown renderer's output, whose input
    was cleaned the same way) passes through unchanged.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return _HTML_CONTROLS.sub("", valid_text(value))
    return value


# --- CSV -------------------------------------------------------------------------------------------

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP "CSV injection"):
# = + - @ at the start, after blanks too, and a leading tab or carriage return. The full-width forms
# are included because some spreadsheet locales normalise them to their ASCII counterparts.
_FORMULA_START = tuple("=+-@\uff1d\uff0b\uff0d\uff20")


def csv_cell(value) -> str:
    """A free-text cell (student id, status, comment) that a spreadsheet shows as text, never runs.

    Invisible characters go first (``visible_text``: controls, bidi overrides, zero-width and other
    format characters; tab and newline are legal inside a quoted cell and stay), THEN the start is
    judged: ``"\\x01=2+3"`` or ``"\\u202e=2+3"`` would otherwise pass the test and reach the
    spreadsheet as a formula once the reader drops the invisible character. Numbers the grader
    writes do not come through here (a score of -2 stays a number): see ``csv_row``.
    """
    text = visible_text(value)
    # str.lstrip(): every Unicode blank (no-break and ideographic spaces too) may precede a formula.
    if text[:1] == "\t" or text.lstrip().startswith(_FORMULA_START):
        # OWASP's recommendation: a leading apostrophe, which spreadsheets display as a text marker.
        text = "'" + text
    return text


def csv_row(cells: list) -> list[str]:
    """One row for ``csv.writer``: numbers formatted by us, every string neutralised by ``csv_cell``."""
    return [f"{cell:g}" if isinstance(cell, int | float) and not isinstance(cell, bool) else csv_cell(cell)
            for cell in cells]


# --- images ----------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The child renders plots at 60 dpi (a default 6.4 x 4.8 in figure is 384 x 288 px, a few tens of
# KB). The limits leave room for big figures while bounding what a page embeds and what Pillow
# decompresses: at most 4 Mpixel (16 MB as RGBA), no side longer than 4000 px, 2 MB of PNG.
MAX_PNG_BYTES = 2_000_000
MAX_PNG_SIDE = 4000
MAX_PNG_PIXELS = 4_000_000
_MAX_BASE64_CHARS = (MAX_PNG_BYTES + 2) // 3 * 4


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the IHDR chunk, which a PNG must start with; ``None`` if it is not a PNG."""
    # signature (8) | IHDR length (4) = 13 | b"IHDR" (4) | width (4) | height (4) | ...
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return None
    return struct.unpack(">II", data[16:24])


def safe_png(data: bytes) -> bytes | None:
    """``data`` decoded and re-encoded by Pillow if it is a PNG of sane size, else ``None``.

    The size is checked on the raw bytes and the IHDR header before Pillow decompresses anything;
    only Pillow's own re-encoding is returned, so nothing of the original file (text chunks, extra
    data, a second image) reaches a page.
    """
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_PNG_BYTES:
        return None
    size = png_size(bytes(data))
    if size is None:
        return None
    width, height = size
    if not (0 < width <= MAX_PNG_SIDE and 0 < height <= MAX_PNG_SIDE and width * height <= MAX_PNG_PIXELS):
        return None
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard as a second line: a warning becomes a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                if image.size != (width, height):
                    return None
                image.load()
                rgba = image.convert("RGBA")
        buffer = io.BytesIO()
        rgba.save(buffer, format="PNG")
    except Exception:  # any decoding error of a hostile file (OSError, SyntaxError, zlib.error, ...) = no image
        return None
    return buffer.getvalue()


def safe_png_base64(data) -> str | None:
    """A plot as the child sent it (base64 text, or PNG bytes) -> base64 of a checked, re-encoded PNG.

    ``None`` for anything else: not base64, not a PNG, too large, or undecodable. The only image
    data any page embeds comes from here (or is our own).
    """
    if isinstance(data, str):
        if len(data) > _MAX_BASE64_CHARS:
            return None
        try:
            data = base64.b64decode(data.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            return None
    png = safe_png(data) if isinstance(data, bytes | bytearray) else None
    return base64.b64encode(png).decode("ascii") if png else None


# --- Markdown ----------------------------------------------------------------------------------

# A written answer is a few paragraphs; the grader keeps 20,000 characters of it. The renderer
# never sees more than that, so its time and output stay bounded whatever is submitted.
MAX_MARKDOWN_CHARS = 20_000
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _safe_link(url: str) -> bool:
    # Only absolute links a reader can follow by choice; javascript:, data:, file:, vbscript: and
    # relative paths (which would point into the grades folder) stay as plain text.
    return url.strip().lower().startswith(_LINK_SCHEMES)


def _markdown():
    from markdown_it import MarkdownIt
    from markdown_it.common.utils import escapeHtml

    # CommonMark with raw HTML off: <script>, <img>, <iframe> typed in an answer are shown as text.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link

    def link_open(renderer, tokens, idx, options, env):
        # Opening a link must not hand our page to it (opener) or tell it where it came from (referrer).
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    def image(renderer, tokens, idx, options, env):
        # An image would be fetched when the page opens (a tracking pixel, or worse): show a link
        # to it instead, which the reader may follow or not.
        token = tokens[idx]
        alt = renderer.renderInlineAsText(token.children or [], options, env)
        label = f"[image: {escapeHtml(alt)}]" if alt else "[image]"
        # The src passed _safe_link (markdown-it validates image URLs too): http(s) or mailto only.
        return f'<a href="{escapeHtml(token.attrGet("src") or "")}" rel="noopener noreferrer nofollow">{label}</a>'

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("image", image)
    return md


_MD = None


# LaTeX in an answer ($...$, $$...$$) is drawn by matplotlib's mathtext into our own PNG, inlined
# as a data: image: nothing runs, nothing is fetched. It is drawn in a child process with a clock and
# a memory limit, cached by content (``formulas.py``). Bounded here too: a formula of at most 300
# characters, at most 30 formulas per answer; the rest, and anything mathtext cannot parse, stays text.
_MATH = re.compile(r"\$\$(?P<display>[^$<>]{1,300}?)\$\$|\$(?P<inline>[^$<>\n]{1,300}?)\$")
MAX_FORMULAS = 30
TOO_LARGE_NOTE = "formula not drawn: too large"


def _formulas(html: str):
    """``(match, TeX)`` of each formula of ``html`` that is to be drawn (the first MAX_FORMULAS)."""
    found = []
    for count, match in enumerate(_MATH.finditer(html), start=1):
        source = match["display"] or match["inline"]
        if count <= MAX_FORMULAS and source.strip():
            found.append((match, htmllib.unescape(source).strip()))
    return found


def math_sources(html: str) -> list[str]:
    """The TeX of every formula ``with_math`` will want drawn (to draw them all in one go)."""
    return [tex for _, tex in _formulas(html)]


def with_math(html: str, drawn: dict) -> Markup:
    """``html`` (the Markdown renderer's, from ``render_markdown``) with each formula replaced by its
    image from ``drawn`` (TeX -> ``formulas.Drawn``); one that could not be drawn stays as typed."""
    from autograder.report.formulas import PNG, TOO_LARGE

    pieces, end = [], 0
    for match, tex in _formulas(html):
        result = drawn.get(tex)
        # Drawn.png is already Pillow's re-encoding within the limits (formulas.Formulas._verified).
        png = base64.b64encode(result.png).decode("ascii") if result is not None and result.outcome == PNG \
            and result.png else None
        pieces.append(html[end:match.start()])
        end = match.end()
        if png is not None:
            image = f'<img class="math" alt="{htmllib.escape(tex)}" src="data:image/png;base64,{png}">'
            pieces.append(f'<div class="math">{image}</div>' if match["display"] else image)
        elif result is not None and (result.outcome == TOO_LARGE or result.outcome == PNG):
            # Too slow or too big to draw, or an image too large to show: the TeX as typed, and why.
            pieces.append(f"{match[0]} <small>({TOO_LARGE_NOTE})</small>")
        else:
            pieces.append(match[0])  # not LaTeX mathtext knows, or not drawn this run: as typed
    pieces.append(html[end:])
    return Markup("".join(pieces))


def render_markdown(text: str, math: bool = False, formulas=None) -> Markup:
    """A student's Markdown as HTML safe to put in a page (the one ``Markup`` made from student text).

    ``math``: LaTeX between dollars drawn as images by ``formulas`` (a ``formulas.Formulas``; a
    temporary one if not given). A page with many answers draws them all at once instead: see
    ``review.render``, with ``math_sources`` and ``with_math``.
    """
    global _MD
    if _MD is None:
        _MD = _markdown()
    text = page_text(str(text or ""))
    cut = len(text) > MAX_MARKDOWN_CHARS
    html = _MD.render(text[:MAX_MARKDOWN_CHARS])
    if cut:
        html += f"<p><em>(cut at {MAX_MARKDOWN_CHARS:,} characters)</em></p>\n"
    if not math:
        return Markup(html)
    from autograder.report.formulas import Formulas

    drawer = formulas or Formulas()
    try:
        return with_math(html, drawer.draw(math_sources(html)))
    finally:
        if formulas is None:
            drawer.close()
