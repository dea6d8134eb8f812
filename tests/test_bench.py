"""dlcourse/instructor/bench.py: the machine's CPU counter, a real kernel's start-up CPU, and the report's
table and goals (the timings themselves are measured by ``./course bench``; its figures are in the README)."""

import os
import sys
import time

from dlcourse.instructor.bench import machine_cpu_seconds, report


def test_machine_cpu_seconds_counts_a_busy_loop():
    before = machine_cpu_seconds()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    spent = machine_cpu_seconds() - before
    assert spent >= 0.25, f"0.3 s of busy loop counted as {spent:.2f} CPU-s"


FIGURES = {"floor": 4.0, "stock": 50.0, "grade_1": 40.0, "grade_2": 25.0, "bare_a": 10.0, "bare_b": 30.0,
           "five_1": 50.0, "five_2": 35.0,
           "cpu": {"floor": 4.0, "stock": 52.0, "grade_1": 60.0, "grade_2": 48.0, "bare_a": 9.0, "bare_b": 31.0}}


def test_report_gives_each_goal_its_measured_ratio_and_verdict():
    lines = report(FIGURES, students=10)
    goals = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.count("|") == 5 and
             ("<=" in line or ">=" in line)}
    assert "| 0.50 | <= 0.55 | yes |" in goals["10 x practical 1, 2 workers / stock serial"]
    assert "| 1.60 | >= 1.85 | NO |" in goals["2 workers faster than 1 (speed-up)"]
    # 40 s / 10 submissions = 4 s against 1.1 x 4 s + 0.3 s = 4.7 s
    assert "| 0.85 | <= 1 | yes |" in goals["per-submission cost / (1.1 x floor + 0.3 s)"]
    # 35 s against max(30 s, 40 s / 2) = 30 s
    assert "| 1.17 | <= 1.2 | yes |" in goals["five practicals, 2 workers / max(longest, sum / 2)"]


def test_report_shows_the_cpu_and_the_bound_it_puts_on_more_workers():
    lines = report(FIGURES, students=10)
    assert any(line.startswith("| the same 10, `./course grade --workers 1 --force` | 40.0 | 60.0 | 1.50 |")
               for line in lines), lines
    bound = [line for line in lines if line.startswith("With 1 worker")]
    assert bound and "kept 1.50 of this machine's" in bound[0] and "at most" in bound[0], bound


def test_writer_seconds_rewrites_the_records_of_a_graded_course(tmp_path):
    from dlcourse.instructor.bench import writer_seconds

    assert writer_seconds(tmp_path) == (0.0, 0.0), "a course without records costs the writer nothing"


def test_report_says_what_share_of_a_submission_its_kernel_start_costs():
    figures = dict(FIGURES, kernel_cpu=1.5, kernel_cpu_exec=2.0, kernel_cpu_bare=0.3)
    lines = report(figures, students=10)
    assert any("| 1.50 / 2.00; 0.30 |" in line for line in lines), lines
    share = [line for line in lines if line.startswith("Each submission")]
    # grade_1 spent 60 CPU-s on 10 submissions: 6 CPU-s each, 1.5 of them the kernel's start (25%)
    assert share and "cost 6.00 CPU-s, of which 1.50 (25%)" in share[0], share
    assert "0.50 CPU-s more" in share[0], share


def test_kernel_start_cpu_counts_the_imports_of_a_real_sandboxed_kernel(short_folder):
    from dlcourse.instructor.bench import kernel_start_cpu_seconds

    libraries = ["numpy", "matplotlib.pyplot"]
    bare = kernel_start_cpu_seconds([], short_folder, forked=False, starts=1)
    with_numpy = kernel_start_cpu_seconds(libraries, short_folder, forked=False, starts=1)
    forked = kernel_start_cpu_seconds(libraries, short_folder, forked=True, starts=2)
    assert 0.05 < bare < 5, f"a bare grading kernel's start counted as {bare:.2f} CPU-s"
    assert with_numpy > bare + 0.05, (f"importing numpy and matplotlib counted as {with_numpy:.2f} CPU-s against "
                                      f"{bare:.2f} for nothing: the kernel's own CPU is not what is read")
    assert 0.0 < forked < with_numpy - 0.05, (
        f"a kernel forked with numpy and matplotlib imported cost {forked:.2f} CPU-s, one started by exec "
        f"{with_numpy:.2f}: the fork server saves nothing, or the forked kernel's CPU is not what is read")
    assert list(short_folder.iterdir()) == [], "the kernels' scratch folders must be removed"


def test_report_gives_a_tensorflow_kernels_start_forked_and_by_exec():
    lines = report(dict(FIGURES, kernel_cpu=1.5, kernel_cpu_exec=2.0, kernel_cpu_bare=0.3, kernel_cpu_tf=0.2,
                        kernel_cpu_tf_exec=5.5), students=10)
    assert any(line.startswith("| the same for practical 3's libraries") and "| 0.20 / 5.50 |" in line
               for line in lines), lines


def test_the_kernel_start_row_is_in_the_table_of_work_not_in_the_goals():
    lines = report(dict(FIGURES, kernel_cpu=1.5, kernel_cpu_exec=2.0, kernel_cpu_bare=0.3), students=10)
    row = next(i for i, line in enumerate(lines) if "grading kernel's start" in line)
    goals = next(i for i, line in enumerate(lines) if line.startswith("| goal |"))
    assert row < goals, lines


def test_the_five_practicals_with_every_pool_at_all_cores_are_a_row_beside_the_default():
    row = [line for line in report({**FIGURES, "five_2_all_cores": 42.0}, students=10) if "--kernel-threads" in line]
    assert len(row) == 1 and "| 42.0 |" in row[0], f"the all-cores five-practical run is not in the table: {row}"
    assert not [line for line in report(FIGURES, students=10) if "--kernel-threads" in line], \
        "a row for a run that was not measured"


def test_calibration_seconds_is_each_copys_own_time_at_once(monkeypatch):
    from dlcourse.instructor import bench

    # a "loop" that sleeps 0.5 s: copies started at once overlap, so each still takes 0.5 s, and the children's
    # interpreter start-up is not counted
    monkeypatch.setattr(bench, "CALIBRATION_LOOP",
                        "import time\nstart = time.perf_counter()\ntime.sleep(0.5)\nprint(time.perf_counter() - start)")
    started = time.perf_counter()
    each = bench.calibration_seconds(copies=4, repeats=1)
    assert 0.49 < each < 0.8, f"four sleeping copies measured as {each:.2f} s each, not their own 0.5 s"
    assert time.perf_counter() - started < 1.6, "the copies ran one after the other (4 x 0.5 s), not at once"


def test_report_gives_the_machines_drift_and_what_its_cores_do_together(monkeypatch):
    from dlcourse.instructor import bench

    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    lines = report(dict(FIGURES, loop_start=1.0, loop_end=1.1, loop_together=1.25), students=10)
    assert any(line.startswith("| this machine's speed") and "| 1.00 / 1.10; 1.25 |" in line for line in lines), lines
    # two copies each 1.25 x slower than one alone: 2 / 1.25 = 1.6 cores' worth of work
    together = [line for line in lines if line.startswith("One copy of the loop per core")]
    assert together and "ran at 80% of" in together[0] and "do 1.60 x one core's work" in together[0], together
    drift = [line for line in lines if line.startswith("The loop alone took")]
    assert drift and "1.10 x as long" in drift[0], drift


def test_report_says_where_the_machine_waited():
    figures = dict(FIGURES, iowait={"stock": 1.0, "grade_1": 4.0}, steal={"stock": 0.5, "grade_1": 0.0})
    waited = [line for line in report(figures, students=10) if line.startswith("While the timed steps ran")]
    assert waited and "waited 5.0 s on I/O" in waited[0] and "lost 0.5 s" in waited[0], waited
    assert waited[0].endswith("most in: grade_1."), waited


def test_report_sets_the_five_practicals_against_their_notebooks_with_the_hidden_tests_in():
    lines = report(dict(FIGURES, hidden_a=14.0, hidden_b=40.0, cpu={**FIGURES["cpu"], "hidden_a": 13.0,
                                                                     "hidden_b": 41.0}), students=10)
    row = [line for line in lines if line.startswith("| the same five with their hidden tests in")]
    assert row and "| 54.0 / 40.0 | 54.0 |" in row[0], row
    # 35 s against max(40 s, 54 s / 2) = 40 s with the hidden tests, against 30 s without them (the goal)
    sentence = [line for line in lines if line.startswith("With their hidden tests in")]
    assert sentence and "2 workers took 0.88 x" in sentence[0] and "(the goal's bound, 30.0 s) 1.17 x" in sentence[0], \
        sentence
    assert not [line for line in report(FIGURES, students=10) if "hidden tests in" in line], \
        "a row for notebooks that were not executed"


def test_bare_seconds_with_hidden_tests_executes_the_source_notebook_not_the_students(monkeypatch, tmp_path):
    from dlcourse.instructor import bench

    executed = []
    monkeypatch.setattr(bench, "execute_notebook", lambda notebook, cwd, allow_errors: executed.append(notebook))
    bench.bare_seconds(bench.FIRST, tmp_path)
    bench.bare_seconds(bench.FIRST, tmp_path, hidden_tests=True)
    hidden = ["### BEGIN HIDDEN TESTS" in cell.source for cell in executed[1].cells]
    assert any(hidden), "the notebook executed with hidden_tests=True has no hidden tests"
    assert not any("### BEGIN HIDDEN TESTS" in cell.source for cell in executed[0].cells), \
        "the student's correct sample should not hold the hidden tests"


def test_report_gives_the_grading_process_own_cpu_beside_the_machines():
    figures = dict(FIGURES, hidden_a=14.0, hidden_b=40.0, grader_cpu={"five_2": 6.1},
                   cpu={**FIGURES["cpu"], "five_2": 70.0, "hidden_a": 13.0, "hidden_b": 41.0})
    lines = report(figures, students=10)
    row = [line for line in lines if line.startswith("| the same, `--workers 2` |")]
    assert row and "| 70.0 (6.1 the grading process's own) | 2.00 |" in row[0], row
    # 70 CPU-s against 13 + 41 = 54 CPU-s for the notebooks with their hidden tests in
    sentence = [line for line in lines if line.startswith("The 2-worker run spent")]
    assert sentence and "70.0 CPU-s, 16.0 more than those notebooks" in sentence[0] and \
        "spent 6.1 CPU-s." in sentence[0], sentence


def test_course_grade_seconds_counts_the_grading_process_own_cpu_not_its_childrens(monkeypatch, tmp_path):
    """A stand-in for `cli grade` that busies itself for 0.6 CPU-s and has a child busy for 1.5 CPU-s."""
    from dlcourse.instructor import bench

    script = tmp_path / "busy.py"
    script.write_text("import subprocess, sys, time\n"
                      "child = subprocess.Popen([sys.executable, '-c', 'import time\\nend = time.process_time() + 1.5\\n"
                      "while time.process_time() < end: pass'])\n"
                      "end = time.process_time() + 0.6\n"
                      "while time.process_time() < end: pass\n"
                      "child.wait()\n")
    monkeypatch.setattr(bench, "tool_environment", lambda: dict(os.environ))
    real_popen = bench.subprocess.Popen
    monkeypatch.setattr(bench.subprocess, "Popen", lambda command, **kw: real_popen([sys.executable, str(script)], **kw))
    seconds, own = bench.course_grade_seconds(tmp_path, tmp_path, 2)
    assert 0.45 <= own <= 1.0, f"the process's own CPU read as {own:.2f} CPU-s, not about 0.6 (its child's 1.5 apart)"
    assert seconds >= 1.0, f"timed {seconds:.2f} s, but the child alone runs 1.5 CPU-s"


def test_course_grade_seconds_says_what_the_failed_run_printed(monkeypatch, tmp_path):
    from dlcourse.instructor import bench

    real_popen = bench.subprocess.Popen
    monkeypatch.setattr(bench.subprocess, "Popen", lambda command, **kw: real_popen(
        [sys.executable, "-c", "import sys; print('no such folder: submitted/'); sys.exit(2)"], **kw))
    try:
        bench.course_grade_seconds(tmp_path, tmp_path, 2)
    except RuntimeError as error:
        assert "no such folder: submitted/" in str(error), error
    else:
        raise AssertionError("a failed grading run was timed as if it had passed")
