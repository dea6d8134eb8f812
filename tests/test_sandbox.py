"""Tests of dlcourse.instructor.sandbox: its command line (no bwrap needed), then the real sandbox.

The real-sandbox tests skip only where bwrap is missing (CI installs it, see .ci/run); anywhere else
a sandbox that cannot start is a failure whose message is sandbox_problem()'s.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync as ensure_sync
from nbclient import NotebookClient

from dlcourse.instructor import sandbox as sb
from dlcourse.instructor.sandbox import (AsyncSandboxedKernelManager, Sandbox, SandboxedKernelManager, SandboxError,
                                         SandboxLimits, bwrap_argv, launcher_argv, processes_of_uid, run)

LIMITS = SandboxLimits(memory_bytes=2**30, file_size_bytes=2**20, max_processes=256)
REPO = Path(sb.default_package_folder()).parent
# The course kernel's environment (what dlcourse's registered kernel sets).
COURSE_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow",
              "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


# ----------------------------------------------------------------------------------------------
# The command line, without running it
# ----------------------------------------------------------------------------------------------

def _argv(scratch="/tmp/grading/alice/scratch", read_only=("/root/.pyenv/versions/3.11.7", "/work/course/.venv",
                                                             "/work/course/dlcourse", "/work/course/data")):
    return bwrap_argv(["python", "-c", "pass"], bwrap="/usr/bin/bwrap", setpriv="/usr/bin/setpriv",
                      scratch=scratch, read_only=list(read_only), env={"HOME": scratch, "B": "2", "A": "1"},
                      cwd=scratch, uid=2_000_000_007, passwd_file="/run/x/passwd", group_file="/run/x/group",
                      tmp_size=2**30)


def _position(argv, *sequence):
    """Index of the first occurrence of ``sequence`` as consecutive items of argv (or fail)."""
    for index in range(len(argv) - len(sequence) + 1):
        if tuple(argv[index:index + len(sequence)]) == sequence:
            return index
    raise AssertionError(f"{' '.join(sequence)!r} is not in the bwrap command line: {argv}")


def test_bwrap_mounts_tmp_before_the_folders_and_binds_under_it():
    argv = _argv()
    tmpfs = _position(argv, "--tmpfs", "/tmp")
    folder = _position(argv, "--perms", "0755", "--dir", "/tmp/grading")
    inner = _position(argv, "--perms", "0755", "--dir", "/tmp/grading/alice")
    bind = _position(argv, "--bind", "/tmp/grading/alice/scratch", "/tmp/grading/alice/scratch")
    assert tmpfs < folder < inner < bind, "order must be --tmpfs /tmp, then the folders under it, then the bind"


def test_bwrap_creates_passable_folders_for_binds_under_private_ones():
    argv = _argv()
    for folder in ("/root", "/root/.pyenv", "/root/.pyenv/versions", "/work", "/work/course"):
        position = _position(argv, "--perms", "0755", "--dir", folder)
        assert position < _position(argv, "--ro-bind", "/work/course/.venv", "/work/course/.venv"), \
            f"{folder} must be created (mode 0755, for the unprivileged uid) before the binds"
    assert "/work/course/.venv" not in [argv[i + 1] for i, a in enumerate(argv) if a == "--dir"], \
        "a bound folder itself must not be created as an empty folder"
    for path in ("/root/.pyenv/versions/3.11.7", "/work/course/.venv", "/work/course/dlcourse", "/work/course/data"):
        _position(argv, "--ro-bind", path, path)


def test_bwrap_binds_a_parent_before_what_is_bound_inside_it():
    argv = _argv(read_only=("/opt/course/data", "/opt/course"))
    assert _position(argv, "--ro-bind", "/opt/course", "/opt/course") < \
        _position(argv, "--ro-bind", "/opt/course/data", "/opt/course/data"), "a later bind hides an earlier one"
    assert "/opt/course" not in [argv[i + 1] for i, a in enumerate(argv) if a == "--dir"]


def test_bwrap_skips_binds_already_visible_under_usr():
    argv = _argv(read_only=("/usr", "/usr/lib/python3.11"))
    assert argv.count("--ro-bind") == argv[:_position(argv, "--chdir")].count("--ro-bind")
    assert "/usr/lib/python3.11" not in argv, "a folder under the read-only /usr needs no bind of its own"


def test_bwrap_has_no_user_namespace_and_drops_root_inside():
    argv = _argv()
    for option in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                   "--new-session"):
        assert option in argv, f"{option} is missing"
    assert "--unshare-all" not in argv and "--unshare-user" not in argv and "--unshare-user-try" not in argv, \
        "a user namespace keeps the command host uid 0 (and setpriv cannot switch uid in it)"
    separator = argv.index("--")
    assert argv[separator + 1:separator + 8] == [
        "/usr/bin/setpriv", "--reuid=2000000007", "--regid=2000000007", "--clear-groups", "--inh-caps=-all",
        "--bounding-set=-all", "--no-new-privs"]
    assert argv[-3:] == ["python", "-c", "pass"]


def test_bwrap_clears_the_environment_before_setting_it():
    argv = _argv()
    assert _position(argv, "--clearenv") < _position(argv, "--setenv", "A", "1") < _position(argv, "--setenv", "B", "2")
    assert _position(argv, "--chdir", "/tmp/grading/alice/scratch") < argv.index("--")


def test_launcher_joins_cgroups_before_limits_and_bwrap():
    prefix = launcher_argv(["/cg/memory/x/cgroup.procs", "/cg/pids/x/cgroup.procs"], {"nproc": 9, "fsize": 5},
                           "/usr/bin/prlimit")
    assert prefix[:2] == ["/bin/sh", "-c"]
    join_end = prefix.index("--")
    assert prefix[4:join_end] == ["/cg/memory/x/cgroup.procs", "/cg/pids/x/cgroup.procs"]
    assert prefix[join_end + 1:] == ["/usr/bin/prlimit", "--fsize=5", "--nproc=9", "--"]
    assert launcher_argv([], {"as": 3}, "/usr/bin/prlimit") == ["/usr/bin/prlimit", "--as=3", "--"], \
        "without cgroups there is nothing to join: no shell"


def test_limits_are_checked_and_named():
    with pytest.raises(ValueError, match="memory_bytes"):
        SandboxLimits(memory_bytes=0, file_size_bytes=1)
    with pytest.raises(ValueError, match="max_processes"):
        SandboxLimits(memory_bytes=1, file_size_bytes=1, max_processes=-3)
    assert SandboxLimits(memory_bytes=6 * 2**30, file_size_bytes=1).memory_text == "6 GB"


def test_scratch_folders_that_would_expose_more_are_refused(tmp_path):
    (tmp_path / "inner").mkdir()
    with pytest.raises(SandboxError, match="holds"):
        Sandbox(tmp_path, LIMITS, extra_read_only=[str(tmp_path / "inner")]).open()
    with pytest.raises(SandboxError, match="folder of its own"):
        Sandbox("/tmp", LIMITS).open()
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    with pytest.raises(SandboxError, match="too long"):
        Sandbox(deep, LIMITS).open()


@pytest.mark.parametrize("returncode, expected", [
    (0, "exited normally"), (1, "exit code 1"), (128 + 11, "killed by signal SIGSEGV"),
    (-9, "killed by signal SIGKILL"), (None, "still running")])
def test_diagnosis_from_the_exit_status_without_cgroups(tmp_path, returncode, expected):
    box = Sandbox(tmp_path, LIMITS, cgroups=False)
    diagnosis = box.diagnose(returncode)
    assert diagnosis.startswith(expected), diagnosis
    if returncode in (128 + 11, -9):
        assert "perhaps the memory limit of 1 GB" in diagnosis, "without a memory cgroup a crash may be memory"


def test_cgroup_v2_files_are_written_as_the_kernel_expects(tmp_path, monkeypatch):
    # These machines have cgroup v1 (tested for real below); a v2 host is imitated by a plain folder.
    monkeypatch.setattr(sb, "_cgroup_mounts", lambda: {c: (2, tmp_path, "/") for c in sb.CONTROLLERS})
    limits = SandboxLimits(memory_bytes=3 * 2**30, file_size_bytes=1, max_processes=77)
    cgroups = sb._Cgroups("dlcourse-sandbox-2000000005", limits)
    folder = tmp_path / "dlcourse-sandbox" / "dlcourse-sandbox-2000000005"
    assert cgroups.folders == {"memory": folder, "pids": folder, "cpu": folder} and not cgroups.problems
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (folder.parent / "cgroup.subtree_control").read_text() == "+memory +pids +cpu", \
        "the group above the sandboxes must hand the controllers down"
    assert (folder / "memory.max").read_text() == str(3 * 2**30) and (folder / "pids.max").read_text() == "77"
    assert cgroups.procs_files == [str(folder / "cgroup.procs")], "one v2 folder is joined once"
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (folder / "memory.peak").write_text("123\n")
    (folder / "pids.events").write_text("max 5\n")
    assert cgroups.usage() == sb.SandboxUsage(oom_kills=1, memory_peak_bytes=123, process_limit_hits=5,
                                              process_peak=None)


def test_missing_bwrap_is_a_refusal_that_says_how_to_fix_it(monkeypatch):
    real_tool = sb._tool
    monkeypatch.setattr(sb, "_tool", lambda name: None if name == "bwrap" else real_tool(name))
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    assert sb.sandbox_problem() == "bwrap not found: apt-get install bubblewrap"


# ----------------------------------------------------------------------------------------------
# The real sandbox
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def usable():
    if shutil.which("bwrap") is None:
        pytest.skip("bwrap is not installed (apt-get install bubblewrap; .ci/run installs it)")
    problem = sb.sandbox_problem()
    assert problem is None, f"the sandbox cannot start: {problem}"


@pytest.fixture
def scratch(tmp_path, usable):
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def run_python(code, scratch, limits=LIMITS, **options):
    return run([sys.executable, "-c", textwrap.dedent(code)], scratch, limits, **options)


def _json(result):
    assert result.returncode == 0, f"the probe failed inside the sandbox ({result.diagnosis}): {result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


CONNECT = """
    import json, socket, sys
    out = {}
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
        out["tcp"] = "connected"
    except OSError as exc:
        out["tcp"] = repr(exc)
    try:
        out["dns"] = socket.getaddrinfo("pypi.org", 443)[0][4][0]
    except OSError as exc:
        out["dns"] = "failed: " + repr(exc)
    print(json.dumps(out))
"""


def tcp_listener():
    """A TCP server of the host on 127.0.0.1 that accepts in the background: (its socket, the addresses it
    accepted). Close the socket to stop it."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        try:
            while True:
                connection, address = server.accept()
                accepted.append(address)
                connection.close()
        except OSError:
            pass
    threading.Thread(target=serve, daemon=True).start()
    return server, accepted


def test_no_network_tcp_to_the_host_and_dns_fail(scratch):
    server, accepted = tcp_listener()
    port = server.getsockname()[1]
    try:
        outside = subprocess.run([sys.executable, "-c", textwrap.dedent(CONNECT), str(port)], capture_output=True,
                                 text=True, timeout=30)
        assert json.loads(outside.stdout)["tcp"] == "connected", "the probe itself is broken: no connection outside"
        accepted.clear()
        inside = _json(run([sys.executable, "-c", textwrap.dedent(CONNECT), str(port)], scratch, LIMITS, timeout=60))
    finally:
        server.close()
    assert inside["tcp"] != "connected" and not accepted, f"the sandbox reached a TCP server of the host: {inside}"
    assert inside["dns"].startswith("failed"), f"DNS resolved inside the sandbox: {inside['dns']}"


PROBE_FILES = """
    import json, os, sys
    print(json.dumps({path: os.path.exists(path) for path in sys.argv[1:]}))
"""


def test_planted_files_outside_the_scratch_folder_are_invisible(tmp_path, scratch):
    key = tmp_path / "home" / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text("-----BEGIN FAKE KEY-----\n")
    hidden = tmp_path / "source" / "01_graph" / "01_graph.ipynb"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{}")
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("")
    paths = [key, key.parent, hidden, hidden.parent.parent, gradebook, REPO / "source", REPO / "nbgrader_config.py",
             REPO / "solutions", Path.home() / ".bash_history", Path("/sys/fs/cgroup"), Path("/run")]
    seen = _json(run([sys.executable, "-c", textwrap.dedent(PROBE_FILES), *map(str, paths)], scratch, LIMITS))
    visible = [path for path, exists in seen.items() if exists]
    assert not visible, f"visible inside the sandbox: {visible}"


def test_only_the_way_to_the_binds_is_visible_in_the_repository_and_home(scratch):
    probe = """
        import json, os, sys
        print(json.dumps({folder: sorted(os.listdir(folder)) for folder in sys.argv[1:]}))
    """
    listed = _json(run([sys.executable, "-c", textwrap.dedent(probe), str(REPO), str(Path.home())], scratch, LIMITS))
    binds = [os.path.abspath(p) for p in (sys.base_prefix, sys.prefix, sb.default_package_folder(),
                                          sb.default_data_folder())]
    for folder, names in listed.items():
        for name in names:
            path = os.path.join(folder, name)
            assert any(b == path or b.startswith(path + "/") for b in binds), \
                f"{path} is visible inside the sandbox but leads to no read-only bind"


WRITE = """
    import json, os, sys
    out = {}
    for path in sys.argv[1:]:
        try:
            with open(path, "w") as handle:
                handle.write("x")
            out[path] = "written"
        except OSError as exc:
            out[path] = type(exc).__name__
    print(json.dumps(out))
"""


def test_writes_outside_the_scratch_folder_fail(scratch, tmp_path):
    marker = f"sandbox-marker-{os.getpid()}-{time.time_ns()}"
    targets = [REPO / marker, Path(sys.prefix) / marker, Path(sb.default_package_folder()) / marker,
               Path(sb.default_data_folder()) / marker, Path.home() / marker, tmp_path / marker,
               Path("/etc") / marker, Path("/usr") / marker]
    inside = [scratch / "mine.txt", Path("/tmp") / marker]
    try:
        out = _json(run([sys.executable, "-c", textwrap.dedent(WRITE), *map(str, targets + inside)], scratch, LIMITS))
        written = [path for path in map(str, targets) if out[path] == "written"]
        assert not written, f"the sandbox wrote outside its scratch folder: {written}"
        assert out[str(scratch / "mine.txt")] == "written", f"cannot write in the scratch folder: {out}"
        assert (scratch / "mine.txt").read_text() == "x"
        assert out[str(Path("/tmp") / marker)] == "written", "the private /tmp must be writable"
        assert not (Path("/tmp") / marker).exists(), "the sandbox's /tmp is the host's /tmp"
        assert (scratch / "mine.txt").stat().st_uid == os.getuid(), "the scratch folder is given back after close"
    finally:
        for path in targets + [Path("/tmp") / marker]:
            if path.exists():
                path.unlink()


def test_runs_as_an_unprivileged_uid_without_capabilities(scratch):
    probe = """
        import json, os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        try:
            open("/etc/shadow").read()
            shadow = "read"
        except OSError as exc:
            shadow = type(exc).__name__
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
        print(json.dumps({"uid": os.getuid(), "cap": status["CapEff"].strip(), "shadow": shadow, "pids": pids,
                          "user": os.environ.get("USER"), "env": sorted(os.environ)}))
    """
    out = _json(run_python(probe, scratch))
    assert out["uid"] >= sb.UID_BASE, f"the sandbox runs as uid {out['uid']}, not a private one"
    assert int(out["cap"], 16) == 0, f"capabilities left inside: {out['cap']}"
    assert out["shadow"] == "PermissionError", f"/etc/shadow: {out['shadow']}"
    assert len(out["pids"]) <= 3, f"the sandbox sees other processes: {out['pids']}"
    assert "PYTEST_CURRENT_TEST" not in out["env"], "the grader's environment leaked into the sandbox"


def test_another_sandbox_and_its_scratch_folder_are_invisible(tmp_path, usable):
    first, second = tmp_path / "alice", tmp_path / "bob"
    first.mkdir()
    second.mkdir()
    (first / "answer.py").write_text("secret = 42\n")
    with Sandbox(first, LIMITS) as alice:
        sleeper = subprocess.Popen(alice.command(["sleep", "60"]), start_new_session=True)
        alice.watch(sleeper.pid)
        try:
            with Sandbox(second, LIMITS) as bob:
                assert bob.uid != alice.uid, "two sandboxes at once must not share a uid"
                assert set(bob._cgroups.folders.values()).isdisjoint(alice._cgroups.folders.values()), \
                    "two sandboxes at once must not share a cgroup"
            probe = """
                import json, os, sys
                procs = [name for name in os.listdir("/proc") if name.isdigit()]
                print(json.dumps({"exists": os.path.exists(sys.argv[1]), "procs": procs}))
            """
            out = _json(run([sys.executable, "-c", textwrap.dedent(probe), str(first / "answer.py")], second, LIMITS))
            assert not out["exists"], "a sandbox sees another sandbox's scratch folder"
            assert len(out["procs"]) <= 3, f"a sandbox sees another's processes: {out['procs']}"
        finally:
            alice.close()
            sleeper.wait(timeout=10)


def test_a_memory_blow_up_is_diagnosed_as_memory(scratch):
    limits = SandboxLimits(memory_bytes=256 * 2**20, file_size_bytes=2**20)
    result = run_python("x = b'x' * 2**31", scratch, limits, timeout=60)
    assert result.returncode != 0
    mechanisms = sb.sandbox_mechanisms()
    if "cgroup v1 memory" in mechanisms or "cgroup v2 memory" in mechanisms:
        assert result.diagnosis == "out of memory (limit 0.25 GB)", result.diagnosis
        assert result.usage.oom_kills >= 1
    else:
        assert "MemoryError" in result.stderr, result.stderr


def test_rlimit_as_is_the_memory_limit_without_cgroups(scratch):
    limits = SandboxLimits(memory_bytes=256 * 2**20, file_size_bytes=2**20)
    result = run_python("x = b'x' * 2**31", scratch, limits, timeout=60, cgroups=False)
    assert "MemoryError" in result.stderr, f"RLIMIT_AS did not stop the blow-up: {result.diagnosis} {result.stderr}"


def test_a_ten_gigabyte_sparse_file_cannot_be_written(scratch):
    probe = """
        import json
        try:
            with open("sparse.bin", "wb") as handle:
                handle.seek(10 * 2**30)
                handle.write(b"x")
            out = "written"
        except OSError as exc:
            out = exc.strerror
        print(json.dumps(out))
    """
    assert _json(run_python(probe, scratch)) == "File too large", "RLIMIT_FSIZE did not stop a 10 GB file"
    assert (scratch / "sparse.bin").stat().st_size <= LIMITS.file_size_bytes


BOMB = """
    import os, time
    end = time.time() + 30  # bounded, should the test fail to kill it
    while time.time() < end:
        try:
            os.fork()
        except OSError:
            pass
"""


@pytest.mark.parametrize("cgroups", [True, False], ids=["pids-cgroup", "rlimit-nproc-only"])
def test_a_fork_bomb_is_stopped_and_the_host_stays_responsive(tmp_path, usable, cgroups):
    limits = SandboxLimits(memory_bytes=2**30, file_size_bytes=2**20, max_processes=64)
    with Sandbox(tmp_path, limits, cgroups=cgroups) as box:
        bomb = subprocess.Popen(box.command([sys.executable, "-c", textwrap.dedent(BOMB)]), start_new_session=True,
                                stderr=subprocess.DEVNULL)
        box.watch(bomb.pid)
        try:
            time.sleep(1.5)
            worst = 0.0
            most = 0
            for _ in range(3):
                start = time.perf_counter()
                subprocess.run(["true"], check=True, timeout=30)
                worst = max(worst, time.perf_counter() - start)
                most = max(most, len(processes_of_uid(box.uid)))
                time.sleep(0.3)
            assert bomb.poll() is None, "the bomb ended by itself: the test proves nothing"
            assert worst < 2.0, f"the host stalled: starting 'true' took {worst:.2f} s during the fork bomb"
            assert most <= limits.max_processes, f"{most} processes ran despite the limit of {limits.max_processes}"
            assert most >= limits.max_processes // 2, f"only {most} processes: the bomb did not run"
        finally:
            box.close()
            bomb.wait(timeout=10)
        if cgroups:
            assert box.usage.process_limit_hits > 0, "the pids cgroup counted no refused fork"
        assert not processes_of_uid(box.uid or sb.UID_BASE - 1), "processes of the bomb outlived the sandbox"


GRADER = """
import subprocess, sys, time
from dlcourse.instructor.sandbox import Sandbox, SandboxLimits
box = Sandbox(sys.argv[1], SandboxLimits(memory_bytes=2**30, file_size_bytes=2**20)).open()
sleeper = subprocess.Popen(box.command(["sh", "-c", "sleep 600 & sleep 600"]))
print(box.uid, flush=True)
time.sleep(600)
"""


def test_the_sandbox_dies_with_the_grader(scratch):
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(scratch)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        uid = int(grader.stdout.readline())
        deadline = time.monotonic() + 30
        while len(processes_of_uid(uid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(processes_of_uid(uid)) >= 3, "the sandbox's sleepers did not start"
    finally:
        grader.kill()
        grader.wait(timeout=10)
    deadline = time.monotonic() + 5
    while processes_of_uid(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_of_uid(uid), "processes of the sandbox outlived the grader killed by SIGKILL"


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------

def _start(scratch, **traits):
    manager = SandboxedKernelManager(scratch=str(scratch), limits=traits.pop("limits", LIMITS), **traits)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=90)
    return manager, client


def _execute(client, code, timeout=60):
    """(reply content, text printed) of one execute_request."""
    printed = []

    def hook(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "execute_result":
            printed.append(message["content"]["data"]["text/plain"])
    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    return reply["content"], "".join(printed)


def _wait_for_output(client, message_id, text, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = client.get_iopub_msg(timeout=timeout)
        if (message["parent_header"].get("msg_id") == message_id and message["msg_type"] == "stream"
                and text in message["content"]["text"]):
            return
    raise AssertionError(f"the kernel did not print {text!r} within {timeout} s")


def test_a_kernel_runs_is_interrupted_and_shut_down(scratch):
    manager, client = _start(scratch)
    try:
        content, printed = _execute(client, "import os\nprint(os.getcwd())\n1 + 1")
        assert content["status"] == "ok" and printed.split() == [str(scratch), "2"], printed
        # stop_on_error=False: else ipykernel aborts the requests that follow the interrupted one
        message_id = client.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(100)",
                                    stop_on_error=False)
        _wait_for_output(client, message_id, "sleeping")  # the cell runs: the interrupt cannot come early
        start = time.perf_counter()
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=10)
        elapsed = time.perf_counter() - start
        assert reply["content"].get("ename") == "KeyboardInterrupt", f"not interrupted: {reply['content']}"
        assert elapsed < 5, f"the interrupt took {elapsed:.1f} s"
        content, printed = _execute(client, "2 + 2")
        assert printed == "4", f"the kernel does not work after the interrupt: {content}"
        uid = manager.sandbox.uid
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert not processes_of_uid(uid), "the kernel outlived its shutdown"
    assert manager.diagnosis() == "exited normally", manager.diagnosis()


LEFTOVERS = """
import os, subprocess, sys, time
sleepers = [subprocess.Popen(["sleep", "1000"]) for _ in range(64)]
if os.fork() == 0:                      # a daemon: double fork and setsid
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "1001"])
    os._exit(0)
# Python re-exec'ed with an empty environment, in a session of its own
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1002)"], env={},
                 start_new_session=True)
time.sleep(1.0)
print(len(sleepers))
"""


@pytest.mark.parametrize("now", [False, True], ids=["shutdown", "kill"])
def test_no_process_survives_the_kernel(scratch, now):
    manager, client = _start(scratch)
    try:
        content, printed = _execute(client, LEFTOVERS)
        assert content["status"] == "ok", content
        uid = manager.sandbox.uid
        folders = list(manager.sandbox._cgroups.folders.values())
        started = processes_of_uid(uid)
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in started]
        assert len(started) >= 67, f"the test's processes did not start: {len(started)}"
        assert any(b"1001" in c for c in commands) and any(b"1002" in c for c in commands), commands
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=now)
    alive = [pid for pid in started if sb._status(pid) is not None]
    assert not alive, f"{len(alive)} processes of the kernel survived its shutdown"
    assert not processes_of_uid(uid), "processes of the sandbox's uid survived"
    assert not [folder for folder in folders if folder.exists()], "the sandbox's cgroups were not removed"


def test_a_kernel_that_runs_out_of_memory_is_diagnosed(scratch):
    limits = SandboxLimits(memory_bytes=512 * 2**20, file_size_bytes=2**20)
    manager, client = _start(scratch, limits=limits)
    try:
        client.execute("x = b'x' * 2**32")
        deadline = time.monotonic() + 60
        while manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not manager.is_alive(), "the kernel survived a 4 GB allocation under a 0.5 GB limit"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    if "memory: cgroup" in sb.sandbox_mechanisms():
        assert manager.diagnosis() == "out of memory (limit 0.5 GB)", manager.diagnosis()


@pytest.mark.parametrize("manager_class", [SandboxedKernelManager, AsyncSandboxedKernelManager])
def test_nbclient_runs_a_notebook_in_a_prewarmed_kernel(scratch, tmp_path, manager_class):
    manager = manager_class(scratch=str(scratch), limits=LIMITS, extra_env=COURSE_ENV)
    if manager_class is SandboxedKernelManager:
        manager.start_kernel()  # pre-warmed: started before the submission's files arrive
    submission = tmp_path / "submitted"
    submission.mkdir()
    (submission / "answer.txt").write_text("forty-two")
    shutil.copy(submission / "answer.txt", scratch / "answer.txt")
    manager.hand_over(scratch / "answer.txt")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nprint(os.getcwd(), os.environ['KERAS_BACKEND'])"),
        nbformat.v4.new_code_cell("print(open('answer.txt').read())"),
        nbformat.v4.new_code_cell("with open('answer.txt', 'a') as f:\n    f.write('!')\n"
                                  "open('out.txt', 'w').write('done')"),
    ])
    try:
        NotebookClient(notebook, km=manager, timeout=60).execute()
        uid = manager.sandbox.uid
    finally:
        # nbclient shuts down only the managers it created
        if manager_class is AsyncSandboxedKernelManager:
            ensure_sync(manager.shutdown_kernel)()
        else:
            manager.shutdown_kernel()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert texts[0].split() == [str(scratch), "tensorflow"], texts[0]
    assert texts[1].strip() == "forty-two", "a file copied in after the start is not visible"
    assert (scratch / "out.txt").read_text() == "done" and (scratch / "answer.txt").read_text() == "forty-two!"
    assert not manager.sandbox.is_open and not processes_of_uid(uid), "shutdown_kernel left the sandbox open"


@pytest.mark.slow
def test_the_course_libraries_and_data_work_inside(scratch):
    probe = """
        import json
        import numpy, torch, tensorflow, matplotlib.pyplot
        import dlcourse, dlcourse.data
        mnist = dlcourse.data.load_mnist(verbose=False)  # checks every file's md5
        print(json.dumps({"torch": float(torch.ones(3).sum()), "tf": float(tensorflow.reduce_sum(tensorflow.ones(3))),
                          "mnist": [len(mnist.x_train), len(mnist.x_test)], "dlcourse": dlcourse.__file__}))
    """
    limits = SandboxLimits(memory_bytes=6 * 2**30, file_size_bytes=2**30)
    out = _json(run_python(probe, scratch, limits, env=COURSE_ENV, timeout=300))
    assert out["torch"] == 3.0 and out["tf"] == 3.0
    assert out["mnist"] == [5000, 10000], out["mnist"]
    assert out["dlcourse"] == os.path.join(sb.default_package_folder(), "__init__.py"), out["dlcourse"]


def test_sandbox_mechanisms_name_memory_and_process_limits(usable):
    text = sb.sandbox_mechanisms()
    assert text.startswith("memory: ") and "processes: " in text and "RLIMIT_NPROC on a private uid" in text, text
