"""What the sandboxed child may send, checked at the boundary before anything reads it.

The child runs the student's code, and that code can write anything on the child's channel
(replace ``json.dumps``, write to the socket's file descriptor): every line it sends is
student data. :class:`~autograder.sandbox.pool.Session` passes each parsed line through the
schema of its message type here; a line that does not fit raises :class:`MalformedReply`,
which ends that submission as ``crashed`` ("the submission's process sent a malformed
reply"), never as a grader error, and nothing of it reaches a check.

The schemas say what :mod:`autograder.selfcheck.protocol` and :mod:`autograder.sandbox.child`
produce, and bound it: types, the fields each kind of value has, text lengths, list lengths,
nesting depth, and that a tensor's data has exactly the shape it claims (checks index the
data by the shape). Messages meant for the student (an error, a traceback, a cell's report)
are cut to :data:`MAX_MESSAGE` with a note instead of being refused: an honest long error
message is no attack, and the cut keeps a 4 MB forged one from reaching the gradebook.

Written by hand rather than with a JSON Schema library (``jsonschema`` is in the venv, via
nbformat): "the data has the shape the value claims" and "the same number of arguments as
sent" are not expressible in JSON Schema, and its validators recurse over the instance, which
is exactly what a 100 000-deep forged list must not make us do. Every walk here is bounded by
:data:`MAX_DEPTH` before it descends.
"""

from __future__ import annotations

import math

from autograder.selfcheck import protocol
from autograder.selfcheck.calling import SHOW_CALLS

# One student-facing message (a call's error, a traceback, a cell's error or output, a
# warning): the child's own messages are at most ~3 KB (student_traceback keeps 3000
# characters; a call's message is one line of at most 300 plus a hint), so 4 000 cuts only
# what the child never sends honestly, and a page of text is all a student reads anyway.
MAX_MESSAGE = 4_000
# Nesting of values: list/tuple items nest up to protocol.MAX_DEPTH (8, then the encoder
# stops), each level a dict holding a list: well inside this; a tensor's data nests once per
# dimension (see MAX_DIMS). Checked before descending, so no forged depth costs recursion.
MAX_DEPTH = 2 * protocol.MAX_DEPTH + 8
# Dimensions of a tensor or array: torch allows 64, no course value has more than 2.
MAX_DIMS = 16
# Items of one value (list/tuple items, a tensor's numbers, a plot line's points): the
# encoder's own cap (it describes anything larger as "too long").
MAX_ITEMS = protocol.MAX_ITEMS
# Short words and names (a type name, a dtype, a kind, a parameter's name).
MAX_NAME = 200
# Values a plot may hold: lines and scatters per axes, axes per figure, legend entries.
# A student plot of this course has 2-3 artists in 1 axes; beyond this it is a flood.
MAX_ARTISTS = 256
# Parameters of a returned module (nn.Linear has 2).
MAX_PARAMS = 64
# A rendered plot (base64 PNG): 60 dpi figures of this course are 15-40 KB; the grader keeps
# only those under 2 MB (grade._student_plots), so a larger one is no honest reply.
MAX_PNG = 2_000_000
# Cell reports in one "cells" message: the notebook reader refuses more than 2 000 cells.
MAX_CELLS = 2_000
# Warnings per call reply (calling.invoke sends at most 3).
MAX_WARNINGS = 3
# Integers travel as JSON ints up to 2**53 (the encoder sends larger ones as floats); a
# 4 000-digit forged int would make float() raise in a check.
MAX_INT = 2**53


class MalformedReply(ValueError):
    """A line from the child that is not what its message type allows; ``str()`` says where."""


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was dropped."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" (cut: {len(text) - limit} characters more)"


# --- the message types ---------------------------------------------------------------

def cell_progress(message: dict, cells: int) -> int:
    """``{"cell_done": n}``: n cells have run (1 <= n <= the cells sent)."""
    _keys(message, {"cell_done"}, "cell progress")
    done = message["cell_done"]
    if not _is_int(done) or not 1 <= done <= cells:
        raise MalformedReply(f"cell progress: cell_done is not a cell number (1..{cells})")
    return done


CELL_WORDS = ("ok", "error", "timeout", "skipped")


def cells_report(message: dict, cells: list[dict]) -> list[dict]:
    """``{"cells": [...]}``: one report per cell sent, in order, with its label, a known word,
    the message and the output (both cut to MAX_MESSAGE)."""
    _keys(message, {"cells"}, "cell reports")
    reports = message["cells"]
    if not isinstance(reports, list) or len(reports) != len(cells) or len(reports) > MAX_CELLS:
        raise MalformedReply(f"cell reports: expected a list of {len(cells)} reports")
    clean = []
    for number, (report, sent) in enumerate(zip(reports, cells)):
        where = f"cell report {number}"
        _keys(report, {"label", "status", "message", "output"}, where)
        if report["label"] != sent.get("label"):
            raise MalformedReply(f"{where}: its label is not the label of cell {number}")
        if report["status"] not in CELL_WORDS or not isinstance(report["status"], str):
            raise MalformedReply(f"{where}: its status is not one of {', '.join(CELL_WORDS)}")
        clean.append({"label": report["label"], "status": report["status"],
                      "message": cut(_text(report["message"], where)), "output": cut(_text(report["output"], where))})
    return clean


CALL_KINDS = ("missing", "not_implemented", "error", "timeout")


def call_reply(message: dict, args_sent: int) -> dict:
    """The reply to one call: ``{"ok": true, "value", "args", "warnings"[, "shown"]}`` or
    ``{"ok": false, "kind", "message"[, "traceback"]}`` (see :func:`~autograder.selfcheck.calling.invoke`)."""
    ok = message.get("ok") if isinstance(message, dict) else None
    if ok is True:
        _keys(message, {"ok", "value", "args", "warnings"}, "call reply", optional={"shown"})
        args = message["args"]
        if not isinstance(args, list) or len(args) != args_sent:
            raise MalformedReply(f"call reply: args is not a list of the {args_sent} arguments sent")
        warnings = message["warnings"]
        if not isinstance(warnings, list) or len(warnings) > MAX_WARNINGS:
            raise MalformedReply(f"call reply: warnings is not a list of at most {MAX_WARNINGS} texts")
        reply = {"ok": True, "value": value(message["value"], "value"),
                 "args": [None if arg is None else value(arg, f"args[{i}]") for i, arg in enumerate(args)],
                 "warnings": [cut(_text(w, "a warning"), 300) for w in warnings]}
        if "shown" in message:  # the function showed a figure itself: one of a few fixed words
            if not isinstance(message["shown"], str) or message["shown"] not in SHOW_CALLS:
                raise MalformedReply(f"call reply: shown is not one of {', '.join(SHOW_CALLS)}")
            reply["shown"] = message["shown"]
        return reply
    if ok is False:
        _keys(message, {"ok", "kind", "message"}, "call reply", optional={"traceback", "error_type"})
        if message["kind"] not in CALL_KINDS or not isinstance(message["kind"], str):
            raise MalformedReply(f"call reply: kind is not one of {', '.join(CALL_KINDS)}")
        reply = {"ok": False, "kind": message["kind"], "message": cut(_text(message["message"], "call reply"))}
        if "traceback" in message:
            reply["traceback"] = cut(_text(message["traceback"], "call reply's traceback"))
        if "error_type" in message:
            _name(message["error_type"], "call reply's error_type")
            reply["error_type"] = message["error_type"]
        return reply
    raise MalformedReply("call reply: ok is neither true nor false")


# --- values (protocol.encode) ---------------------------------------------------------

def value(data, where: str, depth: int = 0) -> dict:
    """One encoded value, checked field by field; returned as is (it is plain JSON data)."""
    if depth > MAX_DEPTH:
        raise MalformedReply(f"{where}: nested too deeply")
    if not isinstance(data, dict):
        raise MalformedReply(f"{where}: a {type(data).__name__} where an encoded value (a dict) belongs")
    kind = data.get("t")
    check = _VALUES.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise MalformedReply(f"{where}: unknown kind of value")
    check(data, where, depth)
    return data


def _v_none(data, where, depth):
    _keys(data, {"t", "type"}, where)
    _name(data["type"], where)


def _v_bool(data, where, depth):
    _keys(data, {"t", "type", "v"}, where)
    _name(data["type"], where)
    if not isinstance(data["v"], bool):
        raise MalformedReply(f"{where}: v is not true or false")


def _v_number(data, where, depth):
    _keys(data, {"t", "type", "v"}, where)
    _name(data["type"], where)
    _number(data["v"], where)


def _v_str(data, where, depth):
    _keys(data, {"t", "type", "v"}, where)
    _name(data["type"], where)
    _bounded_text(data["v"], protocol.MAX_TEXT, where)


def _v_object(data, where, depth):
    _keys(data, {"t", "type", "repr"}, where)
    _name(data["type"], where)
    # The encoder's own descriptions and _safe_repr stay under a few hundred characters.
    _bounded_text(data["repr"], MAX_NAME, where)


def _v_sequence(data, where, depth):
    _keys(data, {"t", "type", "items"}, where)
    _name(data["type"], where)
    items = data["items"]
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise MalformedReply(f"{where}: items is not a list of at most {MAX_ITEMS}")
    for i, item in enumerate(items):
        value(item, f"{where}.items[{i}]", depth + 1)


def _v_array(data, where, depth):
    grad = data.get("t") == "tensor"
    _keys(data, {"t", "type", "dtype", "shape", "data"} | ({"requires_grad"} if grad else set()), where,
          optional={"grad"} if grad else set())
    _name(data["type"], where)
    _name(data["dtype"], where)
    shape = _shape(data["shape"], where)
    _shaped(data["data"], shape, where + ".data")
    if grad:
        if not isinstance(data["requires_grad"], bool):
            raise MalformedReply(f"{where}: requires_grad is not true or false")
        if data.get("grad") is not None:
            _shaped(data["grad"], shape, where + ".grad")


def _v_module(data, where, depth):
    _keys(data, {"t", "type", "params"}, where)
    _name(data["type"], where)
    params = data["params"]
    if not isinstance(params, dict) or len(params) > MAX_PARAMS:
        raise MalformedReply(f"{where}: params is not a dict of at most {MAX_PARAMS} parameters")
    for name, param in params.items():
        _name(name, where)
        value(param, f"{where}.params", depth + 1)
        if param["t"] != "tensor":
            raise MalformedReply(f"{where}: a parameter that is not a tensor")


def _v_axes(data, where, depth):
    _keys(data, {"t", "type", "title", "xlabel", "ylabel", "legend", "lines", "scatters", "yscale"}, where)
    _name(data["type"], where)
    for key in ("title", "xlabel", "ylabel"):
        _bounded_text(data[key], protocol.MAX_TEXT, where)
    _name(data["yscale"], where)
    legend = data["legend"]
    if legend is not None:
        if not isinstance(legend, list) or len(legend) > MAX_ARTISTS:
            raise MalformedReply(f"{where}: legend is not a list of texts")
        for entry in legend:
            _bounded_text(entry, protocol.MAX_TEXT, where)
    for key, fields in (("lines", {"label", "marker_only", "x", "y"}), ("scatters", {"label", "x", "y"})):
        artists = data[key]
        if not isinstance(artists, list) or len(artists) > MAX_ARTISTS:
            raise MalformedReply(f"{where}: {key} is not a list of at most {MAX_ARTISTS}")
        for artist in artists:
            _keys(artist, fields, f"{where}.{key}")
            _bounded_text(artist["label"], protocol.MAX_TEXT, where)
            if "marker_only" in fields and not isinstance(artist["marker_only"], bool):
                raise MalformedReply(f"{where}.{key}: marker_only is not true or false")
            for axis in ("x", "y"):
                points = artist[axis]
                if not isinstance(points, list) or len(points) > MAX_ITEMS:
                    raise MalformedReply(f"{where}.{key}: {axis} is not a list of at most {MAX_ITEMS} numbers")
                for point in points:
                    _number(point, f"{where}.{key}.{axis}")


def _v_figure(data, where, depth):
    _keys(data, {"t", "type", "axes"}, where, optional={"png"})
    _name(data["type"], where)
    axes = data["axes"]
    if not isinstance(axes, list) or len(axes) > MAX_ARTISTS:
        raise MalformedReply(f"{where}: axes is not a list of at most {MAX_ARTISTS}")
    for i, ax in enumerate(axes):
        value(ax, f"{where}.axes[{i}]", depth + 1)
        if ax["t"] != "axes":
            raise MalformedReply(f"{where}.axes[{i}]: not an axes")
    if "png" in data:
        _bounded_text(data["png"], MAX_PNG, where + ".png")


_VALUES = {
    "none": _v_none, "bool": _v_bool, "int": _v_number, "float": _v_number, "npscalar": _v_number,
    "str": _v_str, "object": _v_object, "list": _v_sequence, "tuple": _v_sequence,
    "tensor": _v_array, "ndarray": _v_array, "module": _v_module, "axes": _v_axes, "figure": _v_figure,
}


# --- pieces ---------------------------------------------------------------------------

def _keys(data, required: set[str], where: str, optional: frozenset | set = frozenset()) -> None:
    if not isinstance(data, dict):
        raise MalformedReply(f"{where}: a {type(data).__name__} where a dict belongs")
    missing = required - data.keys()
    extra = data.keys() - required - optional
    if missing or extra:
        raise MalformedReply(f"{where}: " + ("missing " + ", ".join(sorted(missing)) if missing else "")
                             + ("; " if missing and extra else "") + (f"{len(extra)} unknown key(s)" if extra else ""))


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _number(x, where: str) -> None:
    """A number as the encoder writes it: an int within 2**53, a float, or "nan"/"inf"/"-inf"."""
    if isinstance(x, float) or (_is_int(x) and abs(x) <= MAX_INT):
        return
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return
    raise MalformedReply(f"{where}: {type(x).__name__} where a number belongs")


def _text(x, where: str) -> str:
    if not isinstance(x, str):
        raise MalformedReply(f"{where}: {type(x).__name__} where text belongs")
    return x


def _bounded_text(x, limit: int, where: str) -> None:
    if not isinstance(x, str) or len(x) > limit:
        raise MalformedReply(f"{where}: not a text of at most {limit} characters")


def _name(x, where: str) -> None:
    _bounded_text(x, MAX_NAME, where)


def _shape(shape, where: str) -> list[int]:
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(_is_int(n) and n >= 0 for n in shape):
        raise MalformedReply(f"{where}: shape is not a list of at most {MAX_DIMS} sizes")
    if math.prod(shape) > MAX_ITEMS:
        raise MalformedReply(f"{where}: a shape of more than {MAX_ITEMS} values")
    return shape


def _shaped(data, shape: list[int], where: str) -> None:
    """``data`` is nested lists of exactly ``shape`` (a bare number for shape ``[]``), numbers at the bottom.

    Level by level, without recursion: the shape (at most MAX_DIMS long) bounds the depth.
    """
    level = [data]
    for size in shape:
        following = []
        for item in level:
            if not isinstance(item, list) or len(item) != size:
                raise MalformedReply(f"{where}: the data does not have the shape {shape}")
            following.extend(item)
        level = following
    for number in level:
        _number(number, where)
