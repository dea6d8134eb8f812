"""Tests of dlcourse.instructor.forkserver: a forked grading kernel keeps every guarantee of the sandbox.

The probes are test_sandbox.py's, run in a kernel forked from a fork server (root, libraries imported)
instead of in a process started by bwrap; each guarantee is checked the same way.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dlcourse.instructor import forkserver
from dlcourse.instructor import sandbox as sb
from dlcourse.instructor.forkserver import ForkedSandboxedKernelManager, ForkServer, fork_server
from dlcourse.instructor.sandbox import SandboxLimits, processes_of_uid
from test_sandbox import (CONNECT, COURSE_ENV, LEFTOVERS, LIMITS, PROBE_FILES, REPO, WRITE, _execute,  # noqa: F401
                          tcp_listener, usable)

PRELOAD = ["numpy", "matplotlib.pyplot"]


def _server_importing(tmp_path, source):
    """A fork server whose one preloaded module is ``source`` (written under tmp_path, on its PYTHONPATH)."""
    (tmp_path / "preloaded_probe.py").write_text(textwrap.dedent(source))
    return ForkServer(["preloaded_probe"], dict(os.environ, PYTHONPATH=str(tmp_path)))


def test_a_fork_server_whose_imports_start_a_python_thread_declines(tmp_path):
    server = _server_importing(tmp_path, """
        import threading, time
        threading.Thread(target=time.sleep, args=(60,), name="started-at-import", daemon=True).start()
    """)
    assert not server.ready, "a fork server with a second Python thread must not fork kernels"
    assert any("started-at-import" in hazard for hazard in server.hello["hazards"]), server.hello


def test_a_fork_server_whose_imports_start_tensorflows_runtime_declines(tmp_path):
    server = _server_importing(tmp_path, """
        import tensorflow as tf
        tf.constant(1.0) + 1.0  # creates the eager context and its thread pools
    """)
    assert not server.ready, "a fork server with TensorFlow's runtime started must not fork kernels"
    assert any("TensorFlow's runtime" in hazard for hazard in server.hello["hazards"]), server.hello


def test_tensorflow_and_keras_imported_together_leave_no_hazard():
    server = ForkServer(["keras", "numpy", "tensorflow", "tensorflow.compat.v1"], dict(os.environ))
    try:
        assert server.ready and server.hello["hazards"] == [], server.hello
    finally:
        server.close()


@pytest.fixture
def scratch(tmp_path, usable):  # noqa: F811 - the fixture of test_sandbox.py
    folder = tmp_path / "k"
    folder.mkdir()
    return folder


def _start(scratch, limits=LIMITS, preload=PRELOAD):
    manager = ForkedSandboxedKernelManager(fork_server=None, scratch=str(scratch), limits=limits,
                                           extra_env=COURSE_ENV)
    manager.fork_server = fork_server(preload, manager._open_sandbox().environment())
    assert manager.fork_server is not None, "the fork server did not start"
    manager.start_kernel()
    assert manager.provisioner.kernel is not None, "the kernel was not forked"
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def _stop(manager, client, now=True):
    client.stop_channels()
    manager.shutdown_kernel(now=now)


def _probe(client, probe, *argv):
    """The JSON a test_sandbox.py probe prints, run in the kernel with ``argv``."""
    code = f"import sys\nsys.argv = {['probe', *map(str, argv)]!r}\n" + textwrap.dedent(probe)
    content, printed = _execute(client, code)
    assert content["status"] == "ok", f"the probe failed in the forked kernel: {content}"
    return json.loads(printed.strip().splitlines()[-1])


def test_a_forked_kernel_runs_as_the_private_uid_without_any_capability(scratch):
    probe = """
        import json, os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        try:
            open("/etc/shadow").read()
            shadow = "read"
        except OSError as exc:
            shadow = type(exc).__name__
        print(json.dumps({"uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
                          "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
                          "nnp": status["NoNewPrivs"].strip(), "shadow": shadow, "cwd": os.getcwd(),
                          "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                          "env": dict(os.environ), "sid": os.getsid(0) == os.getpid()}))
    """
    manager, client = _start(scratch)
    try:
        out = _probe(client, probe)
        uid = manager.sandbox.uid
        expected_env = manager.sandbox.environment()
    finally:
        _stop(manager, client)
    assert out["uid"] == [uid] * 3 and out["gid"] == [uid] * 3 and out["groups"] == [], out
    assert uid >= sb.UID_BASE, f"the forked kernel runs as uid {uid}, not a private one"
    assert all(int(value, 16) == 0 for value in out["caps"].values()), f"capabilities left: {out['caps']}"
    assert out["nnp"] == "1", "no_new_privs is not set in the forked kernel"
    assert out["shadow"] == "PermissionError", f"/etc/shadow: {out['shadow']}"
    assert out["cwd"] == str(scratch) and out["sid"], out
    # bwrap's init, the placeholder and the kernel: nothing of the host, not the fork server
    assert len(out["pids"]) <= 3, f"the forked kernel sees other processes: {out['pids']}"
    leaked = {k: v for k, v in out["env"].items() if expected_env.get(k) != v and not k.startswith(
        ("JPY_", "PYDEVD", "MPLBACKEND", "CLICOLOR", "FORCE_COLOR", "TERM", "PAGER", "GIT_PAGER"))}
    assert not leaked, f"the forked kernel's environment is not the sandbox's: {leaked}"
    assert out["env"]["HOME"] == os.path.join(str(scratch), ".sandbox"), out["env"]["HOME"]


def test_a_forked_kernels_collector_skips_the_fork_servers_imports(scratch):
    """The fork server freezes what its imports made (gc.freeze): the kernel inherits them in the permanent
    generation, which its collections never walk; what the kernel makes afterwards is collected as usual."""
    probe = """
        import gc, json, numpy, weakref
        class Cycle:
            pass
        made = Cycle()
        made.me, alive = made, weakref.ref(made)
        del made
        gc.collect()
        print(json.dumps({"frozen": gc.get_freeze_count(), "numpy_tracked": gc.is_tracked(numpy.__dict__),
                          "numpy_in_generations": any(o is numpy.__dict__ for o in gc.get_objects()),
                          "cycle_collected": alive() is None}))
    """
    manager, client = _start(scratch)
    try:
        out = _probe(client, probe)
        hello = manager.fork_server.hello
    finally:
        _stop(manager, client)
    # numpy and matplotlib.pyplot alone make far more than 10,000 objects
    assert hello["frozen"] > 10_000 and out["frozen"] > 10_000, (hello["frozen"], out)
    assert out["numpy_tracked"] and not out["numpy_in_generations"], \
        f"numpy's module dict, imported by the fork server, is still walked by the kernel's collector: {out}"
    assert out["cycle_collected"], "a reference cycle the kernel made was not collected"


def test_a_forked_kernel_sees_only_the_sandbox_and_writes_only_its_scratch_folder(scratch, tmp_path):
    hidden = tmp_path / "source" / "01_graph" / "01_graph.ipynb"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{}")
    paths = [hidden, hidden.parent.parent, REPO / "source", REPO / "solutions", REPO / "nbgrader_config.py",
             Path("/sys/fs/cgroup"), Path("/run"), Path(forkserver.__file__).parent.parent.parent / "gradebook.db"]
    marker = f"forked-marker-{os.getpid()}-{time.time_ns()}"
    targets = [REPO / marker, Path(sys.prefix) / marker, Path(sb.default_package_folder()) / marker,
               tmp_path / marker, Path("/etc") / marker, Path("/tmp") / marker, scratch / "mine.txt"]
    manager, client = _start(scratch)
    try:
        seen = _probe(client, PROBE_FILES, *paths)
        written = _probe(client, WRITE, *targets)
        cached = _probe(client, "import json, matplotlib\nprint(json.dumps(matplotlib.get_cachedir()))")
    finally:
        _stop(manager, client)
    try:
        assert not [p for p, exists in seen.items() if exists], f"visible in the forked kernel: {seen}"
        outside = [p for p in map(str, targets[:5]) if written[p] == "written"]
        assert not outside, f"the forked kernel wrote outside its scratch folder: {outside}"
        assert written[str(Path("/tmp") / marker)] == "written" and not (Path("/tmp") / marker).exists(), \
            "the forked kernel's /tmp is not its own"
        assert (scratch / "mine.txt").read_text() == "x"
        assert cached.startswith(str(scratch)), f"matplotlib still caches in the fork server's HOME: {cached}"
    finally:
        for path in targets[:6]:
            if path.exists():
                path.unlink()


def test_a_forked_kernel_has_no_network(scratch):
    server, accepted = tcp_listener()
    manager, client = _start(scratch)
    try:
        inside = _probe(client, CONNECT, server.getsockname()[1])
    finally:
        _stop(manager, client)
        server.close()
    assert inside["tcp"] != "connected" and not accepted, f"the forked kernel reached the host: {inside}"
    assert inside["dns"].startswith("failed"), f"DNS resolved in the forked kernel: {inside['dns']}"


def test_a_forked_kernel_has_the_sandbox_limits_and_cgroups(scratch):
    limits = SandboxLimits(memory_bytes=2**30, file_size_bytes=2**20, max_processes=200)
    probe = """
        import json, resource
        print(json.dumps({name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))
                          for name in ("fsize", "core", "nproc")}))
    """
    manager, client = _start(scratch, limits=limits)
    try:
        out = _probe(client, probe)
        members = manager.sandbox._cgroups.pids() if manager.sandbox._cgroups else None
        kernel = manager.kernel_pid()
    finally:
        _stop(manager, client)
    assert out == {"fsize": [2**20, 2**20], "core": [0, 0], "nproc": [200, 200]}, out
    if members is not None:
        assert kernel in members, f"the forked kernel {kernel} is not in its sandbox's cgroups {members}"


def test_a_forked_kernel_is_interrupted_and_its_death_diagnosed(scratch):
    manager, client = _start(scratch)
    try:
        message_id = client.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(100)",
                                    stop_on_error=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") == message_id and message["msg_type"] == "stream":
                break
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=10)
        assert reply["content"].get("ename") == "KeyboardInterrupt", f"not interrupted: {reply['content']}"
        client.execute("import os\nos._exit(3)")
        deadline = time.monotonic() + 30
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not manager.is_alive(), "a forked kernel that exited still counts as alive"
        assert manager.diagnosis() == "exit code 3", manager.diagnosis()
    finally:
        _stop(manager, client)


@pytest.mark.parametrize("now", [False, True], ids=["shutdown", "kill"])
def test_no_process_survives_a_forked_kernel(scratch, now):
    manager, client = _start(scratch)
    try:
        content, _ = _execute(client, LEFTOVERS)
        assert content["status"] == "ok", content
        uid = manager.sandbox.uid
        started = processes_of_uid(uid)
        assert len(started) >= 67, f"the test's processes did not start: {len(started)}"
    finally:
        _stop(manager, client, now=now)
    deadline = time.monotonic() + 5
    while processes_of_uid(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_of_uid(uid), "processes of a forked kernel survived its shutdown"


def test_a_forked_kernel_out_of_memory_is_diagnosed(scratch):
    limits = SandboxLimits(memory_bytes=512 * 2**20, file_size_bytes=2**20)
    manager, client = _start(scratch, limits=limits)
    try:
        client.execute("x = b'x' * 2**32")
        deadline = time.monotonic() + 60
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not manager.is_alive(), "the forked kernel survived a 4 GB allocation under a 0.5 GB limit"
    finally:
        _stop(manager, client)
    if "memory: cgroup" in sb.sandbox_mechanisms():
        assert manager.diagnosis() == "out of memory (limit 0.5 GB)", manager.diagnosis()


def test_two_forked_kernels_do_not_see_each_other(tmp_path, usable):  # noqa: F811
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    (folders[1] / "answer.txt").write_text("b's answer")
    first, first_client = _start(folders[0])
    second, second_client = _start(folders[1])
    try:
        seen = _probe(first_client, PROBE_FILES, folders[1] / "answer.txt", folders[1])
        pids = _probe(second_client, "import json, os\nprint(json.dumps(sorted(p for p in os.listdir('/proc') "
                                     "if p.isdigit())))")
        assert first.sandbox.uid != second.sandbox.uid, "two kernels share a uid"
    finally:
        _stop(first, first_client)
        _stop(second, second_client)
    assert not any(seen.values()), f"a forked kernel sees another's scratch folder: {seen}"
    assert len(pids) <= 3, f"a forked kernel sees other processes: {pids}"


GRADER = """
import sys, time
from dlcourse.instructor.forkserver import ForkedSandboxedKernelManager, fork_server
from dlcourse.instructor.sandbox import SandboxLimits
manager = ForkedSandboxedKernelManager(fork_server=None, scratch=sys.argv[1],
                                       limits=SandboxLimits(memory_bytes=2**30, file_size_bytes=2**20))
manager.fork_server = fork_server(["numpy"], manager._open_sandbox().environment())
manager.start_kernel()
print(manager.sandbox.uid, manager.fork_server.process.pid, flush=True)
time.sleep(600)
"""


def test_a_forked_kernel_and_its_fork_server_die_with_the_grader(scratch):
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(scratch)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        uid, server = map(int, grader.stdout.readline().split())
        assert processes_of_uid(uid), "the forked kernel did not start"
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=10)
    deadline = time.monotonic() + 5
    while (processes_of_uid(uid) or sb._status(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_of_uid(uid), "a forked kernel outlived the grader killed by SIGKILL"
    assert sb._status(server) is None, "the fork server outlived the grader killed by SIGKILL"


def test_an_edited_course_helper_gets_a_new_fork_server(usable, monkeypatch):  # noqa: F811
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": "/nonexistent"}
    first = fork_server(["numpy"], env)
    assert fork_server(["numpy"], env) is first, "the same libraries and code must share one fork server"
    fingerprint = forkserver._course_code_fingerprint()
    monkeypatch.setattr(forkserver, "_course_code_fingerprint", lambda: fingerprint + (("edited", 1, 1),))
    second = fork_server(["numpy"], env)
    assert second is not None and second is not first, "a fork server with old course code was reused"
    assert first.ready, "the old fork server was stopped: its running kernels would die with it"


def test_a_kernel_that_cannot_be_forked_is_started_by_exec_in_its_sandbox(scratch, monkeypatch, capfd):
    def refuse(*_args, **_kwargs):
        raise forkserver.ForkServerError("setns: Invalid argument (as on a Linux older than 5.8)")

    monkeypatch.setattr(forkserver.ForkServer, "start", refuse)
    manager, client = _start_by_exec_fallback(scratch)
    try:
        out = _probe(client, "import json, os\nprint(json.dumps([os.getuid(), os.getcwd()]))")
        uid = manager.sandbox.uid
    finally:
        _stop(manager, client)
    assert out == [uid, str(scratch)], f"the kernel started by exec is not in its sandbox: {out}"
    assert "could not be forked, so it is started by exec" in capfd.readouterr().err
    assert not processes_of_uid(uid), "the fallback kernel or the placeholder outlived the shutdown"


def _start_by_exec_fallback(scratch):
    manager = ForkedSandboxedKernelManager(fork_server=None, scratch=str(scratch), limits=LIMITS, extra_env=COURSE_ENV)
    manager.fork_server = fork_server(PRELOAD, manager._open_sandbox().environment())
    manager.start_kernel()
    assert manager.provisioner.kernel is None, "the kernel counts as forked although the fork was refused"
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client
