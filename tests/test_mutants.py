"""``./course mutants`` (dlcourse/instructor/mutants.py) through the real command line (``cli.main``), on a
small demo assignment built here: a weak test lets a named mutant survive, a strong one kills it; the
equivalent-mutant file; the score table; and the pieces that need no kernel (sampling, the file's grammar).

Kernel runs are few and short (the demo imports only dlcourse.checks): the whole file takes seconds.
"""

import json
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import cli, lessons, mutants
from dlcourse.instructor.mutation import cell_mutants

EXERCISE = '''# %% locked id=setup
from dlcourse.checks import assert_close
# %% solution id=mean_of
def mean_of(values):
    """The mean of a list of numbers. Inputs: - values: a list of floats. Returns: - their mean."""
    ### BEGIN SOLUTION
    values = list(values)
    count = 0
    def tally():
        nonlocal count
        count = len(values)
    tally()
    return sum(values) / count
    ### END SOLUTION
# %% id=slow_plot
import time
time.sleep(1.5)  # an expensive cell that no test reads: mutants skip it
figure = "drawn"
'''
WEAK = EXERCISE + '''# %% tests id=mean_of_test points=2
# Checks: mean_of of one number (weak: sum / 1 == sum * 1)
assert_close(mean_of([3.0]), 3.0, "mean_of([3.0])")
print("mean_of: checks passed")
'''
STRONG = EXERCISE + '''# %% tests id=mean_of_test points=2
# Checks: mean_of of one number; hidden: of three
assert_close(mean_of([3.0]), 3.0, "mean_of([3.0])")
### BEGIN HIDDEN TESTS
assert_close(mean_of([1.0, 2.0, 6.0]), 3.0, "mean_of([1, 2, 6])")
### END HIDDEN TESTS
print("mean_of: checks passed")
'''


def demo_root(folder, lesson, equivalents=None):
    root = Path(folder)
    (root / "source" / "demo").mkdir(parents=True)
    nbformat.write(lessons.build_notebook(lesson, "demo"), root / "source" / "demo" / "demo.ipynb")
    if equivalents is not None:
        (root / "samples" / "demo").mkdir(parents=True)
        (root / "samples" / "demo" / mutants.EQUIVALENTS_FILE).write_text(equivalents)
    return root


def demo_key(lesson, operator, text):
    """The key of the demo's mutant of ``operator`` whose diff contains ``text``."""
    source = lessons.build_notebook(lesson, "demo").cells[1].source
    found = [m.key for m in cell_mutants("mean_of", source, (operator,)).mutants if text in m.diff()]
    assert len(found) == 1, found
    return found[0]


def run_command(root, capsys, *options):
    reports = cli.main(["mutants", "demo", "--root", str(root), "--workers", "2", *map(str, options)])
    return reports[0], capsys.readouterr().out


def test_a_weak_test_lets_a_named_mutant_survive_and_the_report_says_so(tmp_path, capsys):
    times = demo_key(WEAK, "arithmetic", "sum(values) * count")
    listed = demo_key(WEAK, "delete", "- values = list(values)")  # the same as the reference for a list
    root = demo_root(tmp_path / "weak", WEAK, f"# reviewed\n{listed}  the tests pass lists: list(values) is values\n")
    report, out = run_command(root, capsys, "--operators", "arithmetic,delete", "--mutants-json", tmp_path / "weak.json")
    (exercise,) = report.exercises
    status = {v.mutant.key: v.status for v in exercise.verdicts}
    assert status[times] == "survived" and status[listed] == "survived"
    assert [v.mutant.key for v in exercise.survivors()] == [times]
    assert [v.mutant.key for v in exercise.equivalents()] == [listed]
    assert exercise.discarded == 1  # deleting count = 0 leaves nonlocal count unbound: does not compile
    assert exercise.left_out == ["slow_plot"] and not exercise.plan_note  # proven on the reference
    killed = [v for v in exercise.verdicts if v.status == "killed"]
    assert killed and all(v.killed_by == "mean_of_test" for v in killed)
    # the printed report: the table row, the survivor with its line and diff, the equivalent, the plan note
    row = f"| `mean_of` | {len(killed)} / {len(killed) + 1} | {len(killed) / (len(killed) + 1):.2f} | 1 | 1 | 1 | `mean_of_test` |"
    assert row in out, out
    assert f"{times}  line 10 (arithmetic)" in out
    assert "- return sum(values) / count\n" in out and "+ return sum(values) * count\n" in out
    assert f"{listed}  line 4 (delete): equivalent: the tests pass lists" in out
    assert "skip slow_plot" in out
    data = json.loads((tmp_path / "weak.json").read_text())[0]
    assert data["exercises"][0]["score"] == pytest.approx(len(killed) / (len(killed) + 1))
    assert {m["key"]: m["status"] for m in data["exercises"][0]["mutants"]}[times] == "survived"


def test_a_strong_test_kills_it_and_a_wrong_or_stale_equivalent_is_reported(tmp_path, capsys):
    times = demo_key(STRONG, "arithmetic", "sum(values) * count")
    stale = "mean_of:constant:0123abcd"
    root = demo_root(tmp_path / "strong", STRONG, f"{times}  wrongly believed equivalent\n{stale}  gone\n")
    report, out = run_command(root, capsys, "--operators", "arithmetic", "--exercise", "mean_of")
    (exercise,) = report.exercises
    assert [(v.mutant.key, v.status, v.killed_by) for v in exercise.verdicts] == [(times, "killed", "mean_of_test")]
    assert exercise.score() == 1.0 and report.stale_equivalents == [stale]
    assert "| **demo** | 1 / 1 | **1.00** | 0 | 0 | 0 | |" in out
    assert "Listed as equivalent but killed" in out and f"{times}  line 10 (arithmetic): killed by mean_of_test" in out
    assert f"stale): {stale}" in out


def test_the_command_names_what_does_not_exist(tmp_path):
    root = demo_root(tmp_path / "names", WEAK)
    with pytest.raises(SystemExit, match="no assignment 'nowhere'"):
        cli.main(["mutants", "nowhere", "--root", str(root)])
    with pytest.raises(SystemExit, match="unknown operator"):
        cli.main(["mutants", "demo", "--root", str(root), "--operators", "arithmetic,typo"])
    with pytest.raises(ValueError, match="demo has no exercise nothing; its exercises are: mean_of"):
        mutants.mutation_test(root, "demo", exercises=["nothing"])


def test_sampling_is_deterministic_for_a_seed_and_keeps_the_order():
    items = list(range(40))
    first = mutants.sample(items, 7, seed=3, label="nb:ex")
    assert first == mutants.sample(items, 7, seed=3, label="nb:ex") == sorted(first) and len(first) == 7
    assert first != mutants.sample(items, 7, seed=4, label="nb:ex")
    assert mutants.sample(items, None, 0, "x") == items and mutants.sample(items, 50, 0, "x") == items


def test_the_equivalents_file_is_reviewed_text_that_fails_closed(tmp_path):
    path = tmp_path / mutants.EQUIVALENTS_FILE
    assert mutants.read_equivalents(path) == {}
    path.write_text("# comment\n\nf:constant:0123abcd  the seed does not matter\n")
    assert mutants.read_equivalents(path) == {"f:constant:0123abcd": "the seed does not matter"}
    for text, error in [("f:constant:0123abcd\n", "has no reason"), ("f:typo:0123abcd  why\n", "not a mutant key"),
                        ("f:delete:0123abcd  a\nf:delete:0123abcd  b\n", "listed twice")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=error):
            mutants.read_equivalents(path)


def test_whole_runs_give_the_same_verdicts_as_reduced_runs(tmp_path, capsys):
    """--whole: every mutant through the whole notebook, no early stop (the slow reference for the shortcut)."""
    times = demo_key(WEAK, "arithmetic", "sum(values) * count")
    report, out = run_command(demo_root(tmp_path / "whole", WEAK), capsys, "--operators", "arithmetic", "--whole")
    (exercise,) = report.exercises
    assert [(v.mutant.key, v.status) for v in exercise.verdicts] == [(times, "survived")]
    assert exercise.left_out == [] and "slow_plot" in exercise.planned and "each through the whole notebook" in out
