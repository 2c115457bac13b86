"""Reading a submitted notebook and rebuilding it against the assignment's template.

The grader trusts nothing in a submission but the code the student wrote: answer cells
(matched to the template by nbgrader ``grade_id``) and cells the student added. Test cells,
story cells, metadata (kernelspec, tags, execution settings, points) come from the
template or are ignored. Plain ``json`` reads the file: it is faster to import than
nbformat and lets every kind of broken file become a clear status instead of an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.text import valid_data

# A submission's code beyond this is not a course answer; the cell is dropped with a note.
MAX_CELL_SOURCE = 1_000_000
# The templates have about 40 cells; a student adds a few dozen at most. Past this a
# notebook is a payload, not an answer (a hundred thousand empty cells cost memory and time).
MAX_CELLS = 2_000


class UnreadableNotebook(Exception):
    """The file is not a notebook we can grade; the message says why and what to do."""


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata; a ``grade_id`` that is not a string counts as none."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    if not isinstance(meta, dict):
        return {}
    if "grade_id" in meta and not isinstance(meta["grade_id"], str):
        meta = {k: v for k, v in meta.items() if k != "grade_id"}
    return meta


def load_notebook(path: Path) -> dict:
    """A notebook file of the kit's own (a template, a solution) as a dict with a ``cells`` list."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableNotebook(f"cannot read the file ({error.strerror})") from None
    return parse_notebook(data)


def parse_notebook(data: bytes) -> dict:
    """The notebook in ``data``, or :class:`UnreadableNotebook` saying what is wrong and what to do.

    Anything that is not the shape of a notebook (a string where a number belongs, a list
    as a ``grade_id``, JSON nested a thousand deep) is the file's fault: it ends here as
    ``unreadable``, never as an error inside the grader. Strings are made valid text.
    """
    if not data:
        raise UnreadableNotebook("the file is empty: submit the saved notebook (File > Save, then upload it)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableNotebook("the file is not UTF-8 text: is it really a .ipynb notebook?") from None
    try:
        notebook = json.loads(text)
    except ValueError as error:
        where = f" at line {error.lineno}" if hasattr(error, "lineno") else ""
        raise UnreadableNotebook(f"the file is not valid notebook JSON ({getattr(error, 'msg', error)}{where}); "
                                 "open it in JupyterLab, save it, and submit again") from None
    except RecursionError:
        raise UnreadableNotebook("the file's JSON is nested too deeply to be a notebook") from None
    if not isinstance(notebook, dict):
        raise UnreadableNotebook("the file is JSON but not a notebook")
    version = notebook.get("nbformat", 4)
    if not isinstance(version, int) or isinstance(version, bool):
        raise UnreadableNotebook(f"the notebook's format version is {str(version)[:20]!r}, not a number: "
                                 "open it in JupyterLab, save it, and submit again")
    if version < 4 and "worksheets" in notebook:
        notebook = _upgrade_v3(text)
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise UnreadableNotebook("the notebook has no list of cells")
    if len(cells) > MAX_CELLS:
        raise UnreadableNotebook(f"the notebook has {len(cells)} cells, over the limit of {MAX_CELLS}: "
                                 "delete the extra cells and submit again")
    notebook["cells"] = [valid_data(cell) for cell in cells if isinstance(cell, dict)]
    return notebook


def _upgrade_v3(text: str) -> dict:
    import nbformat

    try:
        return json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
    except Exception as error:
        raise UnreadableNotebook(f"an old (version 3) notebook that could not be upgraded: {error}") from None


@dataclass
class Template:
    """The student template's structure: which grade_id is what kind of cell."""

    cells: list[dict]
    answers: dict[str, str] = field(default_factory=dict)  # code answer grade_id -> stub source
    written: dict[str, float] = field(default_factory=dict)  # written grade_id -> points
    points: dict[str, float] = field(default_factory=dict)  # question id -> points (from check cells)

    @classmethod
    def from_notebook(cls, notebook: dict) -> Template:
        template = cls(cells=notebook["cells"])
        for cell in template.cells:
            meta = nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            if not grade_id:
                continue
            if meta.get("solution") and cell.get("cell_type") == "code":
                template.answers[grade_id] = _source(cell)
            elif meta.get("solution") and meta.get("grade"):
                template.written[grade_id] = float(meta.get("points", 0))
            elif meta.get("grade") and grade_id.startswith("check_"):
                template.points[grade_id.removeprefix("check_")] = float(meta.get("points", 0))
        return template


@dataclass
class Rebuilt:
    # {"label", "source", "added"} in the order they run. The source is as the student wrote
    # it: the sandboxed child turns IPython syntax (%magic, !shell) into Python itself, under
    # the cell's time limit (that transformation costs the square of a cell's size, so the
    # grader never runs it). "added": a cell the student added, or a further copy of an
    # answer cell; these share one time budget (see sandbox.pool.Limits).
    cells: list[dict]
    sources: dict[str, str]  # question id -> the student's answer code
    written: dict[str, str]  # written grade_id -> the student's markdown
    notes: list[str]


def rebuild(template: Template, submission: dict) -> Rebuilt:
    """The code to run for ``submission``, in template order, with the student's additions."""
    answers: dict[str, list[str]] = {}
    added: dict[str, list[str]] = {}
    written: dict[str, str] = {}
    notes: list[str] = []
    template_ids = {nbgrader_meta(c).get("grade_id") for c in template.cells} - {None}
    anchor = "setup"
    for cell in submission["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        kind = cell.get("cell_type")
        source = _source(cell)
        if len(source) > MAX_CELL_SOURCE:
            notes.append(f"a cell of {len(source)} characters was not run")
            continue
        if grade_id in template.answers:
            anchor = grade_id
            if kind == "code":
                answers.setdefault(grade_id, []).append(source)
        elif grade_id in template.written:
            if kind == "markdown":
                written[grade_id] = source
        elif grade_id in template_ids:
            anchor = grade_id  # the template's own cell: the submission's copy is ignored
        elif kind == "code" and source.strip():
            added.setdefault(anchor, []).append(source)
    cells = []
    for cell in template.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id == "setup":
            cells.append({"label": "setup", "source": _source(cell), "added": False})
        for number, source in enumerate(answers.get(grade_id, []) if grade_id in template.answers else []):
            cells.append({"label": grade_id if number == 0 else f"{grade_id} (copy {number + 1})",
                          "source": source, "added": number > 0})
        for number, source in enumerate(added.get(grade_id, []) if grade_id else [], start=1):
            cells.append({"label": f"added after {grade_id} #{number}", "source": source, "added": True})
    sources = {grade_id: "\n".join(answers.get(grade_id, [])) for grade_id in template.answers}
    return Rebuilt(cells=cells, written=written, notes=notes, sources=sources)
