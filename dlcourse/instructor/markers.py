"""The one grammar of the course's notebook markers and nbgrader cell kinds.

Like nbgrader, a marker is any *line containing* its words (``### BEGIN SOLUTION`` in code,
``### BEGIN SOLUTION`` in Markdown, ``### BEGIN HIDDEN TESTS``...), whatever the cell; removing a region
fails closed: an unterminated region is removed to the end of the cell. A cell's kind is read from its
nbgrader metadata only (never from its cell type, which a student can change):

    test     grade and not solution (locked code whose points nbgrader autogrades)
    answer   grade and solution (a written answer, graded by hand)
    solution solution and not grade (code the student writes)
    rubric   locked, with ``dlcourse.rubric_for`` (the graders' rubric of an answer)
    locked   any other locked cell (imports of the course helpers)
"""

SOLUTION_BEGIN, SOLUTION_END = "BEGIN SOLUTION", "END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
MARK_SCHEME_BEGIN, MARK_SCHEME_END = "BEGIN MARK SCHEME", "END MARK SCHEME"
ALL_MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END, MARK_SCHEME_BEGIN, MARK_SCHEME_END)


def nbgrader_metadata(cell):
    """The cell's nbgrader metadata as a dict ({} when it has none or it is not a dict)."""
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return meta if isinstance(meta, dict) else {}


def course_metadata(cell):
    """The cell's ``dlcourse`` metadata (bonus points, rubric_for) as a dict."""
    meta = (cell.get("metadata") or {}).get("dlcourse") or {}
    return meta if isinstance(meta, dict) else {}


def grade_id(cell):
    return nbgrader_metadata(cell).get("grade_id")


def cell_kind(cell):
    """"test", "answer", "solution", "rubric", "locked" or None (an ordinary cell); see the module docstring."""
    meta = nbgrader_metadata(cell)
    if meta.get("grade"):
        return "answer" if meta.get("solution") else "test"
    if meta.get("solution"):
        return "solution"
    if meta.get("locked"):
        return "rubric" if course_metadata(cell).get("rubric_for") else "locked"
    return None


def is_test_cell(cell):
    """An autograded test cell: a code cell of kind "test"."""
    return cell.get("cell_type") == "code" and cell_kind(cell) == "test"


def bonus_points(cell):
    """The extra credit of a bonus test cell (0 for any other cell)."""
    return float(course_metadata(cell).get("bonus") or 0.0)


def remove_region(text, begin, end):
    """Remove every line from one containing ``begin`` to the next containing ``end`` (both included).

    Fails closed: an unterminated region is removed to the end of the text.
    """
    kept, inside = [], False
    for line in text.splitlines():
        if begin in line:
            inside = True
            continue
        if inside:
            if end in line:
                inside = False
            continue
        kept.append(line)
    return "\n".join(kept).rstrip()


def strip_hidden_tests(text):
    return remove_region(text, HIDDEN_BEGIN, HIDDEN_END)


def strip_mark_scheme(text):
    return remove_region(text, MARK_SCHEME_BEGIN, MARK_SCHEME_END)


def strip_solution_markers(text):
    """The text without its solution marker lines (the solution itself is kept)."""
    return "\n".join(line for line in text.splitlines()
                     if SOLUTION_BEGIN not in line and SOLUTION_END not in line).rstrip()


def solution_regions(text):
    """The texts between solution markers (a model answer, or the reference code), in order."""
    regions, current = [], None
    for line in text.splitlines():
        if SOLUTION_BEGIN in line:
            current = []
        elif SOLUTION_END in line and current is not None:
            regions.append("\n".join(current).strip())
            current = None
        elif current is not None:
            current.append(line)
    return regions


def solution_line_spans(text):
    """The (first, last) line numbers (1-based, inclusive) of the lines between solution markers, in order.

    Fails closed like ``remove_region``: an unterminated region runs to the end of the text; an empty
    region gives no span.
    """
    spans, first = [], None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if SOLUTION_BEGIN in line:
            first = number + 1
        elif SOLUTION_END in line and first is not None:
            if number > first:
                spans.append((first, number - 1))
            first = None
    if first is not None and first <= len(lines):
        spans.append((first, len(lines)))
    return spans


def contains_marker(text):
    """The first marker word found in ``text``, or None."""
    return next((word for word in ALL_MARKERS if word in text), None)


def replace_solutions(text, stub):
    """The text with each solution region replaced by ``stub``, indented like its BEGIN line (what nbgrader's
    ClearSolutions makes of it in the student's copy). An unterminated region is replaced to the end."""
    kept, inside = [], False
    for line in text.split("\n"):
        if SOLUTION_BEGIN in line:
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            kept += [indent + stub_line for stub_line in stub.split("\n")]
        elif SOLUTION_END in line and inside:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)
