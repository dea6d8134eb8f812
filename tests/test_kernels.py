"""dlcourse/instructor/kernels.py's pool: which kernels it warms (a kernel started for nothing costs its
imports' CPU; a missing one makes the next notebook wait). Kernels are stand-ins here, but for the last test
(a real grading kernel is forked from the fork server); the sandbox itself is tested in tests/test_sandbox.py,
tests/test_forkserver.py and through grading."""

import pytest

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


def test_a_sandboxed_grading_kernel_is_forked_and_a_tensorflow_one_still_starts(short_folder):
    from dlcourse.instructor.kernels import GradingKernel
    from dlcourse.instructor.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem and "bwrap" in problem:
        pytest.skip(problem)
    kernel = GradingKernel(short_folder, ["numpy", "dlcourse.checks"], True, DEFAULT_LIMITS)
    try:
        assert kernel.manager.provisioner.kernel is not None, "grading kernels must be forked from the fork server"
        run = kernel.session.run("import numpy, sys\nprint(numpy.ones(3).sum(), 'torch' in sys.modules)", 60)
        assert run.status == "ok" and "3.0" in str(run.outputs), run.outputs
    finally:
        kernel.stop()
    assert list(short_folder.iterdir()) == [], "the kernels' scratch folders must be removed"


# Practical 3's and 5's kind of work: a TF1 graph run in a Session, and a seeded Keras fit.
TENSORFLOW_WORK = """
import os, numpy as np, tensorflow as tf, keras
from keras.src.backend import config
with tf.Graph().as_default() as graph:
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    total = tf.reduce_sum(tf.square(x))
    with tf.compat.v1.Session(graph=graph) as session:
        graph_value = session.run(total, {x: np.ones((2, 3), np.float32)})
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
data = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
loss = model.fit(data, data.sum(axis=1), epochs=2, verbose=0).history["loss"][-1]
print("work", graph_value, repr(loss), config.keras_home().startswith(os.environ["HOME"]))
"""


def test_two_forked_tensorflow_kernels_run_graphs_and_keras_alike_each_with_its_own_keras_home(short_folder):
    from dlcourse.instructor.kernels import GradingKernel
    from dlcourse.instructor.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem and "bwrap" in problem:
        pytest.skip(problem)
    printed = []
    for _ in range(2):
        kernel = GradingKernel(short_folder, ["keras", "numpy", "tensorflow"], True, DEFAULT_LIMITS)
        try:
            assert kernel.manager.provisioner.kernel is not None, "a TensorFlow kernel must be forked too"
            assert "tensorflow" in kernel.manager.fork_server.preload, "the fork server pre-imports TensorFlow"
            run = kernel.session.run(TENSORFLOW_WORK, 120)
            assert run.status == "ok", run.outputs
            stdout = "".join(output.get("text", "") for output in run.outputs if output.get("name") == "stdout")
            printed.append(next((line for line in stdout.splitlines() if line.startswith("work ")), stdout))
        finally:
            kernel.stop()
    assert "work 6.0" in printed[0] and printed[0].endswith("True"), \
        f"a forked kernel's TF1 session, Keras fit or Keras home (not under the kernel's HOME) went wrong: {printed}"
    assert printed[0] == printed[1], f"two forked kernels of one fork server differ on seeded work: {printed}"
    assert list(short_folder.iterdir()) == [], "the kernels' scratch folders must be removed"


@pytest.mark.parametrize("threads", [1, 2])
def test_a_forked_grading_kernel_starts_each_library_pool_at_kernel_threads(short_folder, threads):
    import dataclasses

    from dlcourse.instructor.kernels import GradingKernel
    from dlcourse.instructor.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem and "bwrap" in problem:
        pytest.skip(problem)
    limits = dataclasses.replace(DEFAULT_LIMITS, kernel_threads=threads)
    kernel = GradingKernel(short_folder, ["numpy", "torch"], True, limits)
    try:
        assert kernel.manager.provisioner.kernel is not None, "grading kernels must be forked from the fork server"
        code = ("import os, torch, threadpoolctl\n"
                "blas = {i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'}\n"
                "print('threads', torch.get_num_threads(), sorted(blas), os.environ['TF_NUM_INTRAOP_THREADS'],"
                " os.environ['TF_NUM_INTEROP_THREADS'])")
        run = kernel.session.run(code, 60)
        assert run.status == "ok", run.outputs
        assert f"threads {threads} [{threads}] {threads} {threads}" in str(run.outputs), \
            f"torch, OpenBLAS or TensorFlow's pool does not start at kernel_threads={threads}: {run.outputs}"
    finally:
        kernel.stop()


def test_kernel_threads_zero_is_the_cores_shared_by_the_kernels_at_once(monkeypatch):
    from dlcourse.instructor import config

    monkeypatch.setattr(config.os, "cpu_count", lambda: 8)
    assert config.resolved_kernel_threads(DEFAULT_LIMITS, 2).kernel_threads == 4
    assert config.resolved_kernel_threads(DEFAULT_LIMITS, 16).kernel_threads == 1, "never fewer than one thread"
    given = config.GradingLimits(kernel_threads=3)
    assert config.resolved_kernel_threads(given, 2) == given, "a number given by the instructor is kept"
    assert config.thread_environment(0) == {}, "0 leaves the libraries' defaults"
