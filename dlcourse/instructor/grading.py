"""Grade a folder of submissions (nbgrader layout ``<submitted>/<student>/<assignment>/<notebook>.ipynb``).

Design (why it looks like this):

* Every submission is graded on its own (``submission.grade_one``: the real ``nbgrader autograde`` in a
  private course folder, under the submission's limits); nothing under the submitted folder is written.
* N submissions run at once (``--workers``, default: the number of cores), on threads that each wait
  for one grading process. The results come back to the **single writer**, this module's main loop,
  which alone writes ``autograded/``, ``feedback/``, the records and the course's ``gradebook.db``
  (nbgrader's SQLite gradebook does not take concurrent writers).
* **Resumable**: a submission is graded once; its record (``records``) holds the sha256 of the submitted
  and source notebooks, so an interrupted run redoes only what has no record, and a changed submission
  or source is graded again. ``--force`` regrades everything. Ctrl-C (or SIGTERM) kills every running
  grading process and keeps what was written.
"""

import os
import queue
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.instructor.config import DEFAULT_LIMITS, ROOT, GradingLimits, assignments_present
from dlcourse.instructor.feedback import write_feedback
from dlcourse.instructor.gradebook import merge_into_gradebook
from dlcourse.instructor.isolation import kill_submission_processes
from dlcourse.instructor.records import Job, crash_record, is_up_to_date, write_record
from dlcourse.instructor.submission import grade_one, make_template


def find_jobs(submitted, root):
    """The (student, assignment) folders under ``submitted`` for assignments present in source/."""
    known = assignments_present(root)
    submitted = Path(submitted)
    students = sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    return [Job(student.name, assignment, student / assignment) for student in students for assignment in known
            if (student / assignment).is_dir()]


def install_results(root, job, record, private_course):
    """Copy the private autograded folder and the feedback into the course, then write the record."""
    destination = Path(root) / "autograded" / job.student / job.assignment
    if destination.exists():
        shutil.rmtree(destination)
    source = Path(private_course) / "autograded" / job.student / job.assignment if private_course else None
    if source and source.is_dir():
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("timestamp.txt"))
    destination.mkdir(parents=True, exist_ok=True)
    write_feedback(root, job.student, job.assignment, record)
    write_record(root, record)


class RunningProcesses:
    """The grading processes running now, so that an interrupted run can kill them all."""

    def __init__(self):
        self._running = {}  # token -> process
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def register(self, process, token):
        with self._lock:
            if process is None:
                self._running.pop(token, None)
                return
            self._running[token] = process
            if self.stopping.is_set():
                kill_submission_processes(process, token)

    def kill_all(self):
        self.stopping.set()
        with self._lock:
            for token, process in list(self._running.items()):
                kill_submission_processes(process, token)


def _result_line(job, record):
    line = (f"{job.student}/{job.assignment}: {record['score']:g}/{record['max_score']:g}"
            f" ({record['seconds']:.0f} s)")
    if record["status"] != "graded":
        line += f" NOT GRADED: {record['reason']}"
    return line + "".join(f"\n    problem: {problem}" for problem in record["problems"])


def _next_result(results):
    """The next result; waits in short steps so that Ctrl-C is seen at once."""
    while True:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            continue


def _grade_in_parallel(todo, root, workdir, template, limits, workers, write, progress):
    """Grade ``todo`` on ``workers`` threads; call ``write(job, record, private)`` in this thread for each."""
    from tqdm import tqdm

    running = RunningProcesses()
    results = queue.Queue()

    def work(job):
        if running.stopping.is_set():
            return
        try:
            results.put((job, *grade_one(job, template, root, workdir, limits, running.register), None))
        except BaseException as exc:  # noqa: BLE001 - reported by the writer
            results.put((job, None, None, exc))

    bar = tqdm(total=len(todo), unit="submission", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job in todo:
            pool.submit(work, job)
        try:
            for _ in todo:
                job, record, private, error = _next_result(results)
                bar.update(1)
                if error is not None:
                    record, private = crash_record(job, root, error), None
                write(job, record, private)
                bar.write(f"[grade] {_result_line(job, record)}", file=sys.stdout)
        except BaseException:
            running.kill_all()
            raise
    bar.close()


def grade_folder(submitted, root=ROOT, workers=None, force=False, limits: GradingLimits = DEFAULT_LIMITS,
                 progress=True, log=print, scratch=None):
    """Grade every submission under ``submitted`` into root/autograded/, root/feedback/ and root/gradebook.db.

    Inputs:
    - submitted: a folder <student>/<assignment>/<notebook>.ipynb (never modified).
    - workers: parallel submissions (default: the number of cores); force: regrade up-to-date ones.
    - limits: each submission's limits; scratch: where the private course folders go (default: the
      system's temporary folder).
    Returns:
    - the list of records of the submissions graded in this run (skipped ones are not included).
    """
    root = Path(root)
    submitted = Path(submitted).resolve()
    workers = max(1, int(workers or os.cpu_count() or 1))
    jobs = find_jobs(submitted, root)
    todo = [job for job in jobs if force or not is_up_to_date(job, root)]
    log(f"[grade] {len(jobs)} submission(s) in {submitted}; {len(jobs) - len(todo)} already graded, "
        f"{len(todo)} to grade with {workers} worker(s)")
    if not todo:
        return []
    records = []
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-grading-", dir=scratch))
    try:
        template = make_template(workdir, root, [a for a in assignments_present(root)
                                                  if a in {job.assignment for job in todo}])

        def write(job, record, private):
            install_results(root, job, record, private)
            merge_into_gradebook(root / "gradebook.db", template / "gradebook.db", record)
            if private:
                shutil.rmtree(private, ignore_errors=True)
            records.append(record)

        _grade_in_parallel(todo, root, workdir, template, limits, workers, write, progress)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [r for r in records if r["status"] != "graded"]
    log(f"[grade] graded {len(records)} submission(s); {len(failed)} could not be graded"
        + "".join(f"\n    {r['student']}/{r['assignment']}: {r['reason']}" for r in failed))
    return records
