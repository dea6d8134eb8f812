"""Grading on submission (dlcourse/instructor/watch.py): ``./course watch`` runs while a student submits into
the course's exchange; the submission is collected, graded and its feedback released without anyone
running a command, and a restarted watcher neither regrades nor releases it again."""

import os
import pwd
import subprocess
import sys
import time

import nbformat
import pytest

from dlcourse.instructor import cli, exchange
from dlcourse.instructor.records import read_record
from harness import ROOT
from test_exchange import course, student  # noqa: F401 - fixtures: the demo course, a second Unix user
from test_grading import CORRECT, DEMO, PARTIAL, _release, _with


def _watcher(course_root, *extra):
    command = [sys.executable, "-m", "dlcourse.instructor.cli", "watch", "--root", str(course_root),
               "--interval", "1", "--workers", "1", *extra]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.mark.slow
def test_a_submission_is_graded_and_its_feedback_released_while_the_watcher_runs(course, student, monkeypatch):
    monkeypatch.delenv(exchange.EXCHANGE_ENV, raising=False)
    config = student.home / ".jupyter" / "nbgrader_config.py"
    cli.main(["exchange-setup", "--root", str(course), "--student-config", str(config)])
    for path in (config.parent, config):
        os.chown(path, pwd.getpwnam(student.name).pw_uid, -1)
    cli.main(["publish", DEMO, "--root", str(course)])
    student.nbgrader("fetch_assignment", DEMO)
    student.write(f"{DEMO}/demo.ipynb", nbformat.writes(_with(_release(course), CORRECT)))

    watcher = _watcher(course)
    try:
        time.sleep(2)
        student.nbgrader("submit", DEMO)
        _wait(lambda: read_record(course, student.name, DEMO) is not None, 600, "the submission was not graded")
        released = course / "feedback" / ".released.json"
        _wait(released.is_file, 120, "no feedback was released")
        _wait(lambda: f"{student.name}/{DEMO}" in released.read_text(), 120, "the feedback was not released")
    finally:
        watcher.terminate()
        output, _ = watcher.communicate(timeout=120)
    record = read_record(course, student.name, DEMO)
    assert (record["score"], record["max_score"]) == (5.0, 5.0), output[-3000:]
    student.nbgrader("fetch_feedback", DEMO)
    received = list((student.home / DEMO / "feedback").glob("*/demo.html"))
    assert len(received) == 1 and received[0].read_bytes() == (
        course / "feedback" / student.name / DEMO / "demo.html").read_bytes()

    # a restart regrades nothing and releases nothing again; a new submission is graded
    graded_at = record["graded_at"]
    restarted = subprocess.run([sys.executable, "-m", "dlcourse.instructor.cli", "watch", "--root", str(course),
                                "--rounds", "1", "--workers", "1"], cwd=ROOT, capture_output=True, text=True,
                               timeout=600)
    assert read_record(course, student.name, DEMO)["graded_at"] == graded_at, restarted.stdout[-3000:]
    assert "released: none" in restarted.stdout or "released:" not in restarted.stdout, restarted.stdout[-3000:]
    student.write(f"{DEMO}/demo.ipynb", nbformat.writes(_with(_release(course), PARTIAL)))
    time.sleep(1.1)  # a later time stamp than the first submission
    student.nbgrader("submit", DEMO)
    subprocess.run([sys.executable, "-m", "dlcourse.instructor.cli", "watch", "--root", str(course),
                    "--rounds", "1", "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert read_record(course, student.name, DEMO)["score"] == 2.0, "the new submission was not graded"
