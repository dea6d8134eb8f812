"""``./course bench``: grading speed measured side by side, in one run, against the floor and stock nbgrader.

Every figure is a wall time on this machine, with the sandbox on for the course's grading:

1. the floor: practical 1's correct sample executed once by nbclient in the course kernel (kernel start,
   imports and cells, nothing else);
2. the same notebook for N students (default 10) graded by stock ``nbgrader autograde`` (one command, serial);
3. the same N with ``./course grade --workers 1 --force`` and 4. ``--workers 2 --force``;
5. one complete submission of the five practicals (the correct samples) with ``--workers 1`` and 6. ``2``,
   next to the bare execution of each of its five notebooks (their sum and the longest) and of each source
   notebook (the solutions with the hidden tests in: what grading executes for a correct submission, without
   the guard, so the grader's own overhead shows apart from the hidden tests' work), and the same with
   ``--workers 2 --kernel-threads <cores>`` (each kernel's library thread pools at all the machine's cores,
   the libraries' default, against the course's cores / workers);

7. the machine itself: a fixed pure-Python loop timed alone at the start and at the end of the run (its
   speed drifts on a shared virtual machine) and as one copy per core at once (what the cores give
   together: the bound on any speed-up from more workers);
8. the CPU one sandboxed grading kernel of practical 1 spends to start, with the assignment's libraries
   imported and with nothing preloaded (the kernel process's own CPU): the share of a submission's CPU that
   a fork server of pre-imported kernels saves; and the same for practical 3's (TensorFlow and Keras).

It then prints the goals of the grading-speed issue as measured ratios. Each grading run is the real
command line in a child process (``python -m dlcourse.instructor.cli grade``), on a copy of the course.

Next to each wall time it prints the CPU seconds the whole machine spent meanwhile (``/proc/stat``: the
kernels run in sandboxes of their own, outside the measured process's children) and the cores that kept
busy. On a quiet machine that is the run's own cost, and it bounds what more workers can give: a run that
keeps c of the machine's n cores busy with one worker (its next kernel warms on another core) can be at
most n / c times faster with more.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from dlcourse.instructor.config import DEFAULT_LIMITS, ROOT, assignments_present, source_notebooks, tool_environment
from dlcourse.instructor.kernels import GradingKernel
from dlcourse.instructor.nbgrader_course import autograde, make_course
from dlcourse.instructor.notebooks import execute_notebook
from dlcourse.instructor.samples import sample_notebooks
from dlcourse.instructor.submission import first_preload

FIRST = "01_computational_graph"
TENSORFLOW = "03_tensorflow"


def _course_copy(folder, assignments):
    folder = Path(folder)
    for assignment in assignments:
        shutil.copytree(ROOT / "source" / assignment, folder / "source" / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    return folder


def _correct(assignment):
    (name, notebook), = sample_notebooks(ROOT, assignment)["sample-correct"].items()
    return name, notebook


def _write_students(submitted, assignments, count):
    for index in range(count):
        for assignment in assignments:
            name, notebook = _correct(assignment)
            folder = Path(submitted) / f"student-{index:02d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, folder / name)
    return Path(submitted)


def bare_seconds(assignment, workdir, hidden_tests=False):
    """Seconds of one nbclient execution of the assignment's correct sample (kernel start included).

    With ``hidden_tests``, of its source notebook instead: the solutions with the hidden tests in, i.e. the
    cells grading executes for a correct submission (without the guard and the grader around them).
    """
    if hidden_tests:
        (name,) = source_notebooks(ROOT, assignment)
        notebook = nbformat.read(ROOT / "source" / assignment / name, as_version=4)
    else:
        name, notebook = _correct(assignment)
    folder = Path(tempfile.mkdtemp(dir=workdir))
    start = time.perf_counter()
    execute_notebook(notebook, cwd=folder, allow_errors=True)
    return time.perf_counter() - start


def stock_seconds(submitted, workdir, count):
    """Seconds of one stock ``nbgrader autograde`` of ``count`` students of practical 1."""
    course = make_course(Path(workdir) / "stock", [FIRST])
    folders = {f"student-{i:02d}": Path(submitted) / f"student-{i:02d}" / FIRST for i in range(count)}
    start = time.perf_counter()
    scores, result = autograde(course, FIRST, folders)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"stock nbgrader autograde failed:\n{result.stderr[-3000:]}")
    return seconds


def course_grade_seconds(course, submitted, workers, options=()):
    """``./course grade <submitted> --workers N --force [options]`` (a child process, sandbox on), timed.

    Returns (seconds, the grading process's own CPU-s): its user + system time without its kernels' (theirs
    is the machine's CPU less this), read every 0.1 s while it runs, so at most 0.1 s of each core short.
    """
    command = [sys.executable, "-m", "dlcourse.instructor.cli", "grade", str(submitted), "--root", str(course),
               "--workers", str(workers), "--force", "--no-progress", *options]
    start, own_cpu = time.perf_counter(), 0.0
    with tempfile.TemporaryFile("w+") as output:  # a file, not a pipe: nothing here reads while it runs
        process = subprocess.Popen(command, cwd=ROOT, env=tool_environment(), stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            try:
                own_cpu = process_cpu_seconds(process.pid)
            except (OSError, IndexError):  # it ended between poll() and the read
                pass
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        if process.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"./course grade failed:\n{output.read()[-6000:]}")
    return seconds, own_cpu


def process_cpu_seconds(pid):
    """CPU seconds (user + system) process ``pid`` has spent so far (Linux ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kernel_start_cpu_seconds(preload, workdir, forked, starts=3):
    """Median CPU seconds one sandboxed grading kernel spends from its start to ready, guard installed and
    ``preload`` imported (the kernel process's own CPU, not the grader's; a forked kernel's from its fork on);
    the kernel is then stopped. forked: from the fork server (grading's way), else started by exec."""
    spent = []
    for _ in range(starts):
        kernel = GradingKernel(workdir, preload, True, DEFAULT_LIMITS, forked=forked)
        try:
            spent.append(process_cpu_seconds(kernel.manager.kernel_pid()))
        finally:
            kernel.stop()
    return statistics.median(spent)


# A fixed piece of pure-Python work, no library and no I/O: the same instructions on every run, so its seconds
# measure how fast this machine runs at that moment (about 1 s here).
CALIBRATION_LOOP = """
import time
start = time.perf_counter()
x = 0
for i in range(10_000_000):
    x = (x * 31 + i) % 1_000_003
print(time.perf_counter() - start)
"""


def calibration_seconds(copies=1, repeats=3):
    """Median over ``repeats`` of the mean seconds ``copies`` child processes take to run ``CALIBRATION_LOOP``
    when all are started at once (each times its own loop, so interpreter start-up is not counted)."""
    means = []
    for _ in range(repeats):
        children = [subprocess.Popen([sys.executable, "-c", CALIBRATION_LOOP], stdout=subprocess.PIPE, text=True)
                    for _ in range(copies)]
        means.append(statistics.mean(float(child.communicate()[0]) for child in children))
    return statistics.median(means)


def machine_seconds():
    """(CPU, I/O wait, steal) seconds the machine's cores have spent since boot (Linux ``/proc/stat``, one read):
    CPU is user, nice, system, irq and softirq; I/O wait is waiting on the disk; steal is time taken by other
    guests of the host (a virtual machine's cores are not its own)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, _idle, iowait, irq, softirq, steal = (int(f) for f in stat.readline().split()[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, iowait / tick, steal / tick


def machine_cpu_seconds():
    """CPU seconds the whole machine has spent since boot (see ``machine_seconds``)."""
    return machine_seconds()[0]


def writer_seconds(course):
    """Mean seconds the single writer spends per graded submission of ``course``: (gradebook row, feedback
    page), over the records the grading runs left there, written again as the grading run writes them."""
    from dlcourse.instructor.feedback import write_feedback
    from dlcourse.instructor.gradebook import gradebook_url, record_submission
    from dlcourse.instructor.records import all_records

    url, records = gradebook_url(course), all_records(course)
    if not records:
        return 0.0, 0.0
    start = time.perf_counter()
    for record in records:
        record_submission(url, record, record)
    rows = time.perf_counter()
    for record in records:
        write_feedback(course, record["student"], record["assignment"], record, url)
    pages = time.perf_counter()
    return (rows - start) / len(records), (pages - rows) / len(records)


def measure(students=10, five=True, log=print):
    """Measure every figure; returns {name: seconds, ..., "cpu": {name: machine CPU seconds}, "iowait" and
    "steal": {name: seconds}, "grader_cpu": {name: the grading process's own CPU seconds, grading runs only}}
    (and logs each as it comes)."""
    figures = {"cpu": {}, "iowait": {}, "steal": {}, "grader_cpu": {}}
    cores = os.cpu_count() or 1
    figures["loop_start"], figures["loop_together"] = calibration_seconds(1), calibration_seconds(cores)
    log(f"[bench] the calibration loop: {figures['loop_start']:.2f} s alone, {figures['loop_together']:.2f} s each "
        f"as {cores} copies at once")
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-bench-"))
    try:
        submitted = _write_students(workdir / "p1", [FIRST], students)
        course = _course_copy(workdir / "course-p1", [FIRST])
        steps = [("floor", lambda: bare_seconds(FIRST, workdir)),
                 ("stock", lambda: stock_seconds(submitted, workdir, students)),
                 ("grade_1", lambda: course_grade_seconds(course, submitted, 1)),
                 ("grade_2", lambda: course_grade_seconds(course, submitted, 2))]
        if five:
            present = assignments_present(ROOT)
            whole = _write_students(workdir / "five", present, 1)
            five_course = _course_copy(workdir / "course-five", present)
            steps += [(f"bare_{a}", lambda a=a: bare_seconds(a, workdir)) for a in present]
            steps += [(f"hidden_{a}", lambda a=a: bare_seconds(a, workdir, hidden_tests=True)) for a in present]
            steps += [("five_1", lambda: course_grade_seconds(five_course, whole, 1)),
                      ("five_2", lambda: course_grade_seconds(five_course, whole, 2)),
                      # today's default next to the libraries' own: every kernel's pools at all the cores
                      ("five_2_all_cores", lambda: course_grade_seconds(
                          five_course, whole, 2, ["--kernel-threads", str(os.cpu_count() or 1)]))]
        for name, step in steps:
            before = machine_seconds()
            figures[name] = step()
            if isinstance(figures[name], tuple):  # a grading run: (seconds, the grading process's own CPU-s)
                figures[name], figures["grader_cpu"][name] = figures[name]
            for kind, now, then in zip(("cpu", "iowait", "steal"), machine_seconds(), before):
                figures[kind][name] = now - then
            own = f", {figures['grader_cpu'][name]:.1f} the grading process's own" if name in figures["grader_cpu"] else ""
            log(f"[bench] {name}: {figures[name]:.1f} s, {figures['cpu'][name]:.1f} CPU-s on the machine{own} "
                f"({figures['iowait'][name]:.1f} s waiting on I/O, {figures['steal'][name]:.1f} s stolen)")
            if name == "grade_2":
                figures["writer_row"], figures["writer_page"] = writer_seconds(course)
                log(f"[bench] the single writer per submission: gradebook row {figures['writer_row']:.3f} s, "
                    f"feedback page {figures['writer_page']:.3f} s")
        first = first_preload(ROOT, FIRST)
        figures["kernel_cpu"] = kernel_start_cpu_seconds(first, workdir, forked=True)
        figures["kernel_cpu_exec"] = kernel_start_cpu_seconds(first, workdir, forked=False)
        figures["kernel_cpu_bare"] = kernel_start_cpu_seconds([], workdir, forked=False)
        log(f"[bench] a grading kernel's start with practical 1's libraries: {figures['kernel_cpu']:.2f} CPU-s "
            f"forked, {figures['kernel_cpu_exec']:.2f} CPU-s started by exec; "
            f"{figures['kernel_cpu_bare']:.2f} CPU-s by exec with nothing preloaded")
        if TENSORFLOW in assignments_present(ROOT):
            tensorflow = first_preload(ROOT, TENSORFLOW)
            figures["kernel_cpu_tf"] = kernel_start_cpu_seconds(tensorflow, workdir, forked=True)
            figures["kernel_cpu_tf_exec"] = kernel_start_cpu_seconds(tensorflow, workdir, forked=False)
            log(f"[bench] a grading kernel's start with practical 3's libraries (TensorFlow, Keras): "
                f"{figures['kernel_cpu_tf']:.2f} CPU-s forked, {figures['kernel_cpu_tf_exec']:.2f} CPU-s by exec")
        figures["loop_end"] = calibration_seconds(1)
        log(f"[bench] the calibration loop at the end: {figures['loop_end']:.2f} s alone")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def report(figures, students=10):
    """The table and the goals as lines of text."""
    floor, stock, one, two = (figures[k] for k in ("floor", "stock", "grade_1", "grade_2"))
    cpu = figures.get("cpu", {})

    def row(text, name):
        seconds = figures[name]
        if name not in cpu:
            return f"| {text} | {seconds:.1f} | | |"
        own = figures.get("grader_cpu", {}).get(name)
        of_which = "" if own is None else f" ({own:.1f} the grading process's own)"
        return f"| {text} | {seconds:.1f} | {cpu[name]:.1f}{of_which} | {cpu[name] / seconds:.2f} |"

    lines = ["| work | seconds | CPU-s (machine) | cores busy |", "|---|---|---|---|",
             row("practical 1, one correct notebook executed by nbclient (the floor)", "floor"),
             row(f"the same x {students}, stock `nbgrader autograde` (serial)", "stock"),
             row(f"the same {students}, `./course grade --workers 1 --force`", "grade_1"),
             row(f"the same {students}, `./course grade --workers 2 --force`", "grade_2")]
    if "writer_row" in figures:
        lines.append(f"| the single writer, per submission of that batch: gradebook row / feedback page | "
                     f"{figures['writer_row']:.3f} / {figures['writer_page']:.3f} | | |")
    if "kernel_cpu" in figures:
        lines.append(f"| one sandboxed grading kernel's start, the kernel's own CPU-s: practical 1's libraries, "
                     f"forked (grading's way) / started by exec; by exec with nothing preloaded | | "
                     f"{figures['kernel_cpu']:.2f} / {figures['kernel_cpu_exec']:.2f}; "
                     f"{figures['kernel_cpu_bare']:.2f} | |")
    if "kernel_cpu_tf" in figures:
        lines.append(f"| the same for practical 3's libraries (TensorFlow, Keras, scikit-learn), forked / by exec | | "
                     f"{figures['kernel_cpu_tf']:.2f} / {figures['kernel_cpu_tf_exec']:.2f} | |")
    if "loop_start" in figures:
        lines.append(f"| this machine's speed: a fixed pure-Python loop alone at the start / at the end of the run; "
                     f"one copy per core at once, each | {figures['loop_start']:.2f} / "
                     f"{figures.get('loop_end', float('nan')):.2f}; {figures['loop_together']:.2f} | | |")
    goals = [(f"{students} x practical 1, 2 workers / stock serial", two / stock, "<=", 0.55),
             ("2 workers faster than 1 (speed-up)", one / two, ">=", 1.85),
             ("per-submission cost / (1.1 x floor + 0.3 s)", (one / students) / (1.1 * floor + 0.3), "<=", 1.0)]
    bare, hidden_sentence = {k[5:]: v for k, v in figures.items() if k.startswith("bare_")}, []
    if bare:
        longest, total = max(bare.values()), sum(bare.values())
        bound = max(longest, total / 2)
        lines += [row("one complete five-practical submission, `--workers 1`", "five_1"),
                  row("the same, `--workers 2`", "five_2"),
                  *([row("the same, `--workers 2 --kernel-threads <cores>` (each kernel's library pools at all "
                         "the cores, as before kernel_threads)", "five_2_all_cores")] if "five_2_all_cores" in figures
                    else []),
                  f"| bare execution of the five notebooks: sum / longest | {total:.1f} / {longest:.1f} | "
                  f"{sum(cpu.get('bare_' + a, 0.0) for a in bare):.1f} | |"]
        goals.append(("five practicals, 2 workers / max(longest, sum / 2)", figures["five_2"] / bound, "<=", 1.2))
        hidden_row, hidden_sentence = _hidden_test_lines(figures, bound)
        lines += hidden_row
    lines += ["", "| goal | measured | target | met |", "|---|---|---|---|"]
    for name, value, sense, target in goals:
        met = value <= target if sense == "<=" else value >= target
        lines.append(f"| {name} | {value:.2f} | {sense} {target:g} | {'yes' if met else 'NO'} |")
    return lines + _bound_lines(figures, students) + hidden_sentence + _machine_lines(figures)


def _hidden_test_lines(figures, bound):
    """The five notebooks executed with their hidden tests in: a table row, and the five-practical run against
    that bound as a sentence (what the grader adds apart from the hidden tests' own work)."""
    hidden, cpu = {k[7:]: v for k, v in figures.items() if k.startswith("hidden_")}, figures.get("cpu", {})
    if not hidden or "five_2" not in figures:
        return [], []
    longest, total = max(hidden.values()), sum(hidden.values())
    with_tests = max(longest, total / 2)
    hidden_cpu = sum(cpu.get('hidden_' + a, 0.0) for a in hidden)
    row = (f"| the same five with their hidden tests in (the source notebooks): sum / longest | {total:.1f} / "
           f"{longest:.1f} | {hidden_cpu:.1f} | |")
    sentences = [f"With their hidden tests in, the five notebooks take {total:.1f} s (the longest {longest:.1f} s): "
                 f"2 workers took {figures['five_2'] / with_tests:.2f} x max(longest, sum / 2) of those, the grader's "
                 f"own cost; against the students' notebooks alone (the goal's bound, {bound:.1f} s) "
                 f"{figures['five_2'] / bound:.2f} x."]
    if "five_2" in cpu and hidden_cpu:
        own = figures.get("grader_cpu", {}).get("five_2")
        sentences.append(f"The 2-worker run spent {cpu['five_2']:.1f} CPU-s, {cpu['five_2'] - hidden_cpu:.1f} more "
                         f"than those notebooks" + ("." if own is None else
                                                   f"; the grading process itself (Dask, the workers' threads "
                                                   f"driving the kernels, the writer) spent {own:.1f} CPU-s."))
    return [row], sentences


def _bound_lines(figures, students):
    """What the one-worker run's busy cores and a kernel's start say about the batch's cost, as lines."""
    cpu, lines = figures.get("cpu", {}), []
    if "grade_1" in cpu:
        busy = cpu["grade_1"] / figures["grade_1"]
        cores = os.cpu_count() or 1
        lines += ["", f"With 1 worker the run kept {busy:.2f} of this machine's {cores} cores busy: for the same CPU "
                      f"work, more workers can make it at most {cores / busy:.2f} x faster on this machine."]
    if "kernel_cpu" in figures and "grade_1" in cpu:
        per_submission = cpu["grade_1"] / students
        saved = figures["kernel_cpu_exec"] - figures["kernel_cpu"]
        lines += [f"Each submission of the batch cost {per_submission:.2f} CPU-s, of which {figures['kernel_cpu']:.2f} "
                  f"({figures['kernel_cpu'] / per_submission:.0%}) its forked kernel's start; a kernel started by "
                  f"exec would cost {saved:.2f} CPU-s more."]
    return lines


def _machine_lines(figures):
    """The machine's own speed: the calibration loop's parallelism and drift, and where the cores waited."""
    lines = []
    if "loop_start" in figures:
        cores = os.cpu_count() or 1
        together = cores * figures["loop_start"] / figures["loop_together"]
        lines.append(f"One copy of the loop per core ran at {figures['loop_start'] / figures['loop_together']:.0%} "
                     f"of one copy's speed alone: the {cores} cores together do {together:.2f} x one core's work, "
                     f"the most any number of workers can speed up work that one core does.")
        if "loop_end" in figures:
            lines.append(f"The loop alone took {figures['loop_end'] / figures['loop_start']:.2f} x as long at the "
                         f"end of the run as at its start: ratios of runs made far apart drift by that much.")
    if figures.get("iowait"):
        lines.append(f"While the timed steps ran, the cores waited {sum(figures['iowait'].values()):.1f} s on I/O and "
                     f"lost {sum(figures.get('steal', {}).values()):.1f} s to other guests of the host (steal); "
                     f"most in: {max(figures['iowait'], key=figures['iowait'].get)}.")
    return lines
