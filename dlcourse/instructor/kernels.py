"""Kernels for grading: each one started (in the sandbox, unless told otherwise), in a scratch folder of its
own, with the guard installed and the assignment's libraries imported before any student code; a pool
keeps the next one warm. A kernel is never reused: one submission's notebook, then it is gone.
"""

import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupyter_client import KernelManager

from dlcourse.instructor.config import KERNEL_ENV, KERNEL_NAME, ROOT, GradingLimits, thread_environment
from dlcourse.instructor.execution import KernelSession
from dlcourse.instructor.forkserver import ForkedSandboxedKernelManager, fork_server
from dlcourse.instructor.guard import AuditReader, bootstrap_code, new_runner_name, new_secret
from dlcourse.instructor.sandbox import SandboxedKernelManager, SandboxLimits

GIB = 2**30
SECRET_NAME = ".grading-secret"
START_TIMEOUT = 120  # seconds for a kernel to start and import the assignment's libraries


class KernelStartError(RuntimeError):
    """A grading kernel could not be started (the message says why)."""


def sandbox_limits(limits: GradingLimits):
    return SandboxLimits(memory_bytes=int(limits.memory_limit_gb * GIB),
                         file_size_bytes=int(limits.file_size_limit_gb * GIB))


class GradingKernel:
    """One started kernel: ``session`` runs cells, ``audit`` reads its audit events, ``secret`` and
    ``runner_name`` are the guard's (see guard.py); ``scratch`` is its only writable folder and its cwd.

    Inputs:
    - workdir: where the scratch folder is made; preload: module names to import before student code;
      sandboxed: run it in the sandbox (False only for --no-sandbox); limits: the submission's limits;
      forked: fork a sandboxed kernel from the grading process's fork server of ``preload`` (forkserver.py:
      the libraries imported once per run, not once per kernel), False to start it the usual way.
    """

    def __init__(self, workdir, preload, sandboxed, limits: GradingLimits, forked=True):
        self.scratch = Path(tempfile.mkdtemp(prefix="k-", dir=workdir))
        self.sandboxed, self.secret, self.runner_name = sandboxed, new_secret(), new_runner_name()
        read_fd, write_fd = os.pipe()
        try:
            self.manager = self._manager(limits, preload, forked)
            # the kernel process's own stdout/stderr (library start-up logs) are not cell outputs: dropped
            unsandboxed = {"cwd": str(self.scratch), "env": {**os.environ, **thread_environment(limits.kernel_threads)}}
            self.manager.start_kernel(pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      **({} if sandboxed else unsandboxed))
        except Exception as error:
            os.close(read_fd)
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise KernelStartError(f"the grading kernel did not start: {error}") from error
        finally:
            os.close(write_fd)
        self.audit = AuditReader(read_fd)
        self.client = self.manager.client()
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=START_TIMEOUT)
            self.session = KernelSession(self.client, self.manager.is_alive, self.manager.interrupt_kernel)
            self._install_guard(write_fd, preload)
        except Exception as error:
            self.stop()
            raise KernelStartError(f"the grading kernel did not start: {error}") from error

    def _manager(self, limits, preload, forked):
        if not self.sandboxed:
            return KernelManager(kernel_name=KERNEL_NAME)
        options = dict(scratch=str(self.scratch), limits=sandbox_limits(limits), package_folder=str(ROOT / "dlcourse"),
                       data_folder=str(ROOT / "data"),
                       extra_env={**KERNEL_ENV, **thread_environment(limits.kernel_threads)})
        if not forked:
            return SandboxedKernelManager(**options)
        manager = ForkedSandboxedKernelManager(fork_server=None, **options)
        # the fork server is chosen by the kernels' environment, which only the open sandbox knows
        manager.fork_server = fork_server(preload, manager._open_sandbox().environment())
        return manager

    def _install_guard(self, audit_fd, preload):
        secret_path = self.scratch / SECRET_NAME
        secret_path.write_bytes(self.secret)
        self.add_file(secret_path)
        run = self.session.run(bootstrap_code(secret_path, audit_fd, preload, self.runner_name), START_TIMEOUT)
        if run.status != "ok" or secret_path.exists():
            raise KernelStartError(f"the grading guard was not installed ({run.status}: {run.outputs[-1:]})")

    def add_file(self, path):
        """Make a file just written into the scratch folder the kernel's own (before any student code)."""
        if self.sandboxed:
            self.manager.hand_over(str(path))

    def add_files(self, files):
        """Copy the submission's files ({relative name: bytes}) into the scratch folder."""
        for name, data in files.items():
            target = self.scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.add_file(target)

    def diagnosis(self):
        """Why the kernel ended ("out of memory (limit 6 GB)", "killed by signal SIGKILL", ...)."""
        if self.sandboxed:
            return self.manager.diagnosis()
        code = self.manager.provisioner.process.returncode if self.manager.provisioner else None
        return f"exit code {code}" if code is not None else "the kernel stopped"

    def stop(self):
        """Stop the kernel and everything it started; remove the scratch folder."""
        try:
            self.client.stop_channels()
        except Exception:  # noqa: BLE001 - stopping must go on whatever state the client is in
            pass
        try:
            self.manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(self.scratch, ignore_errors=True)


class KernelPool:
    """Started kernels ready for the next notebook, one kept warm per list of modules to preload.

    ``take(preload, then)`` returns a kernel started for ``preload`` (the warm one, or a new one) and starts,
    in the background, one for each list of modules in ``then`` (by default the same ``preload`` again):
    the next notebook's code then waits neither for its kernel nor for its imports, and a run that knows
    its next job warms exactly the kernel that job needs, and none after the last.
    """

    def __init__(self, workdir, sandboxed, limits: GradingLimits):
        self.workdir, self.sandboxed, self.limits = Path(workdir), sandboxed, limits
        self._warm, self._lock = {}, threading.Lock()
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-warmup")

    def _start(self, preload):
        return GradingKernel(self.workdir, preload, self.sandboxed, self.limits)

    def warm(self, preload):
        """Start a kernel for ``preload`` in the background, unless one is already warm or warming."""
        preload = tuple(preload)
        with self._lock:
            if preload not in self._warm:
                self._warm[preload] = self._starter.submit(self._start, preload)

    def take(self, preload, then=None):
        preload = tuple(preload)
        with self._lock:
            warm = self._warm.pop(preload, None)
        for following in ([preload] if then is None else then):
            self.warm(following)
        if warm is not None:
            try:
                return warm.result()
            except KernelStartError:
                pass
        return self._start(preload)

    def close(self):
        with self._lock:
            warm, self._warm = list(self._warm.values()), {}
        for future in warm:
            try:
                future.result().stop()
            except Exception:  # noqa: BLE001 - a kernel that failed to start has nothing to stop
                pass
        self._starter.shutdown(wait=True)
