"""dlcourse.instructor.markers: the one marker grammar (line-based like nbgrader, failing closed) and cell kinds."""

import nbformat

from dlcourse.instructor.markers import (bonus_points, cell_kind, contains_marker, is_test_cell, solution_regions,
                                         strip_hidden_tests, strip_mark_scheme, strip_solution_markers)


def test_strip_hidden_tests_is_line_based_and_fails_closed():
    source = "a = 1\n    ### BEGIN HIDDEN TESTS\nsecret = 2\n### END HIDDEN TESTS\nb = 3\n# BEGIN HIDDEN TESTS\nleak = 4"
    assert strip_hidden_tests(source) == "a = 1\nb = 3"


def test_mark_scheme_and_solution_markers():
    assert strip_mark_scheme("q\n### BEGIN MARK SCHEME\nrubric\n### END MARK SCHEME\nafter") == "q\nafter"
    assert strip_mark_scheme("q\n### BEGIN MARK SCHEME\nrubric to the end") == "q"
    code = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert strip_solution_markers(code) == "def f():\n    return 1"
    assert solution_regions(code + "\n### BEGIN SOLUTION\nsecond\n### END SOLUTION") == ["return 1", "second"]
    assert contains_marker("text ### END HIDDEN TESTS") == "END HIDDEN TESTS"
    assert contains_marker("no marker here") is None


def _cell(cell_type, **nbgrader):
    cell = nbformat.v4.new_code_cell("x") if cell_type == "code" else nbformat.v4.new_markdown_cell("x")
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_cell_kinds_come_from_the_metadata_not_the_cell_type():
    assert cell_kind(_cell("code", grade=True, solution=False, locked=True)) == "test"
    assert cell_kind(_cell("markdown", grade=True, solution=False, locked=True)) == "test", "a retyped test"
    assert cell_kind(_cell("markdown", grade=True, solution=True)) == "answer"
    assert cell_kind(_cell("code", grade=False, solution=True)) == "solution"
    assert cell_kind(_cell("code", grade=False, solution=False, locked=True)) == "locked"
    rubric = _cell("markdown", grade=False, solution=False, locked=True)
    rubric.metadata["dlcourse"] = {"rubric_for": "q"}
    assert cell_kind(rubric) == "rubric"
    assert cell_kind(_cell("code")) is None
    assert is_test_cell(_cell("code", grade=True, solution=False)) and not is_test_cell(
        _cell("markdown", grade=True, solution=False))
    bonus = _cell("code", grade=True, solution=False, points=0)
    bonus.metadata["dlcourse"] = {"bonus": 2}
    assert bonus_points(bonus) == 2.0 and bonus_points(_cell("code")) == 0.0
    broken = _cell("code")
    broken.metadata["nbgrader"] = "not a dict"
    assert cell_kind(broken) is None


def test_solution_line_spans_are_the_lines_between_markers_and_fail_closed():
    from dlcourse.instructor.markers import solution_line_spans

    code = "def f():\n    ### BEGIN SOLUTION\n    x = 1\n    return x\n    ### END SOLUTION\n    pass"
    assert solution_line_spans(code) == [(3, 4)]
    assert solution_line_spans("a\n### BEGIN SOLUTION\n### END SOLUTION") == []  # empty region
    assert solution_line_spans("a\n# BEGIN SOLUTION\nb\nc") == [(3, 4)]  # unterminated: to the end
