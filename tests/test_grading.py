"""Grading (dlcourse/instructor/grading.py and the layers below it), through the real command line
``./course grade`` (``cli.main``), on a small, fast demo assignment in a temporary course; and the
freshness of the committed sample results (autograded/, grades/samples/) of the real practicals.

The demo course is built here (``make_demo_root``) and reused by tests/test_feedback.py.
"""

import atexit
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import cli, grading, lessons, samples, tables
from dlcourse.instructor.config import ROOT, assignments_present
from dlcourse.instructor.inspection import inspect_submission
from dlcourse.instructor.notebooks import run_nbgrader
from dlcourse.instructor.records import (all_records, is_up_to_date, read_record, source_hashes,
                                         submission_hashes)
from harness import tree_digest

DEMO = "demo"
DEMO_LESSON = '''# %% [markdown]
# # A demo assignment
# %% locked id=setup
from dlcourse.checks import assert_close
# %% solution id=add
def add(a, b):
    """Inputs: - a, b: numbers. Returns: - their sum."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION
# %% tests id=add_test points=2
# Checks: add on small numbers
assert_close(add(1, 2), 3, "add(1, 2)")
### BEGIN HIDDEN TESTS
hidden_secret_token_42 = add(10, -4)
assert_close(hidden_secret_token_42, 6, "add(10, -4)")
### END HIDDEN TESTS
# %% solution id=mul
def mul(a, b):
    """Inputs: - a, b: numbers. Returns: - their product."""
    ### BEGIN SOLUTION
    return a * b
    ### END SOLUTION
# %% tests id=mul_test points=3
# Checks: mul on small numbers
assert_close(mul(2, 3), 6, "mul(2, 3)")
### BEGIN HIDDEN TESTS
assert_close(mul(-1.5, 4), -6.0, "mul(-1.5, 4)")
### END HIDDEN TESTS
# %% [markdown] answer id=q_explain points=1
# **Question.** Why?
#
# ### BEGIN SOLUTION
# Because.
# ### END SOLUTION
'''
CORRECT = {"add": "def add(a, b):\n    return sum([a, b])", "mul": "def mul(a, b):\n    return b * a",
           "q_explain": "Because addition is what was asked."}
PARTIAL = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a + b"}


_PRISTINE = {}


def grade(root, submitted, *options):
    """``./course grade <submitted>`` on the course at ``root`` (the real command line, in this process).

    Returns:
    - the records of the submissions graded by this run.
    """
    return cli.main(["grade", str(submitted), "--root", str(root), "--no-progress", *map(str, options)])


def make_demo_root(folder):
    """A course root with the demo assignment in source/ and release/ (its own gradebook).

    nbgrader runs once per test process; later roots are copies of the first, made before any grading.
    """
    root = Path(folder)
    if "root" not in _PRISTINE:
        pristine = Path(tempfile.mkdtemp(prefix="demo-pristine-")) / "course"
        (pristine / "source" / DEMO).mkdir(parents=True)
        (pristine / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
        nbformat.write(lessons.build_notebook(DEMO_LESSON, "demo"), pristine / "source" / DEMO / "demo.ipynb")
        run_nbgrader(["generate_assignment", DEMO, "--force"], cwd=pristine)
        _PRISTINE["root"] = pristine
        atexit.register(shutil.rmtree, pristine.parent, True)
    shutil.copytree(_PRISTINE["root"], root)
    return root


def _release(root):
    return nbformat.read(Path(root) / "release" / DEMO / "demo.ipynb", as_version=4)


def _with(notebook, replacements):
    for cell in notebook.cells:
        if cell.get("id") in replacements:
            cell.source = replacements[cell.id]
    return notebook


def _write(submitted, student, notebook=None, name="demo.ipynb", text=None):
    folder = Path(submitted) / student / DEMO
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / name).write_text(text)
    else:
        nbformat.write(notebook, folder / name)


def make_demo_submissions(root, submitted, which=None):
    """Write demo submissions (nbgrader layout) under ``submitted``; ``which`` restricts the students."""
    def correct():
        return _with(_release(root), CORRECT)

    def build(student):
        if student == "correct":
            _write(submitted, student, correct())
        elif student == "untouched":
            _write(submitted, student, _release(root))
        elif student == "partial":
            _write(submitted, student, _with(_release(root), PARTIAL))
        elif student == "badjson":
            _write(submitted, student, text='{"cells": [ this is not json')
        elif student == "renamed":
            _write(submitted, student, correct(), name="demo (1).ipynb")
        elif student == "deleted":
            notebook = correct()
            notebook.cells = [c for c in notebook.cells if c.get("id") != "mul_test"]
            _write(submitted, student, notebook)
        elif student == "retyped":
            notebook = correct()
            for index, cell in enumerate(notebook.cells):
                if cell.get("id") == "add_test":
                    retyped = nbformat.v4.new_markdown_cell(cell.source)
                    retyped.metadata = cell.metadata
                    retyped.id = cell.id
                    notebook.cells[index] = retyped
            _write(submitted, student, notebook)
        elif student == "duplicated":
            notebook = correct()
            index = [c.get("id") for c in notebook.cells].index("mul")
            notebook.cells.insert(index, nbformat.from_dict(json.loads(json.dumps(notebook.cells[index]))))
            folder = Path(submitted) / student / DEMO
            folder.mkdir(parents=True, exist_ok=True)
            # nbformat.write refuses duplicated ids: write the JSON ourselves, as a broken editor would
            (folder / "demo.ipynb").write_text(json.dumps(notebook))
        elif student == "dead":  # a correct add, then the kernel dies in mul: add's points are kept
            _write(submitted, student, _with(correct(), {"mul": "import os\nos._exit(1)"}))
        elif student == "loop":
            code = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                    "while True:\n    time.sleep(0.05)")
            _write(submitted, student, _with(correct(), {"mul": code}))
        elif student == "memory":
            code = "blob = []\nwhile True:\n    blob.append(bytearray(64 * 2**20))"
            _write(submitted, student, _with(correct(), {"mul": code}))
        else:
            raise KeyError(student)

    for student in which or STUDENTS:
        build(student)
    return Path(submitted)


STUDENTS = ["correct", "untouched", "partial", "badjson", "renamed", "deleted", "retyped", "duplicated",
            "dead", "loop", "memory"]


def leftover_processes(marker):
    """Processes of a sandbox (their private uids) still alive that belong to this test's run: their command
    line or environment names ``marker`` (the run's temporary folder, which holds every kernel's scratch
    folder and is each kernel's HOME). Sandboxes of tests running alongside (pytest-xdist) are not counted."""
    from dlcourse.instructor.sandbox import UID_BASE, UID_SLOTS

    found, marker = [], str(marker).encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
                uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
                if not UID_BASE <= uid < UID_BASE + UID_SLOTS:
                    continue
                named = Path(f"/proc/{entry}/cmdline").read_bytes() + Path(f"/proc/{entry}/environ").read_bytes()
            except (OSError, StopIteration):
                continue
            if marker in named:
                found.append(int(entry))
    return found


@pytest.fixture
def run_folder(monkeypatch):
    """The temporary folder of the grading runs of one test (tempfile's default for this process); short, as
    an instructor's would be: the kernels' ipc sockets live under it."""
    folder = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo-course")
    root = make_demo_root(base / "course")
    submitted = make_demo_submissions(root, base / "submitted")
    return root, submitted


def test_inspection_names_each_defect(demo):
    root, submitted = demo
    source = root / "source" / DEMO
    expected = {
        "correct": [], "untouched": [], "partial": [],
        "badjson": ["not valid JSON"],
        "renamed": ["missing notebook", "demo (1).ipynb (renamed?)", "unexpected notebook"],
        "deleted": ["deleted test cells mul_test"],
        "retyped": ["add_test (code -> markdown)"],
        "duplicated": ["duplicated cells mul"],
    }
    for student, fragments in expected.items():
        notebooks, problems = inspect_submission(submitted / student / DEMO, source)
        text = " | ".join(problems)
        assert bool(problems) == bool(fragments), f"{student}: {problems}"
        for fragment in fragments:
            assert fragment in text, f"{student}: {fragment!r} not in {problems}"
        if student == "duplicated":  # ids renumbered so that nbformat and nbgrader accept it
            nbformat.validate(notebooks["demo.ipynb"])


@pytest.mark.slow
def test_parallel_grading_survives_broken_submissions_and_resumes(demo, tmp_path, run_folder):
    root, submitted = demo
    before = tree_digest(submitted)
    start = time.perf_counter()
    records = grade(root, submitted, "--workers", 2, "--time-limit", 120, "--cell-timeout", 10,
                    "--memory-limit-gb", 2)
    elapsed = time.perf_counter() - start
    assert tree_digest(submitted) == before, "grading modified the submitted folder"
    assert not leftover_processes(run_folder), "a process of a graded submission survived it"
    by = {r["student"]: r for r in records}
    assert sorted(by) == sorted(STUDENTS)
    scores = {student: (r["score"], r["max_score"]) for student, r in by.items()}
    # dead, loop and memory answer add correctly, then break in mul: add's 2 points are kept
    expected = {"correct": 5, "untouched": 0, "partial": 2, "badjson": 0, "renamed": 0, "deleted": 5,
                "retyped": 5, "duplicated": 5, "dead": 2, "loop": 2, "memory": 2}
    assert scores == {s: (float(v), 5.0) for s, v in expected.items()}, scores
    for student in ("correct", "untouched", "partial", "deleted", "retyped", "duplicated", "dead", "loop", "memory"):
        assert by[student]["status"] == "graded", (student, by[student]["reason"])
    assert "the kernel died in cell `mul`" in by["dead"]["reason"], by["dead"]["reason"]
    assert "cell `mul` ran past its time limit of 10 s and ignored the interrupt" in by["loop"]["reason"]
    assert "out of memory (limit 2 GB) in cell `mul`" in by["memory"]["reason"], by["memory"]["reason"]
    assert by["dead"]["notebooks"]["demo.ipynb"]["mul_test"]["message"].startswith("not run: ")
    assert any("not valid JSON" in p for p in by["badjson"]["problems"])
    assert any("missing notebook" in p for p in by["renamed"]["problems"])
    # the loop is stopped at the cell timeout (plus the interrupt's grace), not at the submission's limit
    assert by["loop"]["seconds"] < 60 and elapsed < 400, (by["loop"]["seconds"], elapsed)
    # every record is on disk with its input hashes, and each submission has feedback
    for student in STUDENTS:
        record = read_record(root, student, DEMO)
        assert record["submission_sha256"] == submission_hashes(
            submitted / student / DEMO, ["demo.ipynb"])
        assert (root / "feedback" / student / DEMO / "demo.html").is_file()
    # the single writer merged every result into the course gradebook
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            submission = gradebook.find_submission(DEMO, student)
            assert submission.code_score == by[student]["score"], student
            assert submission.needs_manual_grade, f"{student}: its written answer is pending, not graded"
    # grades tables
    written = tables.write_grades(root, tmp_path / "grades")
    rows = list(csv.DictReader(open(tmp_path / "grades" / f"{DEMO}.csv")))
    assert {row["student"]: float(row["autograded"]) for row in rows} == {s: float(v) for s, v in expected.items()}
    assert {row["student"]: row["pending_points"] for row in rows}["correct"] == "1"
    assert {row["student"]: row["complete"] for row in rows}["correct"] == "no", "a pending answer: not complete"
    overall = list(csv.DictReader(open(tmp_path / "grades" / "overall.csv")))
    assert {row["student"]: row["total"] for row in overall}["partial"] == "2"
    assert len(written) == 2
    # resumption: nothing is redone, unless a submission changed or --force
    assert grade(root, submitted, "--workers", 2) == []
    make_demo_submissions(root, submitted, ["untouched"])  # rewritten: same content, same hash
    partial = submitted / "partial" / DEMO / "demo.ipynb"
    notebook = _with(_release(root), CORRECT)
    nbformat.write(notebook, partial)
    redone = grade(root, submitted, "--workers", 2)
    assert [(r["student"], r["score"]) for r in redone] == [("partial", 5.0)]
    assert (root / "grades" / f"{DEMO}.csv").is_file(), "./course grade writes the grades tables too"


@pytest.mark.slow
def test_workers_grade_after_the_process_used_a_blocking_jupyter_call(tmp_path):
    """``./course build`` executes the solutions (nbclient, in the main thread) before it grades the samples:
    the local cluster's worker threads must not inherit that thread's event loop (two of them running one
    loop failed with "This event loop is already running"). Here that loop is kept running on a thread of
    its own, so that any worker that used it would fail at once."""
    import threading

    from jupyter_core.utils import ensure_event_loop

    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial", "untouched"])
    loop = ensure_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        records = grading.grade_folder(submitted, root=root, workers=2, progress=False, log=lambda line: None)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=10)
    assert {r["student"]: (r["status"], r["score"]) for r in records} == {
        "correct": ("graded", 5.0), "partial": ("graded", 2.0), "untouched": ("graded", 0.0)}, \
        [(r["student"], r["reason"]) for r in records]


def test_the_local_clusters_workers_run_no_profiler_and_a_slow_system_monitor():
    """The local cluster's workers are threads of the grading process, so Dask's statistical profiler, system
    monitor and event-loop tick run on the grader's CPU: profiler off, the others slowed; the settings end with
    the cluster."""
    import dask.distributed  # noqa: F401 - registers distributed's defaults in dask.config

    def periodic_callbacks(dask_worker=None, dask_scheduler=None):
        server = dask_worker or dask_scheduler
        callbacks = server.periodic_callbacks
        return sorted(callbacks), callbacks["monitor"].callback_time, callbacks["tick"].callback_time

    before = dask.config.get("distributed.worker.profile.enabled")
    with grading.dask_client(2, None) as client:
        on_workers = client.run(periodic_callbacks)
        on_scheduler = client.run_on_scheduler(periodic_callbacks)
    assert len(on_workers) == 2, f"expected 2 local workers, got {sorted(on_workers)}"
    for address, (names, monitor_ms, tick_ms) in {**on_workers, "the scheduler": on_scheduler}.items():
        assert not {"profile", "profile-cycle"} & set(names), f"{address} still runs the profiler: {names}"
        assert monitor_ms >= 5000, f"{address} samples its system monitor every {monitor_ms} ms, not >= 5 s"
        assert tick_ms >= 1000, f"{address} ticks its event loop every {tick_ms} ms, not >= 1 s"
    assert dask.config.get("distributed.worker.profile.enabled") == before, \
        "dask_client left its LocalCluster settings in this process's Dask config"


def test_lane_plan_warms_exactly_the_kernels_its_lanes_use():
    plan = grading.LanePlan(["j0", "j1", "j2", "j3", "j4"], ["A", "B"])
    assert plan.first() == [("A", "j0", "j2"), ("B", "j1", "j3")]
    assert plan.next_for("A") == ("j2", "j4"), "a lane runs the job it warmed, and reserves the next one"
    assert plan.next_for("B") == ("j3", None), "no kernel is warmed after the last job"
    assert plan.next_for("A") == ("j4", None)
    assert plan.next_for("B") == (None, None) and plan.next_for("A") == (None, None)


def test_lane_plan_gives_a_free_lane_a_busy_lanes_reservation():
    plan = grading.LanePlan(["j0", "j1", "j2"], ["A", "B"])
    assert plan.first() == [("A", "j0", "j2"), ("B", "j1", None)]
    assert plan.next_for("B") == ("j2", None), "a free lane waited for a busy lane's reserved job"
    assert plan.next_for("A") == (None, None)


def test_lane_plan_runs_every_job_once_in_any_order_of_completion():
    import random

    for seed in range(50):
        rng = random.Random(seed)
        jobs, lanes = [f"j{i}" for i in range(rng.randint(1, 12))], [f"L{i}" for i in range(rng.randint(1, 4))]
        plan = grading.LanePlan(jobs, lanes)
        running = {lane: job for lane, job, _ in plan.first()}
        ran = list(running.values())
        while running:
            lane = rng.choice(sorted(running))
            del running[lane]
            job, _ = plan.next_for(lane)
            if job is not None:
                running[lane] = job
                ran.append(job)
        assert sorted(ran) == sorted(jobs), f"seed {seed}: ran {ran} of {jobs}"


def grade_task_failing_for_partial(payload):
    """The worker's task, raising inside the grader itself for the student "partial"."""
    from dlcourse.instructor.worker import grade_task

    if payload["student"] == "partial":
        raise RuntimeError("the grader broke (a test's stand-in)")
    return grade_task(payload)


@pytest.mark.slow
def test_an_internal_error_costs_only_its_submission(tmp_path, monkeypatch, run_folder):
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial"])
    monkeypatch.setattr(grading, "grade_task", grade_task_failing_for_partial)
    records = grading.grade_folder(submitted, root=root, workers=2, progress=False, log=lambda line: None)
    by = {r["student"]: r for r in records}
    assert by["correct"]["status"] == "graded" and by["correct"]["score"] == 5.0, by["correct"]
    assert by["partial"]["status"] == "failed", by["partial"]
    assert by["partial"]["reason"] == "internal error while grading: RuntimeError: the grader broke (a test's stand-in)"
    assert by["partial"]["flags"] == [] and by["partial"]["problems"] == [], by["partial"]
    assert "NOT GRADED: internal error while grading" in grading._result_line(grading.find_jobs(submitted, root)[1],
                                                                           by["partial"])
    assert (root / "feedback" / "partial" / DEMO / "demo.html").is_file(), "no feedback page for the failed one"
    assert not is_up_to_date(grading.find_jobs(submitted, root)[1], root), "a failed grading must be retried"
    assert not leftover_processes(run_folder), "a kernel of the run survived it"


@pytest.mark.slow
def test_interrupted_run_resumes_without_regrading(tmp_path):
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial", "untouched"])
    command = [sys.executable, "-m", "dlcourse.instructor.cli", "grade", str(submitted), "--root", str(root),
               "--workers", "1", "--no-progress"]
    # a short temporary folder, as an instructor's would be (the kernels' ipc sockets live under it)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-"))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=ROOT, env=dict(os.environ, TMPDIR=str(scratch)))
    deadline = time.time() + 300
    while time.time() < deadline and not all_records(root):
        time.sleep(0.2)
    first = all_records(root)
    assert len(first) == 1, "no submission was graded within 300 s"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0, output
    time.sleep(0.5)
    assert not leftover_processes(scratch), "an interrupted run left a kernel running"
    left = [p.name for p in scratch.iterdir() if p.name.startswith("dlcourse-")]
    shutil.rmtree(scratch, ignore_errors=True)
    assert not left, f"an interrupted run left its grading folders behind: {left}"
    done = {(r["student"], r["graded_at"]) for r in first}
    graded_before = {r["student"] for r in all_records(root)}
    assert len(graded_before) < 3, output
    records = grade(root, submitted, "--workers", 2)
    assert sorted(r["student"] for r in records) == sorted({"correct", "partial", "untouched"} - graded_before)
    after = {(r["student"], r["graded_at"]) for r in all_records(root)}
    assert done <= after, "a submission graded before the interruption was graded again"
    assert {r["student"]: r["score"] for r in all_records(root)} == {
        "correct": 5.0, "partial": 2.0, "untouched": 0.0}


# ----------------------------------------------------------------------------------------------
# The committed sample results of the real practicals (generated by ./course build)
# ----------------------------------------------------------------------------------------------

SAMPLE_STUDENTS = {"sample-correct": "full", "sample-untouched": "zero", "sample-partial": "between"}


def _practicals_with_samples():
    return [a for a in assignments_present(ROOT)
            if (ROOT / "samples" / a / "alternative.py").is_file() and (ROOT / "samples" / a / "partial.py").is_file()]


@pytest.mark.parametrize("assignment", _practicals_with_samples() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no practical has samples/<a>/alternative.py and partial.py yet"))])
def test_committed_sample_results_are_fresh_and_score_as_expected(assignment):
    expected = samples.sample_notebooks(ROOT, assignment)  # rebuilt from release/ + replacements, in memory
    for student, kind in SAMPLE_STUDENTS.items():
        folder = ROOT / samples.SUBMITTED / student / assignment
        for name, notebook in expected[student].items():
            assert (folder / name).read_text(encoding="utf-8") == samples.notebook_text(notebook), (
                f"{folder / name} is stale: run ./course samples (or ./course build)")
        record = read_record(ROOT, student, assignment)
        assert record is not None, f"no grading record for {student}/{assignment}: run ./course build"
        assert record["source_sha256"] == source_hashes(ROOT, assignment), (
            f"autograded/{student}/{assignment} was graded against another source: run ./course build")
        assert record["submission_sha256"] == submission_hashes(folder, sorted(expected[student])), (
            f"autograded/{student}/{assignment} was graded from another submission: run ./course build")
        assert record["status"] == "graded", record["reason"]
        score, maximum = record["score"], record["max_score"]
        assert maximum > 0
        if kind == "full":
            assert score == maximum, f"{student}/{assignment}: {score}/{maximum}: {record['notebooks']}"
        elif kind == "zero":
            assert score == 0, f"{student}/{assignment}: {score}/{maximum}"
        else:
            assert 0 < score < maximum, f"{student}/{assignment}: {score}/{maximum}"
        for name in expected[student]:
            assert (ROOT / "autograded" / student / assignment / name).is_file()
            assert (ROOT / "feedback" / student / assignment / (Path(name).stem + ".html")).is_file()
    rows = list(csv.DictReader(open(ROOT / "grades" / "samples" / f"{assignment}.csv", encoding="utf-8")))
    table = {row["student"]: float(row["autograded"]) for row in rows}
    for student in SAMPLE_STUDENTS:
        assert table[student] == read_record(ROOT, student, assignment)["score"]


def test_grading_refuses_without_a_sandbox_and_says_how_to_fix_it(tmp_path, monkeypatch, capsys):
    from dlcourse.instructor import grading

    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct"])
    monkeypatch.setattr(grading, "sandbox_problem", lambda: "bwrap not found: apt-get install bubblewrap")
    with pytest.raises(SystemExit) as exit_info:
        grade(root, submitted)
    assert exit_info.value.code == 2
    output = capsys.readouterr().out
    assert "grading refused" in output and "apt-get install bubblewrap" in output and "--no-sandbox" in output
    assert read_record(root, "correct", DEMO) is None, "nothing is graded when grading is refused"


@pytest.mark.slow
def test_no_sandbox_grades_after_one_loud_warning(tmp_path, capsys):
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial"])
    records = grade(root, submitted, "--no-sandbox", "--workers", 1)
    assert sorted((r["student"], r["score"]) for r in records) == [("correct", 5.0), ("partial", 2.0)]
    assert capsys.readouterr().out.count("WITHOUT the sandbox") == 1, "the warning is printed once per run"
