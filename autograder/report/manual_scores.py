"""Hand-graded scores of written answers through a CSV file: the template to fill in, and its import.

``dlbasics scores-template`` writes one row per answer (with the answer's text and the question's
maximum, so a spreadsheet is enough to grade in); ``dlbasics import-scores`` reads it back, checks
every line and reports every bad one at once; a file with any bad line imports nothing. A score
needs a submission and an answer: a student without one, or a question they did not answer
(anything but 0), is refused with the line to fix. The desk (``dlbasics desk``) writes the same
table of the same gradebook.
"""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from autograder.report.outputs import write_atomic
from autograder.report.review import pseudonym  # the review pages' anon-…: an anonymous file maps back
from autograder.report.safe import csv_cell
from autograder.text import terminal_text

COLUMNS = ["student", "question", "max_points", "points", "comment", "answer"]
REQUIRED = ("student", "question", "points")
# A scores file is a few hundred lines of a class; one far larger is not a scores file, and reading it
# whole into memory should not be the way to find out: 20 MB is 1000 answers at the 20,000-character cap.
MAX_CSV_BYTES = 20_000_000


@dataclass
class Imported:
    scores: list[tuple[str, str, float, str]] = field(default_factory=list)  # (student, question, points, comment)
    problems: list[str] = field(default_factory=list)  # one per bad line, each saying what to fix


def where_args(args) -> str:
    """The options that located this gradebook, as the user typed them: the next command works as printed."""
    return " ".join(shlex.quote(part) for part in where_list(args))


def where_list(args) -> list[str]:
    """``--course``/``--out``/``--gradebook`` as given; with only ``--gradebook``, also ``--out`` its folder
    (where `dlbasics report` writes, which it must be told)."""
    parts = []
    for option in ("course", "out", "gradebook"):
        value = getattr(args, option, None)
        if value:
            parts += [f"--{option}", str(value)]
    if getattr(args, "gradebook", None) and not (getattr(args, "course", None) or getattr(args, "out", None)):
        parts += ["--out", str(Path(args.gradebook).parent)]
    return parts


def template_rows(results, entries: dict, seed: str | None) -> list[list]:
    """One row per written answer of every graded submission: untouched ones pre-filled with 0,
    earlier scores kept (a stale one emptied, with a note). ``seed``: pseudonyms instead of ids."""
    from autograder.grading.grade import NO_SUBMISSION

    rows = []
    for result in results:
        if result.status == NO_SUBMISSION:
            continue
        for question, answer in result.written.items():
            earlier = entries.get(result.student, {}).get(question)
            if answer.untouched:
                points, comment = "0", "no answer written"
            elif earlier is not None:
                points, comment = f"{earlier.points:g}", earlier.comment
                if earlier.stale:
                    points, comment = "", f"STALE (the answer changed since it was scored {earlier.points:g}): " \
                                          + earlier.comment
            else:
                points, comment = "", ""
            name = pseudonym(result.student, seed) if seed is not None else result.student
            rows.append([name, question, f"{answer.max_points:g}", points, comment,
                         "" if answer.untouched else answer.answer])
    rows.sort(key=lambda row: (row[0], row[1]))  # by the name shown: pseudonyms never in the real ids' order
    return rows


def write_template(target: Path, rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    # Every cell is neutralised: an answer starting with "=" must not become a spreadsheet formula.
    writer.writerows([[csv_cell(cell) for cell in row] for row in rows])
    write_atomic(target, buffer.getvalue())  # owner-only, like every grades file


def read_scores(path: Path, assignment_id: str, written: dict[str, float], results, roster_ids: set[str],
                seed: str) -> Imported:
    """Every score of ``path``, checked against the gradebook's ``results``; every bad line reported.

    ``written``: each hand-graded question's maximum. ``roster_ids``: students on the roster (told
    apart from typos: they have no submission). ``seed``: maps pseudonyms back to students.
    """
    out = Imported()
    answers = {r.student: r.written for r in results if r.status != "no submission"}
    known = set(answers) | set(roster_ids)
    # Pseudonyms (an anonymous review's) map back only where the grades have a seed to key them.
    hidden_names = {pseudonym(student, seed): student for student in known} if seed else {}
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            out.problems.append(f"{path} is larger than {MAX_CSV_BYTES:,} bytes: not a scores file")
            return out
        # utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [(c or "").strip() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                out.problems.append(f"{path} needs the columns student, question, points[, comment] "
                                    f"(missing: {', '.join(missing)})")
                return out
            seen: dict[tuple[str, str], int] = {}
            for line, raw in enumerate(reader, start=2):
                problem = _check_line(raw, assignment_id, written, answers, known, hidden_names, seen, line, out)
                if problem:
                    out.problems.append(terminal_text(f"{path}:{line}: {problem}"))
    except FileNotFoundError:
        out.problems.append(f"no such file: {path}")
    except (UnicodeDecodeError, csv.Error) as error:
        out.problems.append(f"{path} is not a UTF-8 CSV file ({error}); export it as 'CSV UTF-8' and try again")
    return out


def _check_line(raw: dict, assignment_id, written, answers, known, hidden_names, seen, line, out) -> str | None:
    row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k and isinstance(v, str | type(None))}
    if not row.get("points"):
        return None  # not scored yet (a row of the pre-filled template)
    try:
        points = float(row["points"])
    except ValueError:
        return f"points must be a number, got {row['points']!r}"
    if points != points:  # NaN
        return "points must be a number, got 'nan'"
    student, question = row.get("student", ""), row.get("question", "")
    student = hidden_names.get(student, student)
    if student not in known and student.startswith("'"):
        student = student[1:]  # copied from grades.csv, where '=x guards a formula
    if question not in written:
        return (f"{question!r} is not a hand-graded question of {assignment_id} "
                f"(those are: {', '.join(written)})")
    if not 0 <= points <= written[question]:
        return f"{points:g} is outside 0..{written[question]:g} for {question}"
    if student not in known:
        return f"no student {student!r} in this gradebook or roster (a typo?)"
    if student not in answers:
        return f"{student!r} has no submission for {assignment_id}: there is no answer to score (remove the line)"
    answer = answers[student].get(question)
    if answer is None:
        return (f"{student!r}'s submission has no answer to {question} (it could not be read): there is nothing "
                "to score (remove the line)")
    if answer.untouched and points != 0:
        return f"{student!r} wrote no answer to {question}: it can only score 0, not {points:g}"
    if (student, question) in seen:
        return f"a second score for {student!r}, {question} (the first is on line {seen[(student, question)]})"
    seen[(student, question)] = line
    out.scores.append((student, question, points, row.get("comment", "")))
    return None
