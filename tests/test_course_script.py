"""./course, the one entry point: two commands started together do not set up the environment at once."""

import fcntl
import os
import subprocess
import time

from dlcourse.instructor.sandbox import _status  # /proc/<pid>/status as a dict, None once gone
from harness import ROOT


def waiting_in_flock(pid, timeout):
    """True once a child of ``pid`` is a ``flock`` process (the script waits for the lock), within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            fields = _status(int(entry)) if entry.isdigit() else None
            if fields and fields.get("Name") == "flock" and fields.get("PPid") == str(pid):
                return True
        time.sleep(0.05)
    return False


def test_course_waits_for_the_set_up_lock_another_command_holds():
    # Each call refreshes the course kernel's spec (and may reinstall .venv); without one lock, a call removed
    # the spec's files while another copied them ("No such file or directory: 'logo-64x64.png'", seen when a
    # build was started next to a mutants run).
    with open(ROOT / ".course-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = subprocess.Popen([str(ROOT / "course"), "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        waited = waiting_in_flock(run.pid, timeout=20)
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = run.communicate(timeout=300)
    assert waited, "./course never waited for .course-install.lock, which another command held: its set-up takes no lock"
    assert run.returncode == 0 and "usage" in out.lower(), f"./course --help failed (exit {run.returncode}):\n{err[-2000:]}"
