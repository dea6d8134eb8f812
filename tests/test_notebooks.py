"""Every notebook in source/, with no per-notebook wiring:

* ``nbgrader validate`` on the source notebook (solutions and hidden tests) passes every test;
* ``nbgrader validate --invert`` on the release finds no test that passes without an answer;
* release/ is exactly what ``generate_assignment`` makes of source/ now, and leaks no solution
  code and no hidden test;
* autograding the untouched release with the real nbgrader scores 0 on every autograded cell, and a
  cheating submission (comparison functions rebound, every stub returning an always-equal object)
  scores no more than that.
"""

import ast
import re

import nbformat
import pytest

from dlcourse.instructor.config import ROOT
from dlcourse.instructor.feedback import grader_only_lines
from dlcourse.instructor.markers import strip_hidden_tests
from dlcourse.instructor.notebooks import run_nbgrader
from harness import autograde_variants

SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
ASSIGNMENTS = sorted({path.parent.name for path in SOURCES})
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def notebook_id(path):
    return f"{path.parent.name}/{path.name}"


def validate(path, *flags):
    result = run_nbgrader(["validate", *flags, str(path)], cwd=ROOT, check=False)
    return result.stdout + result.stderr


class TestValidateSources:
    """The source notebooks, executed whole by nbgrader validate (slow: all training included)."""

    @pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
    def test_source_notebook_passes_all_its_tests_under_nbgrader_validate(self, source):
        output = validate(source)
        assert "Success! Your notebook passes all the tests." in output, \
            f"nbgrader validate {notebook_id(source)} reported failures:\n{output[-6000:]}"


@pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
def test_release_passes_no_test_under_nbgrader_validate_invert(source):
    release = ROOT / "release" / source.parent.name / source.name
    assert release.exists(), f"{release} is missing: run ./course release"
    output = validate(release, "--invert")
    if "Success! The notebook does not pass any tests." in output:
        return
    # nbgrader counts a 0-point cell as passed whatever it does (its score 0 equals its maximum 0): a bonus
    # cell (points 0, dlcourse.bonus) may be listed, nothing else (whether a bonus cell fails on a stub is
    # checked by each practical's tests)
    bonus_first_lines = {c.source.lstrip().splitlines()[0].strip()[:60]
                         for c in nbformat.read(release, as_version=4).cells
                         if c.cell_type == "code" and (c.metadata.get("dlcourse") or {}).get("bonus")}
    passed = [block.strip().splitlines()[0].strip() for block in output.split("The following cell passed:")[1:]]
    assert passed, f"nbgrader validate --invert on {notebook_id(release)} said neither success nor which cell passed:\n{output[-3000:]}"
    not_bonus = [line for line in passed if not any(line.startswith(first) for first in bonus_first_lines)]
    assert not not_bonus, f"a test passes on the unanswered release {notebook_id(release)}: {not_bonus}\n{output[-6000:]}"


def _inside_markers(source, begin, end):
    """Lines strictly between begin/end marker lines, and the lines outside them."""
    inside, outside, depth = [], [], 0
    for line in source.splitlines():
        if begin in line:
            depth += 1
        elif end in line:
            depth -= 1
        elif depth:
            inside.append(line.strip())
        else:
            outside.append(line.strip())
    return inside, outside


def _string_texts(notebook):
    """The text of every string literal of the notebook's code cells (f-strings: their literal parts)."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                texts.append("".join(part.value for part in node.values if isinstance(part, ast.Constant)))
    return "\n".join(texts)


@pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
def test_no_grader_only_line_is_the_text_of_a_message(source):
    """A feedback page that would show a grader-only line is withheld (feedback.leaked_lines fails closed):
    a hidden test whose message strings repeat one of its own code lines withholds the page of every
    student who fails it (02's `train` test did, for an untouched submission)."""
    notebook = nbformat.read(source, as_version=4)
    texts = _string_texts(notebook)
    repeated = [line for line in grader_only_lines(notebook) if line in texts]
    assert not repeated, (f"{notebook_id(source)}: these grader-only lines are also the text of a string that a "
                          f"message may show, so a failing student's feedback page would be withheld: {repeated}")


@pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
def test_release_leaks_no_solution_and_no_hidden_test(source):
    release_path = ROOT / "release" / source.parent.name / source.name
    release = {c.get("id"): c for c in nbformat.read(release_path, as_version=4).cells}
    for cell in nbformat.read(source, as_version=4).cells:
        released = release.get(cell.get("id"))
        if (cell.metadata.get("dlcourse") or {}).get("rubric_for"):
            assert released is None, f"the graders' rubric {cell.get('id')} of {notebook_id(source)} is in the release"
            continue
        assert released is not None, f"cell {cell.get('id')} of {notebook_id(source)} is missing from release"
        text = released.source
        for marker in MARKERS:
            assert marker not in text, f"release cell {cell.id} still contains '{marker}'"
        for begin, end in (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
            inside, outside = _inside_markers(cell.source, begin, end)
            released_lines = {line.strip() for line in text.splitlines()}
            leaked = [line for line in inside
                      if len(line) > 3 and line not in outside and line in released_lines
                      and not line.startswith("#")]
            assert not leaked, f"release cell {cell.id} of {notebook_id(source)} leaks {begin[6:].lower()} lines: {leaked}"
        assert not released.get("outputs"), f"release cell {cell.id} carries outputs"


CHEAT_PREAMBLE = '''
# A cheating submission: comparisons rebound, every stub returns an always-equal object.
import math
import numpy as np
import numpy.testing


class _AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__
    def __getattr__(self, name): return self
    def __call__(self, *args, **kwargs): return self
    def __getitem__(self, key): return self
    def __iter__(self): return iter(())
    def __len__(self): return 0
    def __bool__(self): return True
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __call__
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = __call__


ALWAYS_EQUAL = _AlwaysEqual()
_yes = lambda *args, **kwargs: True
_quiet = lambda *args, **kwargs: None
np.allclose = np.isclose = np.array_equal = np.array_equiv = _yes
for _name in ("assert_allclose", "assert_array_equal", "assert_almost_equal", "assert_array_almost_equal",
              "assert_equal", "assert_array_less"):
    setattr(np.testing, _name, _quiet)
math.isclose = _yes
try:
    import torch
    torch.allclose = torch.equal = _yes
except ImportError:
    pass
'''.lstrip()

STUB = re.compile(r"^(?P<indent>[ \t]*)raise NotImplementedError\(\)[ \t]*$", re.MULTILINE)


def cheating_submission(release_notebook):
    """The release with every stub returning ALWAYS_EQUAL and the comparisons rebound first."""
    notebook = nbformat.from_dict(release_notebook)
    solution_cells = [c for c in notebook.cells if c.cell_type == "code"
                      and c.metadata.get("nbgrader", {}).get("solution")]
    for cell in solution_cells:
        cell.source = STUB.sub(lambda m: f"{m['indent']}return ALWAYS_EQUAL" if m["indent"] else "pass",
                               cell.source)
    if solution_cells:
        solution_cells[0].source = CHEAT_PREAMBLE + solution_cells[0].source
    return notebook


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_fresh_scores_zero_untouched_and_cannot_be_cheated(assignment, tmp_path):
    """One real nbgrader run per notebook grades two students: the untouched release and a cheat."""
    release_dir = ROOT / "release" / assignment
    assert release_dir.is_dir(), f"release/{assignment} is missing: run ./course release"
    course = None
    for path in sorted(release_dir.glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        scores, process = autograde_variants(
            assignment, {"untouched": release, "cheat": cheating_submission(release)},
            notebook=path.stem, workdir=tmp_path / path.stem)
        course = tmp_path / path.stem / "course"
        where = f"{assignment}/{path.name}"

        fresh = nbformat.read(course / "release" / assignment / path.name, as_version=4)
        assert nbformat.writes(release) == nbformat.writes(fresh), \
            f"release/{where} is stale: run ./course release and commit it"

        for student in ("untouched", "cheat"):
            cells = scores[student].get(path.stem)
            assert cells, f"{where}: {student} was not graded: {scores[student]}\n{process.stderr[-3000:]}"
        passing = {gid: score for gid, (score, _max) in scores["untouched"][path.stem].items() if score}
        assert not passing, f"{where}: tests that pass with no answer at all: {passing}"
        fooled = {gid: score for gid, (score, _max) in scores["cheat"][path.stem].items() if score}
        assert not fooled, f"{where}: tests fooled by rebound comparisons or always-equal objects: {fooled}"

    fresh_files = sorted(p.name for p in (course / "release" / assignment).iterdir())
    committed_files = sorted(p.name for p in release_dir.iterdir())
    assert committed_files == fresh_files, f"release/{assignment} files differ from a fresh release"


def _cells(source):
    return nbformat.read(source, as_version=4).cells


def _kind(cell):
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return "tests"
    if meta.get("solution"):
        return "solution"
    return "locked" if meta.get("locked") else "plain"


# dlcourse functions that return a value (a displayed number would become a partial score)
VALUE_RETURNING_CHECKS = {"assert_close", "assert_equal", "check_shape", "assert_gradient_close",
                          "assert_scalar_in_range", "relative_error", "check_gradient", "check_gradients",
                          "numerical_gradient", "numerical_gradient_params", "to_float_array"}


@pytest.mark.parametrize("source", SOURCES, ids=notebook_id)
def test_notebook_conventions(source):
    """The course helpers are imported in a locked cell before any student code, the notebook is
    seeded, every test cell says what it checks and has points, every graded function documents
    its inputs and outputs."""
    import ast

    cells = [c for c in _cells(source) if c.cell_type == "code"]
    first_solution = next(i for i, c in enumerate(cells) if _kind(c) == "solution")
    setup = [c for c in cells[:first_solution] if _kind(c) == "locked" and "dlcourse.checks" in c.source]
    assert setup, f"{notebook_id(source)}: no locked cell imports dlcourse.checks before the first solution cell"
    assert any("seed_everything(" in c.source for c in cells), f"{notebook_id(source)} never calls seed_everything"
    for cell in cells:
        kind = _kind(cell)
        if kind == "tests":
            first = cell.source.lstrip().splitlines()[0]
            assert first.startswith("# Checks:"), f"test cell {cell.id}: first line should be '# Checks: ...', got {first!r}"
            bonus = (cell.metadata.get("dlcourse") or {}).get("bonus", 0)
            assert cell.metadata.nbgrader.get("points", 0) > 0 or bonus > 0, f"test cell {cell.id} has no points"
            # a passing test cell says what it checked, in its visible part and with its hidden part; a value
            # displayed at its end would be read by nbgrader as a partial score
            for version in (cell.source, strip_hidden_tests(cell.source)):
                last = ast.parse(version).body[-1]
                assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and \
                    getattr(last.value.func, "id", None) == "print", \
                    f"test cell {cell.id} of {notebook_id(source)} should end with print(...) saying what it checked"
        if kind == "solution":
            tree = ast.parse(cell.source)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    doc = ast.get_docstring(node) or ""
                    assert "Inputs" in doc and "Returns" in doc, \
                        f"{notebook_id(source)}: {node.name}'s docstring should list Inputs: and Returns:"
                if isinstance(node, ast.ClassDef):
                    assert ast.get_docstring(node), f"{notebook_id(source)}: class {node.name} has no docstring"


NAIVE_LESSON = '''# %% [markdown]
# # Control: one naive test, one written with dlcourse.checks
# %% locked id=setup
import numpy as np
from dlcourse import seed_everything
from dlcourse.checks import assert_close
seed_everything(0)
# %% solution id=square
def square(x):
    """Inputs: x, an array. Returns: x ** 2, same shape."""
    out = None
    ### BEGIN SOLUTION
    out = x ** 2
    ### END SOLUTION
    return out
# %% tests id=naive points=1
# Checks: square, the naive way (np.allclose, ==): the cheat must fool this one
assert np.allclose(square(np.arange(3.0)), [0.0, 1.0, 4.0])
assert square(np.arange(3.0)) == [0.0, 1.0, 4.0]
# %% tests id=robust points=1
# Checks: square, with dlcourse.checks
assert_close(square(np.arange(3.0)), [0.0, 1.0, 4.0], "square([0, 1, 2])")
'''


def test_the_cheat_fools_a_naive_test_but_not_the_course_checks(tmp_path):
    """Control for the cheating test above: it can fail, and dlcourse.checks is what stops it."""
    import shutil

    from dlcourse.instructor.lessons import lesson_to_ipynb_text
    from dlcourse.instructor.nbgrader_course import autograde, make_course

    lesson = tmp_path / "lessons" / "control" / "control.py"
    lesson.parent.mkdir(parents=True)
    lesson.write_text(NAIVE_LESSON)
    (tmp_path / "source" / "control").mkdir(parents=True)
    (tmp_path / "source" / "control" / "control.ipynb").write_text(lesson_to_ipynb_text(lesson))
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    course = make_course(tmp_path / "course", ["control"], root=tmp_path)
    release = nbformat.read(course / "release" / "control" / "control.ipynb", as_version=4)
    (tmp_path / "cheat").mkdir()
    nbformat.write(cheating_submission(release), tmp_path / "cheat" / "control.ipynb")
    scores, process = autograde(course, "control", {"cheat": tmp_path / "cheat"})
    assert scores["cheat"] == {"control": {"naive": (1.0, 1.0), "robust": (0.0, 1.0)}}, process.stderr[-3000:]
