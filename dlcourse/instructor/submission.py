"""Grading one submission with the real ``nbgrader autograde``, in a private course folder.

The private folder is a copy of a template course (the assignment's source, config and gradebook) plus
a repaired copy of the submission (see ``inspection``); nothing under the submitted folder is written.
nbgrader runs as a child process in its own session, under the submission's limits (``isolation``), and
is killed with everything it started at the wall-time limit.
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat

from dlcourse.instructor.config import GradingLimits, source_notebooks, tool_environment
from dlcourse.instructor.inspection import inspect_submission
from dlcourse.instructor.isolation import TOKEN_VARIABLE, kill_submission_processes, limits_in_child, new_token
from dlcourse.instructor.nbgrader_course import make_course
from dlcourse.instructor.notebooks import nbgrader_command
from dlcourse.instructor.records import finish_record, new_record

STUDENT_FILE_LIMIT = 50 * 2**20  # data files a student added next to the notebooks, copied up to this size


def make_template(workdir, root, assignments):
    """A private course folder with the assignments released into its one gradebook (copied per
    submission; one gradebook for all of them, so nbgrader creates a database only once)."""
    return make_course(Path(workdir) / "template", list(assignments), root=root)


def diagnose(log_text, limits: GradingLimits):
    """A short reason from nbgrader's log of a failed autograde."""
    if "DeadKernelError" in log_text or "Kernel died" in log_text or "kernel died" in log_text:
        return (f"the kernel died while running the notebook (os._exit, a crash, or the memory limit "
                f"of {limits.memory_limit_gb:g} GB)")
    if "CellTimeoutError" in log_text or "TimeoutError" in log_text:
        return "a cell exceeded the cell time limit"
    if "MemoryError" in log_text:
        return f"out of memory (limit {limits.memory_limit_gb:g} GB)"
    if "ValidationError" in log_text or "failed to validate" in log_text:
        return "the notebook's grading metadata is corrupted"
    lines = [line.strip() for line in log_text.splitlines() if "[ERROR]" in line or "Error" in line]
    return lines[-1][:300] if lines else "nbgrader failed (see the log)"


def _private_course(job, template, workdir):
    course = Path(tempfile.mkdtemp(prefix=f"{job.student}-{job.assignment}-", dir=workdir))
    shutil.copy(template / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copy(template / "gradebook.db", course / "gradebook.db")
    shutil.copytree(template / "source" / job.assignment, course / "source" / job.assignment)
    return course


def _stage_submission(job, notebooks, course):
    """Write the repaired notebooks and the student's small data files into the private submitted/ folder."""
    target = course / "submitted" / job.student / job.assignment
    target.mkdir(parents=True)
    for path in Path(job.folder).iterdir():
        if path.is_file() and path.suffix != ".ipynb" and path.stat().st_size < STUDENT_FILE_LIMIT:
            shutil.copy(path, target / path.name)
    for name, notebook in notebooks.items():
        nbformat.write(notebook, target / name, version=4)


def _run_autograde(job, course, limits, register):
    """Run nbgrader autograde on the staged submission under the limits.

    Returns:
    - (timed_out, return code, nbgrader's log text).
    """
    token = new_token()
    command = nbgrader_command() + ["autograde", job.assignment, "--student", job.student, "--force",
                                    "--OverwriteCells.add_missing_cells=True"]
    env = tool_environment({TOKEN_VARIABLE: token})
    env.setdefault("PYTHONHASHSEED", "0")
    log_path = course / "nbgrader.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=limits_in_child(limits))
        if register:
            register(process, token)
        try:
            process.wait(timeout=limits.time_limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_submission_processes(process, token)
            if register:
                register(None, token)
    return timed_out, process.returncode, log_path.read_text(errors="replace")


def collect_scores(course, job, graded):
    """Per notebook file, per grade cell: {"type": "test"|"manual", "score", "max_score"}, from the private
    gradebook. Cells of a notebook that was not graded (missing, unreadable, or the run failed) score 0."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(job.assignment)
        submitted = {}
        if graded:
            try:
                submission = gradebook.find_submission(job.assignment, job.student)
                submitted = {nb.name: {g.name: (g.manual_score if g.manual_score is not None else g.auto_score)
                                       for g in nb.grades} for nb in submission.notebooks}
            except MissingEntry:
                submitted = {}
        for notebook in assignment.notebooks:
            exists = (course / "autograded" / job.student / job.assignment / f"{notebook.name}.ipynb").is_file()
            cells = {}
            for cell in notebook.grade_cells:
                kind = "test" if cell.cell_type == "code" else "manual"
                score = submitted.get(notebook.name, {}).get(cell.name) if (graded and exists) else None
                cells[cell.name] = {"type": kind, "score": 0.0 if kind == "test" and score is None else score,
                                    "max_score": cell.max_score}
            result[f"{notebook.name}.ipynb"] = cells
    return result


def _memory_errors(course, job, names, limits):
    """A problem line per autograded notebook in which a cell raised MemoryError."""
    problems = []
    for name in names:
        path = course / "autograded" / job.student / job.assignment / name
        if not path.is_file():
            continue
        outputs = [o for cell in nbformat.read(path, as_version=4).cells for o in cell.get("outputs", [])]
        if any(o.get("output_type") == "error" and o.get("ename") == "MemoryError" for o in outputs):
            problems.append(f"{name}: a cell ran out of memory (limit {limits.memory_limit_gb:g} GB)")
    return problems


def grade_one(job, template, root, workdir, limits: GradingLimits, register=None):
    """Grade one submission in a private copy of ``template``.

    Inputs:
    - job: the submission; template: a course folder from make_template holding job.assignment.
    - limits: the submission's limits; register: optional callable(process, token) told about the running
      nbgrader (None when it ended), so that an interrupted run can kill it.
    Returns:
    - (record, private course Path holding autograded/<student>/<assignment>/).
    """
    start = time.perf_counter()
    names = source_notebooks(root, job.assignment)
    course = _private_course(job, template, workdir)
    record = new_record(job, root)
    notebooks, record["problems"] = inspect_submission(job.folder, course / "source" / job.assignment)
    _stage_submission(job, notebooks, course)
    if not notebooks:
        record["status"], record["reason"] = "failed", "no notebook could be graded (see the problems)"
    else:
        timed_out, returncode, log_text = _run_autograde(job, course, limits, register)
        if timed_out:
            record["status"] = "failed"
            record["reason"] = (f"stopped at the wall-time limit of {limits.time_limit:g} s (a cell that never "
                                "finishes, e.g. a loop that ignores interrupts)")
        elif returncode != 0:
            record["status"], record["reason"] = "failed", diagnose(log_text, limits)
    graded = record["status"] == "graded"
    record["notebooks"] = collect_scores(course, job, graded)
    if graded:
        record["problems"] += [p for p in _memory_errors(course, job, names, limits) if p not in record["problems"]]
    return finish_record(record, time.perf_counter() - start), course
