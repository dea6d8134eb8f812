"""dlcourse.instructor.lessons: the lesson format, its errors, and that every source notebook is fresh."""

from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor.config import ROOT
from dlcourse.instructor.lessons import LessonFormatError, build_notebook, lesson_to_ipynb_text, parse_lesson

LESSON = """# %% [markdown]
# # Title
#
# Some *text*.
# %% locked id=setup
import numpy as np
# %% solution id=f
def f(x):
    out = None
    ### BEGIN SOLUTION
    out = 2 * x
    ### END SOLUTION
    return out
# %% tests id=f_test points=2
# Checks: f doubles
assert f(1) == 2
# %% [markdown] answer id=q points=1.5
# ### BEGIN SOLUTION
# Because.
# ### END SOLUTION
# %% id=plain
print("hi")
"""


def test_cells_and_nbgrader_metadata():
    notebook = build_notebook(LESSON)
    kinds = [(c.cell_type, c.id, c.metadata.get("nbgrader")) for c in notebook.cells]
    assert [k[:2] for k in kinds] == [("markdown", "cell-000"), ("code", "setup"), ("code", "f"),
                                     ("code", "f_test"), ("markdown", "q"), ("code", "plain")]
    setup, solution, tests, answer = (kinds[i][2] for i in (1, 2, 3, 4))
    assert setup["locked"] and not setup["solution"] and not setup["grade"]
    assert solution["solution"] and not solution["locked"] and not solution["grade"]
    assert tests["grade"] and tests["locked"] and tests["points"] == 2 and tests["grade_id"] == "f_test"
    assert answer["grade"] and answer["solution"] and answer["points"] == 1.5
    assert kinds[5][2] is None
    assert notebook.cells[0].source == "# Title\n\nSome *text*."
    assert notebook.metadata.kernelspec.name == "dlcourse"


def test_build_is_deterministic():
    assert nbformat.writes(build_notebook(LESSON)) == nbformat.writes(build_notebook(LESSON))


def test_bonus_tests_and_rubric_cells():
    notebook = build_notebook(LESSON + """# %% tests id=f_bonus bonus=1
# Checks: f on a bonus input
assert f(2) == 4
# %% [markdown] answer id=q2 points=2
# **Question.** Why twice?
#
# ### BEGIN SOLUTION
# Because $2x$.
# ### END SOLUTION
# %% [markdown] rubric id=q2_rubric
# - 2 points: says it doubles.
""")
    cells = {c.id: c for c in notebook.cells}
    bonus = cells["f_bonus"]
    assert bonus.metadata.nbgrader.grade and bonus.metadata.nbgrader.points == 0, "a bonus is never in a maximum"
    assert bonus.metadata.dlcourse == {"bonus": 1}
    rubric = cells["q2_rubric"]
    assert rubric.cell_type == "markdown" and rubric.metadata.nbgrader.locked and not rubric.metadata.nbgrader.grade
    assert rubric.metadata.dlcourse == {"rubric_for": "q2"}
    assert rubric.source.startswith("### BEGIN MARK SCHEME") and rubric.source.endswith("### END MARK SCHEME")
    assert "Because $2x$." in rubric.source and "says it doubles" in rubric.source


@pytest.mark.parametrize("text, message", [
    ("# %% tests id=t bonus=1 points=1\nx\n", "no points"),
    ("# %% tests id=t bonus=0\nx\n", "positive"),
    ("# %% [markdown] rubric id=q_rubric\n# x\n", "follows its answer"),
    ("# %% [markdown] answer id=q points=1\n# x\n# %% [markdown] rubric id=other\n# y\n", "follows its answer"),
    ("# %% rubric id=q_rubric\nx\n", "rubric cells are markdown"),
    ("# %% [markdown]\n# ### BEGIN MARK SCHEME\n", "never by hand"),
    ("# %% solution id=s points=1\nx\n", "unknown options"),

    ("print(1)\n", "before the first"),
    ("# %% tests id=t\nx = 1\n", "needs points"),
    ("# %% solution\nx = 1\n", "needs id"),
    ("# %% [markdown]\nnot a comment\n", "start with '# '"),
    ("# %% solution id=a\nx = 1\n# %% tests id=a points=1\nx\n", "duplicated ids"),
    ("# %% answer id=a points=1\nx\n", "answer cells are markdown"),
    ("# %% [markdown] locked id=a\n# x\n", "only be an answer"),
    ("# %% frobnicate\nx\n", "unexpected word"),
    ("# %% id=bad/id\nx\n", "letters, digits"),
    ("# %%\n\n", "empty cell"),
    ("# %% [markdown]\n# Fill in between `### BEGIN SOLUTION` and the end.\n", "only appear in solution"),
    ("# %% solution id=s\n### BEGIN HIDDEN TESTS\n", "only appear in tests"),
    ("# %% solution id=s\n### BEGIN SOLUTION\nx = 1\n", "unbalanced solution"),
])
def test_format_errors_say_what_is_wrong(text, message):
    with pytest.raises(LessonFormatError, match=message):
        parse_lesson(text)


LESSONS = sorted((ROOT / "lessons").glob("*/*.py"))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.parent.name + "/" + p.name for p in LESSONS])
def test_source_notebook_is_the_build_of_its_lesson(lesson):
    notebook = ROOT / "source" / lesson.parent.name / (lesson.stem + ".ipynb")
    assert notebook.exists(), f"{notebook} is missing: run ./course lessons"
    assert notebook.read_text(encoding="utf-8") == lesson_to_ipynb_text(lesson), \
        f"{notebook} is stale: run ./course lessons and commit it"


def test_every_source_notebook_has_a_lesson():
    for notebook in (ROOT / "source").glob("*/*.ipynb"):
        lesson = ROOT / "lessons" / notebook.parent.name / (notebook.stem + ".py")
        assert lesson.exists(), f"{notebook} has no lesson file {lesson}"
