"""dlcourse/instructor/cellflow.py: the names a cell defines, reads and touches; the test cells that judge an
exercise; the cells a run of its mutants needs (read from the code, on a small lesson built here)."""

from dlcourse.instructor import cellflow, lessons

LESSON = '''# %% locked id=setup
import numpy as np
from dlcourse.checks import assert_true
# %% solution id=helper
def helper(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION
# %% tests id=helper_test points=1
# Checks: helper
assert_true(helper(1) == 2, "helper(1)")
# %% solution id=train
def train(model, steps):
    ### BEGIN SOLUTION
    model["w"] += helper(steps)
    ### END SOLUTION
    return model
# %% tests id=train_test points=1
# Checks: train on a fresh model
assert_true(train({"w": 0}, 1)["w"] == 2, "train")
# %% id=make_model
model = {"w": 0}
# %% id=fit
history = train(model, 3)
# %% id=show
print(history)
# %% id=slow_experiment
import time
time.sleep(2)
experiment = [1, 2]
# %% id=show_experiment
print(len(experiment))
# %% solution id=evaluate
def evaluate(model):
    ### BEGIN SOLUTION
    return model["w"]
    ### END SOLUTION
# %% tests id=evaluate_test points=1
# Checks: evaluate on a model of its own
assert_true(evaluate({"w": 5}) == 5, "evaluate")
# %% tests id=fitted_test points=1
# Checks: the model trained in fit
assert_true(evaluate(model) == 4, "the trained model")
'''
SECONDS = {"fit": 5.0, "slow_experiment": 2.0}


def notebook():
    return lessons.build_notebook(LESSON, "flow")


def test_cell_names_reads_defines_and_touches():
    names = cellflow.cell_names(
        "import numpy as np\n"
        "total = 0\n"
        "for row in data:\n"
        "    total += row.sum()\n"
        "model.fit(x_train, epochs=total)\n"
        "def check(v):\n"
        "    return np.allclose(v, reference(v)) and total\n"
        "print(len(shown))\n"
        "table[key] = 1\n")
    assert names.defines == {"np", "total", "row", "check"}
    assert names.reads == {"data", "model", "x_train", "reference", "print", "len", "shown", "table", "key"}
    assert names.touches == {"model", "x_train", "total", "table"}  # not shown (builtins only read), not np
    assert [s.defines for s in names.statements][:2] == [{"np"}, {"total"}]


def test_judging_cells_follow_the_answer_through_ordinary_cells_but_not_other_exercises():
    nb = notebook()
    # helper: its own test only; train's test and fitted_test reach it through the *solution* train
    assert cellflow.judging_cells(nb, "helper") == ["helper_test"]
    # train: its own test, and fitted_test through fit (train(model, 3) touches model)
    assert cellflow.judging_cells(nb, "train") == ["train_test", "fitted_test"]
    assert cellflow.judging_cells(nb, "evaluate") == ["evaluate_test", "fitted_test"]
    assert cellflow.exercises(nb) == ["helper", "train", "evaluate"]


def test_run_plan_leaves_out_only_expensive_cells_no_judge_needs():
    nb = notebook()
    judging = cellflow.judging_cells(nb, "train")
    planned, left_out = cellflow.run_plan(nb, "train", judging, SECONDS)
    assert left_out == ["slow_experiment", "show_experiment"]  # show_experiment reads what was left out
    assert "fit" in planned and "show" in planned and "make_model" in planned  # needed, or cheap
    assert planned[-1] == "fitted_test" and planned[0] == "setup"
    # helper's mutants stop at its own test: nothing after it runs
    assert cellflow.run_plan(nb, "helper", ["helper_test"], SECONDS) == (["setup", "helper", "helper_test"], [])
    assert cellflow.run_plan(nb, "helper", [], SECONDS) == ([], [])
