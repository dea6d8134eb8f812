"""dlcourse/instructor/kernels.py's pool: which kernels it warms (a kernel started for nothing costs its
imports' CPU; a missing one makes the next notebook wait). Kernels are stand-ins here: the sandboxed ones
are tested in tests/test_sandbox.py and through grading."""

from dlcourse.instructor.config import DEFAULT_LIMITS
from dlcourse.instructor.kernels import KernelPool


class StandIn:
    def __init__(self, preload):
        self.preload, self.stopped = preload, False

    def stop(self):
        self.stopped = True


class RecordingPool(KernelPool):
    """A pool whose kernels are stand-ins; ``started`` lists the preload of each kernel it started."""

    def __init__(self, folder):
        super().__init__(folder, sandboxed=False, limits=DEFAULT_LIMITS)
        self.started = []

    def _start(self, preload):
        self.started.append(preload)
        return StandIn(preload)

    def warming(self):
        with self._lock:
            return sorted(self._warm)


def test_take_warms_the_same_kind_again_by_default(tmp_path):
    pool = RecordingPool(tmp_path)
    kernel = pool.take(["numpy"])
    assert kernel.preload == ("numpy",)
    assert pool.warming() == [("numpy",)], "take() without `then` must keep one kernel of its kind warm"
    assert pool.take(["numpy"]) is not kernel
    pool.close()


def test_take_warms_exactly_what_then_names(tmp_path):
    pool = RecordingPool(tmp_path)
    pool.warm(["numpy"])
    first = pool.take(["numpy"], then=[["torch"]])
    assert first.preload == ("numpy",)
    assert pool.warming() == [("torch",)], pool.warming()
    pool.take(["torch"], then=[])
    assert pool.warming() == [], "after the last job (then=[]) no kernel may be started for nothing"
    assert pool.started == [("numpy",), ("torch",)], f"kernels started: {pool.started}"
    pool.close()


def test_close_stops_the_warm_kernels(tmp_path):
    pool = RecordingPool(tmp_path)
    pool.warm(["numpy"])
    warm = pool._warm[("numpy",)].result()
    pool.close()
    assert warm.stopped, "close() left a warm kernel running"
