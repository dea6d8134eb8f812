"""Grade a folder of submissions (nbgrader layout ``<submitted>/<student>/<assignment>/<notebook>.ipynb``).

Design (why it looks like this):

* Grading runs on ``dask.distributed``: a ``LocalCluster`` of ``--workers`` workers on this machine by
  default, or an existing cluster (``--scheduler ADDRESS``: Slurm through dask-jobqueue, Kubernetes through
  dask-kubernetes; see docs/scaling.md). A task carries one submission's bytes in and its result out
  (``submission.payload_for`` / ``worker.grade_task``): no shared file system is assumed.
* The local cluster's workers are threads of this process: a worker only drives its kernels (sends cells,
  reads replies and audit events), and the kernels are the sandboxed processes that compute. Worker
  processes would cost 2.3 s and 5 CPU-s more per run on this 2-core machine (their start and imports,
  measured) and nothing in return; a remote cluster's workers are processes of their own.
* Each worker keeps a pool of sandboxed kernels that have already imported the assignment's libraries
  (``kernels``), started while the client records the assignment's cells; the longest submissions are
  started first.
* **The single writer** is this process: it alone writes ``autograded/``, the records, the course's
  gradebook (formgrader's database) and ``feedback/`` (rendered on a thread of its own, off the workers'
  critical path). A task that ran twice (its worker died and Dask ran it elsewhere) is written once.
* **Resumable**: a submission is graded once; its record (``records``) holds the sha256 of the submitted
  and source notebooks, so an interrupted run redoes only what has no record, and a changed submission
  or source is graded again. ``--force`` regrades everything.
"""

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from dlcourse.instructor.config import (ASSIGNMENTS, DEFAULT_LIMITS, ROOT, GradingLimits, assignments_present,
                                        resolved_kernel_threads)
from dlcourse.instructor.feedback import write_feedback
from dlcourse.instructor.gradebook import gradebook_url, has_submission, record_submission, sync_assignment
from dlcourse.instructor.pysource import lock_every_parse
from dlcourse.instructor.records import (Job, crash_record, is_up_to_date, read_record, record_from_result,
                                         write_record)
from dlcourse.instructor.sandbox import NO_SANDBOX_WARNING, sandbox_problem
from dlcourse.instructor.submission import first_preload, payload_for
from dlcourse.instructor.worker import close_pools, grade_task, prewarm

class GradingRefused(RuntimeError):
    """Grading cannot start (the sandbox is unavailable, ...); the message says why and how to fix it."""


def find_jobs(submitted, root):
    """The (student, assignment) folders under ``submitted`` for assignments present in source/."""
    known = assignments_present(root)
    submitted = Path(submitted)
    students = sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    return [Job(student.name, assignment, student / assignment) for student in students for assignment in known
            if (student / assignment).is_dir()]


def longest_first(jobs, root):
    """The jobs ordered by their expected duration, longest first: the mean seconds of the assignment's
    records, else the course order (the later practicals train bigger models)."""
    seconds = {}
    for job in jobs:
        if job.assignment not in seconds:
            folder = Path(root) / "autograded"
            times = [r.get("seconds", 0.0) for r in (read_record(root, p.name, job.assignment)
                                                     for p in folder.iterdir() if p.is_dir()) if r] \
                if folder.is_dir() else []
            rank = ASSIGNMENTS.index(job.assignment) + 1 if job.assignment in ASSIGNMENTS else 0
            seconds[job.assignment] = (sum(times) / len(times)) if times else 0.0, rank
    return sorted(jobs, key=lambda job: seconds[job.assignment], reverse=True)


# The local cluster's workers are threads of this process, so what Dask runs beside them runs on the grader's
# CPU: each worker's statistical profiler (every 10 ms it walks the stacks of this process's threads), each
# server's system monitor (every 500 ms) and event-loop tick (every 20 ms). They feed the dashboard, which a
# grading run does not start (dashboard_address=None). Off or slowed, they took the grading process of one
# five-practical submission from about 8.0 to 6.1 CPU-s (docs/scaling.md, "The grading process's own CPU").
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.system-monitor.interval": "5s",
                        "distributed.admin.tick.interval": "1s"}


@contextmanager
def dask_client(workers, scheduler):
    """A dask.distributed Client: to ``scheduler`` when given, else to a LocalCluster of ``workers``
    (``LOCAL_CLUSTER_CONFIG`` set while it runs)."""
    import dask
    from dask.distributed import Client, LocalCluster

    lock_every_parse()  # the worker threads and the libraries parse Python: one at a time (pysource)
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with dask.config.set(LOCAL_CLUSTER_CONFIG), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None,
                         memory_limit=0, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        try:
            yield client
        finally:  # the workers are threads of this process: their warm kernels end with the run
            try:
                client.run(close_pools)
            except Exception:  # noqa: BLE001 - the atexit hook of worker.py stops them at the latest
                pass


def check_sandbox(sandboxed, scheduler, log):
    """Refuse to grade where the sandbox cannot start (unless --no-sandbox: then warn, loudly, once)."""
    if not sandboxed:
        log(NO_SANDBOX_WARNING)
        return
    problem = None if scheduler else sandbox_problem()
    if problem:
        raise GradingRefused(f"grading refused: the sandbox cannot start here: {problem}\n"
                             "Fix it (see README, 'The grading sandbox'), or pass --no-sandbox to grade trusted "
                             "notebooks without it.")


class Writer:
    """The single writer of a grading run: autograded notebooks, records, gradebook, then feedback."""

    def __init__(self, root, db_url, log):
        self.root, self.db_url, self.log = Path(root), db_url, log
        self.records = []
        self._feedback = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback")
        self._pending = []

    def write(self, job, result):
        previous = read_record(self.root, job.student, job.assignment)
        timestamp = _timestamp(job.folder)
        record = record_from_result(job, self.root, result, timestamp) if "notebooks" in result else result
        destination = self.root / "autograded" / job.student / job.assignment
        if destination.exists():
            shutil.rmtree(destination)
        destination.mkdir(parents=True)
        for name, text in result.get("autograded", {}).items():
            (destination / Path(name).name).write_text(text, encoding="utf-8")
        write_record(self.root, record)
        record_submission(self.db_url, record, previous)
        self._pending.append(self._feedback.submit(self._feedback_of, job, record))
        self.records.append(record)
        return record

    def _feedback_of(self, job, record):
        try:
            write_feedback(self.root, job.student, job.assignment, record, self.db_url)
        except Exception as error:  # noqa: BLE001 - one page's failure must not stop the run
            self.log(f"[grade] {job.student}/{job.assignment}: feedback not written: {type(error).__name__}: {error}")

    def close(self):
        for future in self._pending:
            future.result()
        self._feedback.shutdown(wait=True)


def _timestamp(folder):
    path = Path(folder) / "timestamp.txt"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _result_line(job, record):
    line = f"{job.student}/{job.assignment}: {record['score']:g}/{record['max_score']:g} ({record['seconds']:.0f} s)"
    if record["status"] != "graded":
        line += f" NOT GRADED: {record['reason']}"
    elif record["reason"]:
        line += f" (stopped: {record['reason']})"
    extra = [f"problem: {p}" for p in record["problems"]] + [
        f"flagged for review: {f['notebook']} cell `{f['cell']}` line {f['line']}: {f['what']}" for f in record["flags"]]
    return line + "".join(f"\n    {text}" for text in extra)


def _lanes(client):
    """One lane per thread of each worker of the cluster: (worker address, slot), in a fixed order."""
    workers = client.scheduler_info().get("workers", {})
    return [(address, slot) for address in sorted(workers)
            for slot in range(max(1, int(workers[address].get("nthreads", 1) or 1)))]


class LanePlan:
    """Which job each lane (a worker thread) runs next, and which kernel it warms meanwhile.

    A lane runs one job at a time and holds one reservation: the job it will run next, whose kernel its
    worker starts while the current job runs (``warm_next``). A kernel warmed is a kernel used, and none is
    started after the last job. Jobs are taken in the given order (longest first); a free lane with no
    reservation and no job left takes another lane's reservation (that lane is busy: better now, with a
    cold kernel, than later).
    """

    def __init__(self, jobs, lanes):
        self.pending, self.lanes, self.reserved = list(jobs), list(lanes), {}

    def first(self):
        """(lane, job, reserved job or None) to start each lane with."""
        starts = [(lane, self.pending.pop(0)) for lane in self.lanes if self.pending]
        return [(lane, job, self._reserve(lane)) for lane, job in starts]

    def next_for(self, lane):
        """(job, reserved job or None) for a lane that just finished, or (None, None) when nothing is left."""
        job = self.reserved.pop(lane, None)
        if job is None and self.pending:
            job = self.pending.pop(0)
        if job is None and self.reserved:
            job = self.reserved.pop(next(iter(self.reserved)))
        if job is None:
            return None, None
        return job, self._reserve(lane)

    def _reserve(self, lane):
        if self.pending:
            self.reserved[lane] = self.pending.pop(0)
        return self.reserved.get(lane)


def _grade_on_cluster(client, todo, root, limits, sandboxed, writer, progress, workdir):
    """Run the jobs on the cluster's lanes (``LanePlan``) and write each result as it arrives."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    plan, stream, by_key = LanePlan(todo, _lanes(client)), as_completed(), {}
    preloads = {a: first_preload(root, a) for a in {job.assignment for job in todo}}

    def submit(lane, job, following):
        payload = payload_for(job, root, limits, sandboxed)
        payload["workdir"] = workdir
        payload["warm_next"] = [preloads[following.assignment]] if following else []
        # pinned to the lane's worker, which warmed its kernel; elsewhere if that worker is gone
        future = client.submit(grade_task, payload, pure=False, workers=[lane[0]], allow_other_workers=True,
                               key=f"grade-{job.student}-{job.assignment}-{os.urandom(4).hex()}")
        by_key[future.key] = (job, lane)
        stream.add(future)

    starts = plan.first()
    for address in sorted({lane[0] for lane, _, _ in starts}):  # returns at once: the kernels start meanwhile
        client.run(prewarm, sandboxed, limits, [preloads[job.assignment] for lane, job, _ in starts
                                                if lane[0] == address], workdir, workers=[address])
    for assignment in sorted(preloads):
        sync_assignment(writer.db_url, root, assignment)  # while the first kernels start
    for lane, job, following in starts:
        submit(lane, job, following)
    bar = tqdm(total=len(todo), unit="submission", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    with _interrupt_flag() as interrupted:
        for future in stream:
            job, lane = by_key.pop(future.key)
            if not interrupted.is_set():  # the lane's next job first: its worker must not wait for the writer
                following_job, following = plan.next_for(lane)
                if following_job is not None:
                    submit(lane, following_job, following)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - reported as this submission's internal error
                result = crash_record(job, root, error)
            record = writer.write(job, result)
            bar.update(1)
            bar.write(f"[grade] {_result_line(job, record)}", file=sys.stdout)
            if interrupted.is_set():
                raise KeyboardInterrupt("grading interrupted (Ctrl-C): the submissions written so far are kept")
    bar.close()


@contextmanager
def _interrupt_flag():
    """A Ctrl-C during the run raises KeyboardInterrupt as usual, and also sets the flag this yields: the
    KeyboardInterrupt can land in a garbage-collector callback of distributed, which swallows it ("Exception
    ignored in ..."); the loop then stops at the next result instead of grading the rest."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def on_interrupt(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def grade_folder(submitted, root=ROOT, workers=None, force=False, limits: GradingLimits = DEFAULT_LIMITS,
                 sandboxed=True, scheduler=None, db_url=None, progress=True, log=print):
    """Grade every submission under ``submitted`` into root/autograded/, the gradebook and root/feedback/.

    Inputs:
    - submitted: a folder <student>/<assignment>/<notebook>.ipynb (never modified).
    - workers: worker processes of the local cluster (default: the number of cores); force: regrade all.
    - limits: each submission's limits; sandboxed: False only for --no-sandbox; scheduler: the address of
      an existing Dask scheduler; db_url: the gradebook (default root/gradebook.db).
    Returns:
    - the list of records of the submissions graded in this run (skipped ones are not included).
    """
    root, submitted = Path(root), Path(submitted).resolve()
    workers = max(1, int(workers or os.cpu_count() or 1))
    if not scheduler:  # a remote worker decides its own share of its machine (worker.grade_task)
        limits = resolved_kernel_threads(limits, workers)
    db_url = gradebook_url(root, db_url)
    jobs = find_jobs(submitted, root)
    todo = longest_first([job for job in jobs if force or not is_up_to_date(job, root)], root)
    log(f"[grade] {len(jobs)} submission(s) in {submitted}; {len(jobs) - len(todo)} already graded, "
        f"{len(todo)} to grade with {workers if not scheduler else 'the cluster'}'s worker(s)")
    fill_gradebook(root, db_url, [job for job in jobs if job not in todo])
    if not todo:
        return []
    check_sandbox(sandboxed, scheduler, log)
    writer = Writer(root, db_url, log)
    start = time.perf_counter()
    # On a local cluster the workers' folders go in one folder of the run, removed after it even when a
    # worker was killed; a remote worker uses its own temporary folder.
    workdir = None if scheduler else tempfile.mkdtemp(prefix="dlcourse-grading-")
    try:
        with dask_client(workers, scheduler) as client:
            _grade_on_cluster(client, todo, root, limits, sandboxed, writer, progress, workdir)
    finally:
        writer.close()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    records = writer.records
    stopped = [r for r in records if r["status"] != "graded" or r["reason"]]
    log(f"[grade] graded {len(records)} submission(s) in {time.perf_counter() - start:.1f} s; {len(stopped)} "
        "stopped early or could not be graded"
        + "".join(f"\n    {r['student']}/{r['assignment']}: {r['reason']}" for r in stopped))
    return records


def fill_gradebook(root, db_url, jobs):
    """Write into the gradebook the graded submissions it does not hold yet (a fresh clone's committed sample
    records, another course copy's results), so that formgrader, the feedback and the tables see every one."""
    synced = set()
    for job in jobs:
        record = read_record(root, job.student, job.assignment)
        if record is None:
            continue
        if job.assignment not in synced:
            sync_assignment(db_url, root, job.assignment)
            synced.add(job.assignment)
        if not has_submission(db_url, job.assignment, job.student):
            record_submission(db_url, record, previous=record)


def profile_lines(records, top=15):
    """The ``--profile`` summary: the slowest cells over the run, and each assignment's mean seconds."""
    cells, assignments = {}, {}
    for record in records:
        assignments.setdefault(record["assignment"], []).append(record["seconds"])
        for notebook, timings in record.get("timings", {}).items():
            for cell, seconds in timings.items():
                cells.setdefault((record["assignment"], notebook, cell), []).append(seconds)
    lines = ["[profile] mean seconds per submission: " + ", ".join(
        f"{a} {sum(t) / len(t):.1f} s ({len(t)})" for a, t in sorted(assignments.items()))]
    slowest = sorted(cells.items(), key=lambda item: -sum(item[1]) / len(item[1]))[:top]
    lines += [f"[profile] {a}/{n} cell `{c}`: mean {sum(t) / len(t):.2f} s, max {max(t):.2f} s over {len(t)}"
              for (a, n, c), t in slowest]
    return lines
