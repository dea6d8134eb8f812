"""Grading on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on loopback, started
here from the environment's own `bin/dask`, and `./course grade --scheduler tcp://127.0.0.1:PORT` (the real
command line, in its own process) on the sample submissions of practical 1.

What it proves (dlcourse/instructor/grading.py, worker.py, submission.payload_for):
- no shared file system: each worker runs in a mount namespace where the course copy (source/, the
  submissions, the gradebook, autograded/) is an empty tmpfs, so a task can only grade from the bytes it
  carries, and its results reach the course only through the client;
- a worker killed with SIGKILL while it grades: the submission it held is regraded on the other worker,
  every submission is written exactly once (records, the command's output, nbgrader's gradebook rows);
- the scores equal those of a LocalCluster run (`./course grade --workers 2`) of the same submissions.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dlcourse.instructor.config import ROOT

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_computational_graph"  # the cheapest practical (tens of seconds per submission)
SAMPLES = ["sample-correct", "sample-partial", "sample-untouched"]
# Copies under other names make the run long enough to kill a worker in the middle of it.
COPIES = {"copy-correct": "sample-correct"}
DASK = Path(sys.executable).parent / "dask"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def course_copy(folder, students):
    """A course root with practical 1's source notebooks (its own gradebook, autograded/, feedback/), and a
    submitted/ folder of the named sample submissions ({student: sample})."""
    folder = Path(folder)
    root = folder / "course"
    shutil.copytree(ROOT / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    submitted = folder / "submitted"
    for student, sample in students.items():
        shutil.copytree(ROOT / "samples" / "submitted" / sample / ASSIGNMENT, submitted / student / ASSIGNMENT)
    return root, submitted


def course_command(root, submitted, *options):
    """``./course grade`` through the real command line, as its own process."""
    return [sys.executable, "-m", "dlcourse.instructor.cli", "grade", str(submitted), "--root", str(root),
            "--no-progress", *map(str, options)]


def environment(tmp):
    """This checkout's package first on the path, and a short temporary folder (the kernels' ipc sockets)."""
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), TMPDIR=str(tmp))


def records_of(root):
    found = {}
    for path in sorted((Path(root) / "autograded").glob(f"*/{ASSIGNMENT}/grading.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["student"]] = record
    return found


def outcome(record):
    """What a grading decides for one submission: status, scores per test cell, problems, flags."""
    cells = {notebook: {grade: (entry.get("score"), entry.get("max_score")) for grade, entry in entries.items()}
             for notebook, entries in record["notebooks"].items()}
    return (record["status"], record["score"], record["max_score"], cells, record["problems"],
            [(f["cell"], f["what"]) for f in record["flags"]])


def gradebook_rows(root):
    """nbgrader's own view of the gradebook: (submissions, grade rows, {student: (score, max)})."""
    from nbgrader.api import Grade, Gradebook, SubmittedAssignment

    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gradebook:
        submissions = gradebook.db.query(SubmittedAssignment).count()
        grades = gradebook.db.query(Grade).count()
        scores = {s.student.id: (s.code_score, s.max_code_score) for s in gradebook.assignment_submissions(ASSIGNMENT)}
        cells = sum(len(notebook.grade_cells) for notebook in gradebook.find_assignment(ASSIGNMENT).notebooks)
    return submissions, grades, scores, cells


class Cluster:
    """A scheduler and named workers (no nanny: killing the process kills the worker for good), each
    worker in its own mount namespace where ``hidden`` is an empty tmpfs, with its own TMPDIR."""

    def __init__(self, scratch, hidden, workers=("w1", "w2")):
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scratch, self.processes, self.logs = Path(scratch), {}, {}
        self._start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                  "--no-dashboard"], self.scratch)
        for name in workers:
            tmp = self.scratch / name
            tmp.mkdir()
            worker = [str(DASK), "worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny",
                      "--memory-limit", "0", "--no-dashboard", "--local-directory", str(tmp)]
            hide = f'mount -t tmpfs -o size=1m tmpfs "{hidden}" && exec "$@"'
            self._start(name, ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", hide, "sh",
                               *worker], tmp)

    def _start(self, name, command, tmp):
        self.logs[name] = open(self.scratch / f"{name}.log", "w+")
        self.processes[name] = subprocess.Popen(command, stdout=self.logs[name], stderr=subprocess.STDOUT,
                                                cwd=tmp, env=environment(tmp), start_new_session=True)

    def log(self, name):
        self.logs[name].flush()
        return (self.scratch / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self):
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self.logs[name].close()


def processes_under(folder):
    """Live processes whose working folder or command line lies under ``folder`` (a worker's kernels)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(str(folder)) or str(folder) in cmdline:
            found.append((int(entry), cmdline[:200]))
    return found


def executing(client, worker):
    """The task keys the worker is running right now (not merely queued on it)."""
    def keys(dask_worker):
        return [task.key for task in dask_worker.state.executing]
    try:
        return client.run(keys, workers=[worker]).get(worker, [])
    except Exception:  # noqa: BLE001 - a worker that just left executes nothing
        return []


def test_a_worker_killed_mid_run_is_regraded_elsewhere_once_and_scores_equal_a_local_cluster(tmp_path):
    from dask.distributed import Client

    started = time.perf_counter()
    # short paths: the kernels' ipc sockets live under each worker's TMPDIR
    scratch = Path(tempfile.mkdtemp(prefix="dd-"))
    client_side = tmp_path / "client"
    students = dict({s: s for s in SAMPLES}, **COPIES)
    root, submitted = course_copy(client_side, students)
    local_root, local_submitted = course_copy(tmp_path / "local", {s: s for s in SAMPLES})

    # the reference: a LocalCluster run of the three samples, started first, alongside the cluster's run
    local_tmp = scratch / "local"
    local_tmp.mkdir()
    local = subprocess.Popen(course_command(local_root, local_submitted, "--workers", 2), cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment(local_tmp))
    local_output, _ = local.communicate(timeout=240)
    assert local.returncode == 0, local_output[-3000:]

    cluster = Cluster(scratch, client_side)
    grading = None
    try:
        with Client(cluster.address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            workers = {info["name"]: address for address, info in client.scheduler_info()["workers"].items()}
            assert sorted(workers) == ["w1", "w2"], workers
            # the workers cannot read the course: any path the client passed them would fail to grade
            seen = client.run(lambda: [os.path.exists(p) for p in (root, submitted, ROOT / "source")])
            assert all(found == [False, False, True] for found in seen.values()), seen
            client.get_task_stream()  # installs the scheduler's task stream, read at the end
            since = time.time()
            grading = subprocess.Popen(course_command(root, submitted, "--scheduler", cluster.address),
                                       cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       env=environment(scratch))
            # mid-run: at least one submission written by the client, and w2 grading another one
            killed_keys, deadline = [], time.time() + 150
            while time.time() < deadline and grading.poll() is None:
                running = executing(client, workers["w2"])
                if running and records_of(root):
                    os.kill(cluster.processes["w2"].pid, signal.SIGKILL)
                    killed_keys = running
                    break
                time.sleep(0.2)
            assert killed_keys, ("w2 never graded a submission after the first one was written",
                                 cluster.log("w2"))
            output, _ = grading.communicate(timeout=200)
            assert grading.returncode == 0, output[-3000:] + cluster.log("w1")
            stream = client.get_task_stream(start=since)
            remaining = sorted(info["name"] for info in client.scheduler_info()["workers"].values())
    finally:
        if grading is not None and grading.poll() is None:
            grading.kill()
        cluster.stop()
    assert cluster.processes["w2"].returncode == -signal.SIGKILL
    assert remaining == ["w1"], remaining
    time.sleep(0.5)
    orphans = processes_under(scratch / "w2")
    shutil.rmtree(scratch, ignore_errors=True)
    assert not orphans, f"the killed worker's kernels outlived it: {orphans}"

    # every task that completed ran once; the ones w2 was grading when it died completed on w1
    done = {}
    for task in stream:
        if str(task["key"]).startswith("grade-") and any(s["action"] == "compute" for s in task["startstops"]):
            done.setdefault(task["key"], []).append(task["worker"])
    assert len(done) == len(students), sorted(done)
    assert all(len(on) == 1 for on in done.values()), done
    for key in killed_keys:
        assert done.get(key) == [workers["w1"]], (key, done.get(key))

    # written exactly once: one record, one output line and one gradebook submission per student
    records = records_of(root)
    assert sorted(records) == sorted(students)
    for student in students:
        assert output.count(f"[grade] {student}/{ASSIGNMENT}:") == 1, output
        assert (root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), student
        assert (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file(), student
    submissions, grades, scores, cells = gradebook_rows(root)
    assert (submissions, grades) == (len(students), len(students) * cells), (submissions, grades, cells)

    # the same results as the LocalCluster run, copies included; and the samples score as they must
    reference = records_of(local_root)
    assert sorted(reference) == SAMPLES
    for student, sample in students.items():
        assert outcome(records[student]) == outcome(reference[sample]), student
        assert records[student]["status"] == "graded", (student, records[student]["reason"])
    local_scores = gradebook_rows(local_root)[2]
    assert scores == {student: local_scores[sample] for student, sample in students.items()}
    full = reference["sample-correct"]["max_score"]
    assert (reference["sample-correct"]["score"], reference["sample-untouched"]["score"]) == (full, 0.0)
    assert 0 < reference["sample-partial"]["score"] < full
    assert time.perf_counter() - started < 400
