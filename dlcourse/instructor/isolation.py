"""Process isolation of one submission: resource limits, and killing everything it started.

The grading process of a submission runs in a session of its own with limits inherited by every child
(address space, file size, no core dumps); each carries a token in its environment, so that the kernel,
which starts its own session, is found and killed too.
"""

import os
import resource
import signal
import subprocess
import time
import uuid

from dlcourse.instructor.config import GradingLimits

TOKEN_VARIABLE = "DLCOURSE_GRADING_TOKEN"
GIB = 2**30


def new_token():
    return uuid.uuid4().hex


def limits_in_child(limits: GradingLimits):
    """A ``preexec_fn`` applying the limits in the child process, before it runs anything."""
    memory = int(limits.memory_limit_gb * GIB) if limits.memory_limit_gb else 0
    file_size = int(limits.file_size_limit_gb * GIB)

    def apply():
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def processes_with_token(token):
    """Pids of the processes whose environment holds the token (nbgrader, its kernel, their children)."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def kill_submission_processes(process, token):
    """Kill every process of one submission: the process group of ``process`` and anything with the token."""
    for _ in range(3):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pids = [pid for pid in processes_with_token(token) if pid != os.getpid()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not pids:
            break
        time.sleep(0.2)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
