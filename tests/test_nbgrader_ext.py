"""The grading environment: library noise on stderr never costs a correct answer its points.

Proven with the real ``nbgrader autograde`` on a notebook whose graded cell logs through
TensorFlow, a default tqdm bar, ``warnings.warn`` and a plain write to stderr.
"""

import shutil

import nbformat
import pytest

from dlcourse.instructor.config import ROOT
from dlcourse.instructor.lessons import lesson_to_ipynb_text
from dlcourse.instructor.nbgrader_course import autograde, make_course
from dlcourse.instructor.nbgrader_ext import StderrToStdout

NOISY_LESSON = '''# %% [markdown]
# # A correct but noisy notebook
# %% locked id=setup
from dlcourse.checks import assert_close
# %% solution id=double
def double(x):
    """Inputs: x, a number. Returns: 2 x."""
    result = None
    ### BEGIN SOLUTION
    result = 2 * x
    ### END SOLUTION
    return result
# %% tests id=double_noisy points=3
# Checks: double(3) == 6 while TensorFlow, tqdm and warnings write to stderr
import sys
import warnings

import tensorflow as tf
from tqdm import tqdm

warnings.warn("a library warning")
for _ in tqdm(range(3)):
    pass
tf.get_logger().warning("a TensorFlow log line")
tf.debugging.set_log_device_placement(True)
tf.constant(1.0) + 1.0
tf.debugging.set_log_device_placement(False)
print("a plain line on stderr", file=sys.stderr)
assert_close(double(3), 6, "double(3)")
### BEGIN HIDDEN TESTS
assert_close(double(-2.5), -5.0, "double(-2.5)")
### END HIDDEN TESTS
'''


@pytest.fixture(scope="module")
def noisy_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    (root / "lessons" / "noisy").mkdir(parents=True)
    lesson = root / "lessons" / "noisy" / "noisy.py"
    lesson.write_text(NOISY_LESSON)
    (root / "source" / "noisy").mkdir(parents=True)
    (root / "source" / "noisy" / "noisy.ipynb").write_text(lesson_to_ipynb_text(lesson))
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return make_course(root / "course", ["noisy"], root=root), root


def submission(course, folder, code):
    notebook = nbformat.read(course / "release" / "noisy" / "noisy.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.get("id") == "double":
            cell.source = code
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "noisy.ipynb")
    return folder


def test_correct_noisy_notebook_gets_full_marks_and_a_wrong_one_none(noisy_course):
    course, root = noisy_course
    students = {
        "correct": submission(course, root / "subs" / "correct", "def double(x):\n    return x + x\n"),
        "wrong": submission(course, root / "subs" / "wrong", "def double(x):\n    return x * x\n"),
    }
    scores, result = autograde(course, "noisy", students)
    assert scores["correct"] == {"noisy": {"double_noisy": (3.0, 3.0)}}, result.stderr[-3000:]
    assert scores["wrong"] == {"noisy": {"double_noisy": (0.0, 3.0)}}, result.stderr[-3000:]
    graded = nbformat.read(course / "autograded" / "correct" / "noisy" / "noisy.ipynb", as_version=4)
    cell = next(c for c in graded.cells if c.get("id") == "double_noisy")
    text = "".join(o.get("text", "") for o in cell.outputs)
    # the noise really was there, and was kept (as stdout) rather than hidden
    for noise in ("a library warning", "a TensorFlow log line", "a plain line on stderr", "100%"):
        assert noise in text, f"expected {noise!r} in the graded cell's output"


def test_the_guard_leaves_errors_and_ungraded_cells_alone():
    graded = nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1,
                                                                   "solution": False, "locked": True}})
    graded.outputs = [nbformat.v4.new_output("stream", name="stderr", text="noise"),
                      nbformat.v4.new_output("error", ename="CheckError", evalue="wrong", traceback=[])]
    plain = nbformat.v4.new_code_cell("y")
    plain.outputs = [nbformat.v4.new_output("stream", name="stderr", text="noise")]
    guard = StderrToStdout()
    guard.preprocess_cell(graded, {}, 0)
    guard.preprocess_cell(plain, {}, 1)
    assert [o.get("name") for o in graded.outputs] == ["stdout", None]
    assert graded.outputs[1].output_type == "error"
    assert plain.outputs[0].name == "stderr"


GRADER_ONLY_LESSON = '''# %% [markdown]
# # Rubrics and bonus cells
# %% solution id=f
def f(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
# %% tests id=f_bonus bonus=1
# Checks: f(2)
assert f(2) == 4
print("checked f(2)")
# %% [markdown] answer id=q points=2
# **Question.** Why?
#
# ### BEGIN SOLUTION
# Because doubling.
# ### END SOLUTION
# %% [markdown] rubric id=q_rubric
# - 2 points: names doubling.
'''


def test_release_drops_the_rubric_keeps_the_bonus_and_the_gradebook_keeps_the_rubric(tmp_path):
    """generate_assignment with the course's configuration: the student's copy has no rubric cell and no
    mark-scheme text; the gradebook keeps the rubric's source (restored for graders); a bonus test cell is
    in the release with 0 points."""
    from nbgrader.api import Gradebook

    (tmp_path / "source" / "extra").mkdir(parents=True)
    lesson = tmp_path / "extra.py"
    lesson.write_text(GRADER_ONLY_LESSON)
    (tmp_path / "source" / "extra" / "extra.ipynb").write_text(lesson_to_ipynb_text(lesson))
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    course = make_course(tmp_path / "course", ["extra"], root=tmp_path)
    release = nbformat.read(course / "release" / "extra" / "extra.ipynb", as_version=4)
    ids = [cell.get("id") for cell in release.cells]
    assert "q_rubric" not in ids and "f_bonus" in ids, ids
    text = nbformat.writes(release)
    assert "MARK SCHEME" not in text and "names doubling" not in text and "Because doubling" not in text
    bonus = release.cells[ids.index("f_bonus")]
    assert bonus.metadata.nbgrader.points == 0 and bonus.metadata.dlcourse == {"bonus": 1}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        cells = {cell.name: cell for cell in gradebook.find_notebook("extra", "extra").source_cells}
        assert "names doubling" in cells["q_rubric"].source and cells["q_rubric"].locked
