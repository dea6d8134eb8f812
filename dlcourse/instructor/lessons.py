"""Lessons are written as plain ``.py`` files and built into nbgrader notebooks.

Why: a notebook's JSON makes review and merging painful; a lesson file diffs like code. The build is
deterministic, and a test checks that every ``source/*/*.ipynb`` is the build of its lesson file.

Format (``lessons/<assignment>/<notebook>.py``): cells start with a header line.

    # %% [markdown]                           explanation (every line starts with '# ' or is '#')
    # %%                                      an ordinary code cell
    # %% locked id=setup                      read-only code (imports of the course helpers)
    # %% solution id=forward                  code the student completes (### BEGIN/END SOLUTION)
    # %% tests id=forward_shape points=2      autograder tests (### BEGIN/END HIDDEN TESTS)
    # %% tests id=schedule bonus=1            an optional part's tests: extra credit, never in the maximum
    # %% [markdown] answer id=q1 points=2     a written answer, graded by hand
    # %% [markdown] rubric id=q1_rubric       the graders' rubric of the answer cell just above it
    # %% id=train_deep                        an ordinary code cell with a stable cell id (for tests)

Every ``id`` becomes the cell's notebook cell id and, on a cell with a kind, its nbgrader ``grade_id``.

A bonus test cell carries nbgrader ``points: 0`` (so no maximum counts it) and ``dlcourse.bonus`` (its
extra credit, awarded by the course's grading when the cell passes). A rubric cell follows its answer
cell and is built into a locked markdown cell holding the answer's model answer and the rubric inside
nbgrader's ``BEGIN/END MARK SCHEME`` region: ``generate_assignment`` removes it from the student's copy
(see ``nbgrader_config.py``), graders see it in formgrader, feedback never shows it.
"""

import re
from pathlib import Path
from typing import NamedTuple

import nbformat

from dlcourse.instructor.config import KERNELSPEC
from dlcourse.instructor.markers import (HIDDEN_BEGIN, HIDDEN_END, MARK_SCHEME_BEGIN, MARK_SCHEME_END, SOLUTION_BEGIN,
                                         SOLUTION_END, solution_regions)

HEADER = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?P<options>.*)$")
KINDS = {"locked", "solution", "tests", "answer", "rubric"}
RUBRIC_SUFFIX = "_rubric"


class LessonFormatError(ValueError):
    """A lesson file does not follow the format; the message names the file and line."""


class LessonCell(NamedTuple):
    """One cell of a lesson file: cell_type "code" or "markdown", its source, its nbgrader metadata
    (None for an ordinary cell), its id (None when it has none), its kind (None, "locked", "solution",
    "tests", "answer" or "rubric") and its bonus points (0 unless a bonus tests cell)."""
    cell_type: str
    source: str
    nbgrader: dict | None
    id: str | None
    kind: str | None = None
    bonus: float = 0.0


def _parse_options(text, where):
    words = text.split()
    kind = None
    options = {}
    for word in words:
        if "=" in word:
            key, value = word.split("=", 1)
            options[key] = value
        elif word in KINDS and kind is None:
            kind = word
        else:
            raise LessonFormatError(f"{where}: unexpected word {word!r} in a cell header")
    return kind, options


def _number(text, option, kind, where):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise LessonFormatError(f"{where}: a {kind} cell needs {option}=<number>") from None
    if not value > 0:
        raise LessonFormatError(f"{where}: {option}= must be a positive number")
    return value


def _nbgrader_metadata(kind, options, where):
    grade_id = options.get("id")
    if kind is None:
        return None
    if not grade_id or not re.fullmatch(r"[A-Za-z0-9_-]+", grade_id):
        raise LessonFormatError(f"{where}: a {kind} cell needs id=<letters, digits, _ or ->")
    meta = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
            "solution": False, "task": False}
    if kind in ("tests", "answer"):
        if kind == "tests" and "bonus" in options:
            if "points" in options:
                raise LessonFormatError(f"{where}: a bonus tests cell has bonus=<number> and no points")
            _number(options["bonus"], "bonus", kind, where)
            points = 0.0
        else:
            points = _number(options.get("points"), "points", kind, where)
        meta["grade"] = True
        meta["points"] = int(points) if points.is_integer() else points
    meta["locked"] = kind in ("locked", "tests", "rubric")
    meta["solution"] = kind in ("solution", "answer")
    return meta


def _check_markers(source, meta, where):
    """nbgrader treats any line containing a marker's words as a marker, whatever the cell (even prose)."""
    solution = bool(meta and meta["solution"])
    tests = bool(meta and meta["grade"] and not meta["solution"])
    for word in (SOLUTION_BEGIN, SOLUTION_END):
        if word in source and not solution:
            raise LessonFormatError(f"{where}: '{word}' may only appear in solution or answer cells "
                                    "(nbgrader takes it for a marker anywhere; write 'the solution markers')")
    for word in (HIDDEN_BEGIN, HIDDEN_END):
        if word in source and not tests:
            raise LessonFormatError(f"{where}: '{word}' may only appear in tests cells")
    for word in (MARK_SCHEME_BEGIN, MARK_SCHEME_END):
        if word in source:
            raise LessonFormatError(f"{where}: '{word}' is written by the build of a rubric cell, never by hand")
    if solution and source.count(SOLUTION_BEGIN) != source.count(SOLUTION_END):
        raise LessonFormatError(f"{where}: unbalanced solution markers")
    if tests and source.count(HIDDEN_BEGIN) != source.count(HIDDEN_END):
        raise LessonFormatError(f"{where}: unbalanced hidden-test markers")


def parse_lesson(text, name="lesson"):
    """Split a lesson file's text into a list of LessonCell."""
    cells = []
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        match = HEADER.match(line)
        if match:
            where = f"{name}:{number}"
            kind, options = _parse_options(match.group("options"), where)
            cell_type = "markdown" if match.group("markdown") else "code"
            if cell_type == "markdown" and kind not in (None, "answer", "rubric"):
                raise LessonFormatError(f"{where}: a markdown cell can only be an answer or rubric cell")
            if cell_type == "code" and kind in ("answer", "rubric"):
                raise LessonFormatError(f"{where}: {kind} cells are markdown: '# %% [markdown] {kind} ...'")
            allowed = {"id"} | ({"points", "bonus"} if kind == "tests" else {"points"} if kind == "answer" else set())
            if set(options) - allowed:
                raise LessonFormatError(f"{where}: unknown options {sorted(set(options) - allowed)}")
            if "id" in options and not re.fullmatch(r"[A-Za-z0-9_-]+", options["id"]):
                raise LessonFormatError(f"{where}: an id is made of letters, digits, _ or -")
            bonus = float(options["bonus"]) if "bonus" in options else 0.0
            current = [cell_type, [], _nbgrader_metadata(kind, options, where), where, options.get("id"), kind,
                       bonus]
            cells.append(current)
        elif current is None:
            if line.strip():
                raise LessonFormatError(f"{name}:{number}: text before the first '# %%' header")
        else:
            if current[0] == "markdown":
                if line.strip() and not (line == "#" or line.startswith("# ")):
                    raise LessonFormatError(f"{name}:{number}: markdown lines start with '# '")
                line = line[2:]
            current[1].append(line)
    result = []
    for cell_type, lines, meta, where, cell_id, kind, bonus in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            raise LessonFormatError(f"{where}: empty cell")
        source = "\n".join(lines)
        _check_markers(source, meta, where)
        if kind == "rubric":
            previous = result[-1] if result else None
            if previous is None or previous.kind != "answer" or cell_id != previous.id + RUBRIC_SUFFIX:
                raise LessonFormatError(f"{where}: a rubric cell follows its answer cell <id> and is named "
                                        f"id=<id>{RUBRIC_SUFFIX}")
        result.append(LessonCell(cell_type, source, meta, cell_id, kind, bonus))
    ids = [cell.id for cell in result if cell.id]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise LessonFormatError(f"{name}: duplicated ids {duplicated}")
    return result


def build_notebook(text, name="lesson"):
    """Build the nbformat notebook of a lesson file's text (deterministic: same text, same JSON)."""
    notebook = nbformat.v4.new_notebook()
    notebook.nbformat_minor = 5
    notebook.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    cells = parse_lesson(text, name)
    for index, lesson_cell in enumerate(cells):
        source = lesson_cell.source
        if lesson_cell.kind == "rubric":
            source = rubric_source(cells[index - 1].source, source)
        if lesson_cell.cell_type == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = lesson_cell.id or f"cell-{index:03d}"
        if lesson_cell.nbgrader:
            # nbgrader's LockCells makes locked cells read-only in release
            cell.metadata["nbgrader"] = dict(lesson_cell.nbgrader)
        if lesson_cell.bonus:
            cell.metadata["dlcourse"] = {"bonus": int(lesson_cell.bonus) if lesson_cell.bonus.is_integer()
                                         else lesson_cell.bonus}
        if lesson_cell.kind == "rubric":
            cell.metadata["dlcourse"] = {"rubric_for": cells[index - 1].id}
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def rubric_source(answer_source, rubric_text):
    """The graders-only cell of a rubric: the answer cell's model answer and the rubric, inside nbgrader's
    mark-scheme region (removed from the student's copy by generate_assignment)."""
    model = "\n\n".join(solution_regions(answer_source))
    return (f"### {MARK_SCHEME_BEGIN}\n**For graders only** (not in the student's copy).\n\n"
            f"**Model answer.** {model}\n\n**Rubric.**\n\n{rubric_text}\n### {MARK_SCHEME_END}")


def lesson_to_ipynb_text(path):
    """The notebook JSON text that the lesson file at ``path`` builds into."""
    path = Path(path)
    return nbformat.writes(build_notebook(path.read_text(encoding="utf-8"), str(path))) + "\n"


def build_all(root):
    """Build ``source/<a>/<n>.ipynb`` from every ``lessons/<a>/<n>.py`` under ``root``.

    Returns:
    - the list of notebook paths written or already up to date.
    """
    root = Path(root)
    written = []
    for lesson in sorted((root / "lessons").glob("*/*.py")):
        target = root / "source" / lesson.parent.name / (lesson.stem + ".ipynb")
        text = lesson_to_ipynb_text(lesson)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
