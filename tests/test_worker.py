"""dlcourse/instructor/worker.py: each Dask worker keeps its own kernel pool, sized to its share of its machine."""

from types import SimpleNamespace

from dlcourse.instructor import config, worker
from dlcourse.instructor.config import DEFAULT_LIMITS, GradingLimits


def dask_worker(address, nthreads):
    """What ``Client.run`` passes as ``dask_worker``, as far as the worker module reads it."""
    return SimpleNamespace(address=address, state=SimpleNamespace(nthreads=nthreads))


def test_each_worker_gets_its_own_pool_with_its_machines_cores_over_its_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(config.os, "cpu_count", lambda: 8)
    two_threads, one_thread = dask_worker("tcp://10.0.0.1:4001", 2), dask_worker("tcp://10.0.0.2:4001", 1)
    try:
        pool, workdir = worker._pool(False, DEFAULT_LIMITS, tmp_path, two_threads)
        assert pool.limits.kernel_threads == 4, "a worker grading 2 submissions at once gives each kernel 8 / 2 threads"
        assert workdir.parent == tmp_path, "the pool's folder is made in the run's folder"
        assert worker._pool(False, DEFAULT_LIMITS, tmp_path, two_threads)[0] is pool, \
            "the same worker and settings reuse the warm pool"
        other, _ = worker._pool(False, DEFAULT_LIMITS, tmp_path, one_thread)
        assert other is not pool, "two workers of one process never share a pool"
        assert other.limits.kernel_threads == 8
        given = GradingLimits(kernel_threads=3)
        assert worker._pool(False, given, tmp_path, two_threads)[0].limits == given, \
            "a number given by the instructor is kept"
        outside, _ = worker._pool(False, DEFAULT_LIMITS, tmp_path)
        assert outside.limits.kernel_threads == 8, "outside any Dask worker the caller grades one at a time"
    finally:
        worker.close_pools()
    assert not list(tmp_path.iterdir()), "close_pools removes the pools' folders"


def test_close_pools_of_one_worker_keeps_the_others(tmp_path):
    first, second = dask_worker("tcp://10.0.0.1:4001", 1), dask_worker("tcp://10.0.0.2:4001", 1)
    try:
        kept, kept_folder = worker._pool(False, DEFAULT_LIMITS, tmp_path, second)
        worker._pool(False, DEFAULT_LIMITS, tmp_path, first)
        worker.close_pools(first)
        assert worker._pool(False, DEFAULT_LIMITS, tmp_path, second)[0] is kept
        assert [path.name for path in tmp_path.iterdir()] == [kept_folder.name]
    finally:
        worker.close_pools()
