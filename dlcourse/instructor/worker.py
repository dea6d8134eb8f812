"""The task a grading worker runs (on this machine or on a Dask cluster): one submission's payload in, its
result out. Each worker keeps one kernel pool (``kernels.KernelPool``) for its whole life, so the next
submission's kernel is already started and has already imported its libraries. A worker is a thread of
the grading process on the local cluster, a process of its own on a remote one; the pools are kept per
worker (its Dask address), so two workers of one process never share a warm kernel.
"""

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from dlcourse.instructor.config import GradingLimits, resolved_kernel_threads
from dlcourse.instructor.kernels import KernelPool
from dlcourse.instructor.sandbox import sandbox_problem
from dlcourse.instructor.submission import grade_payload

_POOLS = {}
_LOCK = threading.Lock()
_THREAD = threading.local()


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this worker; the message says why and how to fix it."""


def _current_worker(dask_worker=None):
    """The Dask worker running the caller: ``dask_worker`` when given (``Client.run`` passes it), else the
    worker of this task, else None (outside any worker)."""
    if dask_worker is not None:
        return dask_worker
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def _pool(sandboxed, limits, base=None, dask_worker=None):
    """The kernel pool of the worker running the caller (see ``_current_worker``) for these settings; its
    folder is made in ``base`` (the run's folder on a local cluster, which the client removes after the run)
    or in the system's temporary folder. Limits that leave kernel_threads to the worker (a remote cluster's)
    get its machine's cores / the submissions it grades at once (its Dask threads)."""
    worker = _current_worker(dask_worker)
    limits = resolved_kernel_threads(limits, worker.state.nthreads if worker is not None else 1)
    key = (worker.address if worker is not None else "", sandboxed, limits)
    with _LOCK:
        if key not in _POOLS:
            if sandboxed:
                problem = sandbox_problem()
                if problem:
                    raise SandboxUnavailable(problem)
            local = base and Path(base).is_dir()
            workdir = Path(tempfile.mkdtemp(prefix="w-" if local else "dlcourse-worker-", dir=base if local else None))
            _POOLS[key] = (KernelPool(workdir, sandboxed, limits), workdir)
        return _POOLS[key]


def _own_event_loop():
    """Give this thread an event loop of its own for jupyter_client's blocking calls.

    jupyter_core's ``run_sync`` keeps "this thread's loop" in a ContextVar, and Dask runs each task in a copy
    of its event-loop thread's context: once the grading process has used a blocking Jupyter call (``./course
    build`` executes the solutions before grading the samples), every worker thread would get that one loop
    and the second to run it fails with "This event loop is already running". One loop per thread, kept for
    the thread's life."""
    import asyncio

    from jupyter_core import utils

    loop = getattr(_THREAD, "loop", None)
    if loop is None or loop.is_closed():
        loop = _THREAD.loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    utils._loop.set(loop)  # noqa: SLF001 - the ContextVar run_sync reads (jupyter_core 5)


def grade_task(payload):
    """Grade one submission (see ``submission.grade_payload``); returns its result dict."""
    _own_event_loop()
    pool, workdir = _pool(payload["sandboxed"], GradingLimits(**payload["limits"]), payload.get("workdir"))
    return grade_payload(payload, pool, workdir)


def close_pools(dask_worker=None):
    """Stop the warm kernels of one worker (``Client.run`` passes ``dask_worker``: at the end of a local run),
    or of every worker of this process (at exit, and between tests)."""
    worker = None if dask_worker is None else dask_worker.address
    with _LOCK:
        keys = [key for key in _POOLS if worker is None or key[0] == worker]
        pools = [_POOLS.pop(key) for key in keys]
    for pool, workdir in pools:
        pool.close()
        shutil.rmtree(workdir, ignore_errors=True)


atexit.register(close_pools)


def prewarm(sandboxed, limits, preloads, base=None, dask_worker=None):
    """Start, in the background, a warm kernel for each list of modules in ``preloads`` (Client.run)."""
    pool, _ = _pool(sandboxed, limits, base, dask_worker)
    for preload in preloads:
        pool.warm(preload)
    return len(preloads)
