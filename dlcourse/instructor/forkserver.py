"""A fork server of pre-imported grading kernels: a kernel's libraries are imported once per grading run, not
once per submission, and every kernel still runs in a sandbox of its own.

Why: a sandboxed kernel that imports practical 1's libraries (PyTorch, Matplotlib, NumPy, ipykernel) spends
about 2 CPU-s doing so, close to a third of what grading that submission costs (``./course bench`` measures
both). A forked process shares those imported pages with its parent instead.

How one kernel starts (the sandbox is the one ``sandbox.Sandbox`` builds, nothing is given up):

1. The grader opens the submission's ``Sandbox`` as for any kernel (its own private uid, cgroups, scratch
   folder, passwd) and starts bubblewrap in it with a placeholder command, ``sleep infinity``: bubblewrap
   makes the namespaces (mount, PID, network, IPC, UTS, cgroup), the read-only file system, ``/tmp``,
   ``/dev`` and ``/proc``, and drops the placeholder to the private uid, exactly as it does for a kernel.
2. The fork server (``serve``: a root process started by the grader, outside any sandbox, that imported the
   assignment's libraries and ipykernel and then only waits) gets a request over its socket: a pidfd of
   the placeholder, the cgroup files, the rlimits, the uid, the environment, the kernel's argv and the
   audit pipe's write end. It forks a child, which
   - joins the sandbox's cgroups (before anything else, so all that follows is counted and limited),
   - enters the placeholder's namespaces with ``setns(pidfd)``: its mount namespace (from then on it sees
     only the sandbox's file system), PID, network, IPC, UTS and cgroup namespaces,
   - forks the kernel process, which is therefore inside the sandbox's PID namespace (bubblewrap's init
     kills it with the namespace), and waits for it, to report its exit status.
3. The kernel process starts a session of its own, sets the sandbox's rlimits, keeps only ``/dev/null``
   and the audit pipe as file descriptors, drops the bounding and ambient capability sets, clears its
   groups, switches to the private uid (which empties its capabilities), clears the inheritable set, sets
   ``no_new_privs``, checks all that in ``/proc/self/status``, takes the kernel's environment and starts
   ipykernel, as ``setpriv`` and ``python -m ipykernel_launcher`` would.

What a forked kernel shares with other kernels: only the pages of the fork server's imports, copied on
write (never written back). It holds no secret: the fork server is started afresh by the grader (never
forked from it), imports libraries and nothing else, never sees a submission, and the guard's secret
reaches the kernel afterwards, as for any kernel. The fork server runs no student code; a kernel cannot
reach it (another PID namespace, another uid, no descriptor of it).

TensorFlow and Keras are pre-imported too: importing them starts no thread of their own and leaves their
runtime uninitialized (TF's eager context is created by the first operation, in the kernel, with the kernel's
thread settings). Before it serves any kernel the fork server checks that its imports left it safe to fork
(``fork_hazards``: a Python thread besides the main one, or TensorFlow's runtime started); if not, it
declines, and its kernels start the usual way. So does a kernel that cannot be forked into its sandbox (a
warning says why, once), in that same sandbox. Native threads a library starts at import (OpenBLAS's
servers, which fork past them by ``pthread_atfork``) are only counted (``threads`` in the server's hello).
"""

import atexit
import ctypes
import gc
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from dlcourse.instructor.sandbox import SandboxError, SandboxedKernelManager, SandboxProvisioner

START_TIMEOUT = 60  # seconds for the fork server to import its libraries, or for a forked kernel to start
PLACEHOLDER = ["/usr/bin/sleep", "infinity"]
MESSAGE_BYTES = 1 << 20

# Linux constants (linux/sched.h, linux/prctl.h, linux/capability.h)
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
SANDBOX_NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 36, 38, 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
RLIMITS = {"fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE, "nproc": resource.RLIMIT_NPROC,
           "as": resource.RLIMIT_AS}


class ForkServerError(RuntimeError):
    """The fork server could not start a kernel (the message says why)."""


# ----------------------------------------------------------------------------------------------
# Inside the fork server and its children (root until the kernel drops to the private uid)
# ----------------------------------------------------------------------------------------------

_libc = None


def _call(name, *args):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    result = getattr(_libc, name)(*args)
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}{args}: {os.strerror(error)}")


def _prctl(option, value=0):
    _call("prctl", ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0),
          ctypes.c_ulong(0))


def _clear_capabilities():
    """Empty the effective, permitted and inheritable capability sets (capset(2), version 3)."""
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two of {effective, permitted, inheritable}, all zero
    _call("capset", header, data)


def _drop_privileges(uid):
    """What ``setpriv --reuid=uid --regid=uid --clear-groups --inh-caps=-all --bounding-set=-all
    --no-new-privs`` does."""
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as handle:
        last_capability = int(handle.read())
    for capability in range(last_capability + 1):
        _prctl(PR_CAPBSET_DROP, capability)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # empties the permitted and effective sets (no SECBIT_KEEP_CAPS)
    _clear_capabilities()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_DUMPABLE, 1)  # as after an exec: the process's own /proc files stay its own
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of credentials cleared it


def privilege_problems(uid):
    """What is wrong with this process's credentials for the private ``uid`` ([] when nothing)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        status = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
    problems = []
    for key in ("Uid", "Gid"):
        if set(status[key].split()) != {str(uid)}:
            problems.append(f"{key} is {status[key].strip()}")
    if status.get("Groups", "").strip() not in ("", str(uid)):
        problems.append(f"groups {status['Groups'].strip()}")
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(status.get(key, "0"), 16):
            problems.append(f"{key} {status[key].strip()}")
    if status.get("NoNewPrivs", "").strip() != "1":
        problems.append("no_new_privs is not set")
    return problems


def _forget_host_caches():
    """Caches that libraries filled in the fork server with its own paths (its HOME): computed again."""
    keras_config = sys.modules.get("keras.src.backend.config")
    if keras_config is not None and hasattr(keras_config, "_KERAS_DIR"):
        # Keras decides its home folder once, in module-level code (keras/src/backend/config.py) that cannot
        # be called again: its rule, repeated with the kernel's environment (tests/test_kernels.py checks it)
        if "KERAS_HOME" in os.environ:
            keras_config._KERAS_DIR = os.environ["KERAS_HOME"]  # noqa: SLF001
        else:
            base = os.path.expanduser("~")
            keras_config._KERAS_DIR = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")  # noqa: SLF001
    matplotlib = sys.modules.get("matplotlib")
    for name in ("get_configdir", "get_cachedir"):
        function = getattr(matplotlib, name, None)
        # matplotlib._logged_cached memoizes in its closure ("called", "ret"): forgotten in place, so that
        # every reference to the function (font_manager's, the guard's snapshot) sees the kernel's HOME
        cells = dict(zip(getattr(getattr(function, "__code__", None), "co_freevars", ()),
                         getattr(function, "__closure__", None) or ()))
        if "called" in cells:
            cells["called"].cell_contents = False


def _start_kernel(request, audit_fd, report_fd, control):
    """The kernel process: sandbox its own credentials and descriptors, then run ipykernel; never returns."""
    try:
        control.close()
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(request["cwd"])
        for name, value in request["rlimits"].items():
            resource.setrlimit(RLIMITS[name], (int(value), int(value)))
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = {0, 1, 2, report_fd}
        if audit_fd is not None:
            os.dup2(audit_fd, request["audit_fd"], inheritable=False)
            keep.add(request["audit_fd"])
        for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        _drop_privileges(request["uid"])
        problems = privilege_problems(request["uid"])
        if problems:
            raise ForkServerError("the forked kernel kept privileges: " + "; ".join(problems))
        os.environ.clear()
        os.environ.update(request["env"])
        _forget_host_caches()
        argv = request["argv"]
        if "ipykernel_launcher" not in argv:
            raise ForkServerError(f"a forked kernel runs ipykernel_launcher, not {argv}")
        launcher = importlib.util.find_spec("ipykernel_launcher").origin  # sys.argv[0] of `python -m` it
        sys.argv = [launcher, *argv[argv.index("ipykernel_launcher") + 1:]]
        from ipykernel import kernelapp
        os.close(report_fd)  # end of file: the kernel is set up
    except BaseException:  # noqa: BLE001 - whatever went wrong is reported, then this process ends
        try:
            os.write(report_fd, traceback.format_exc()[-4000:].encode())
        finally:
            os._exit(125)
    try:
        kernelapp.launch_new_instance()
    finally:
        os._exit(0)


def _enter_sandbox(request, fds, control):
    """The fork server's child: join the sandbox, fork the kernel into it, report; never returns."""
    code = 125
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        placeholder_fd, audit_fd = fds[0], (fds[1] if len(fds) > 1 else None)
        for path in request["procs_files"]:
            with open(path, "w", encoding="ascii") as procs:
                procs.write("0")
        _call("setns", ctypes.c_int(placeholder_fd), ctypes.c_int(SANDBOX_NAMESPACES))
        report_read, report_write = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            os.close(report_read)
            _start_kernel(request, audit_fd, report_write, control)
        os.close(report_write)
        problem = b""
        while chunk := os.read(report_read, 65536):
            problem += chunk
        os.close(report_read)
        reply = {"id": request["id"], "pid": kernel} if not problem else \
            {"id": request["id"], "error": problem.decode(errors="replace")}
        control.send(json.dumps(reply).encode())
        control.close()
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(kernel, 0)
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as bwrap says it
    except BaseException:  # noqa: BLE001
        try:
            control.send(json.dumps({"id": request["id"], "error": traceback.format_exc()[-4000:]}).encode())
        except OSError:
            pass
    finally:
        os._exit(code & 0xFF)


def fork_hazards():
    """What makes this process unsafe to fork, as sentences ([] when nothing does): a Python thread besides the
    main one (a forked child has only the forking thread, and a lock that thread held stays held), or
    TensorFlow's runtime started (its thread pools do not survive a fork)."""
    hazards = []
    others = sorted(thread.name for thread in threading.enumerate() if thread is not threading.main_thread())
    if others:
        hazards.append(f"Python threads besides the main one run: {', '.join(others)}")
    eager = sys.modules.get("tensorflow.python.eager.context")
    if eager is not None and getattr(eager, "_context", None) is not None:
        hazards.append("TensorFlow's runtime was started (its eager context exists)")
    return hazards


def _import_and_freeze(preload):
    """Import ``preload`` and ipykernel, then move what they made to the permanent generation (``gc.freeze``,
    whose documented use is before fork): a kernel's collector never walks those objects again (they live as
    long as the kernel anyway), and the pages that hold them are not written by it, so they stay shared.
    Practical 1's Value-graph experiment, which allocates many small objects, ran about a quarter faster
    (README, "The guard's audit hook and the fork server's frozen imports")."""
    for name in preload:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - the kernel will import it and report the error itself
            pass
    import ipykernel.kernelapp  # noqa: F401 - what every kernel runs
    gc.collect()
    gc.freeze()


def serve(control_fd, preload):
    """The fork server's main loop (``python -m dlcourse.instructor.forkserver FD MODULES_JSON``)."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: the cwd is no place to import from
    os.chdir("/")
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # gone with the grader
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphaned kernels come back here to be reaped
    control = socket.socket(fileno=control_fd)
    _import_and_freeze(preload)
    hazards = fork_hazards()
    threads = len(os.listdir("/proc/self/task"))
    control.send(json.dumps({"ready": not hazards, "hazards": hazards, "threads": threads,
                             "frozen": gc.get_freeze_count(),
                             "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd"))}).encode())
    if hazards:
        return
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children = {}
    poller = select.poll()
    poller.register(control.fileno(), select.POLLIN)
    poller.register(wake_read, select.POLLIN)
    while True:
        for fd, _event in poller.poll():
            if fd == wake_read:
                os.read(wake_read, 4096)
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    if pid in children:
                        control.send(json.dumps({"id": children.pop(pid), "status": os.waitstatus_to_exitcode(
                            status)}).encode())
                continue
            message, fds, _flags, _address = socket.recv_fds(control, MESSAGE_BYTES, 4)
            if not message:  # the grader is gone
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                os._exit(0)
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                _enter_sandbox(request, fds, control)
            children[pid] = request["id"]
            for fd in fds:
                os.close(fd)


# ----------------------------------------------------------------------------------------------
# In the grader
# ----------------------------------------------------------------------------------------------

class ForkedKernel:
    """The grader's view of one forked kernel: ``pid`` (host), ``returncode`` once it ended."""

    def __init__(self, server, ident):
        self.server, self.ident = server, ident
        self.pid = self.pidfd = self.error = self.returncode = None
        self.started, self.ended = threading.Event(), threading.Event()

    def signal(self, signum):
        if self.pidfd is not None and self.returncode is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signum)
            except ProcessLookupError:
                pass

    def close(self):
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class ForkServer:
    """One fork server process for one list of modules and one kernel environment (HOME aside).

    Inputs:
    - preload: module names to import once; env: the kernels' environment.
    ``ready`` is False when the server declined (``hello["hazards"]`` says why: see ``fork_hazards``) or
    died.
    """

    def __init__(self, preload, env):
        self.preload = sorted(set(preload))
        self.home = tempfile.mkdtemp(prefix="dlcourse-forkserver-")  # its libraries' caches, not a kernel's
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        self.process = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", "-m", "dlcourse.instructor.forkserver", str(theirs.fileno()),
             json.dumps(self.preload)],
            pass_fds=(theirs.fileno(),), env=dict(env, HOME=self.home), cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs.close()
        self._kernels, self._lock, self._next = {}, threading.Lock(), 0
        ours.settimeout(START_TIMEOUT)
        try:
            hello = json.loads(ours.recv(MESSAGE_BYTES) or b"{}")
        except (OSError, ValueError):
            hello = {}
        ours.settimeout(None)
        self.ready = bool(hello.get("ready"))
        self.hello = hello
        if self.ready:
            threading.Thread(target=self._read, name="forkserver-reader", daemon=True).start()
        else:
            self.close()

    def _read(self):
        while True:
            try:
                message = self.control.recv(MESSAGE_BYTES)
            except OSError:
                message = b""
            if not message:
                break
            reply = json.loads(message)
            with self._lock:
                kernel = self._kernels.get(reply["id"])
            if kernel is None:
                continue
            if "pid" in reply:
                kernel.pid = reply["pid"]
                try:
                    kernel.pidfd = os.pidfd_open(kernel.pid)
                except ProcessLookupError:
                    pass
                kernel.started.set()
            elif "error" in reply:
                kernel.error = reply["error"]
                kernel.started.set()
            elif "status" in reply:
                code = reply["status"]
                kernel.returncode = 128 - code if code < 0 else code
                kernel.started.set()
                kernel.ended.set()
                with self._lock:
                    self._kernels.pop(reply["id"], None)
        self.ready = False
        with self._lock:
            orphans, self._kernels = list(self._kernels.values()), {}
        for kernel in orphans:  # the server died: its kernels died with it
            kernel.error = kernel.error or "the fork server ended"
            kernel.returncode = 128 + signal.SIGKILL if kernel.returncode is None else kernel.returncode
            kernel.started.set()
            kernel.ended.set()

    def start(self, placeholder_pid, sandbox, env, argv, audit_fd=None):
        """Fork a kernel into the sandbox whose placeholder runs as ``placeholder_pid``; returns a
        ForkedKernel once it runs ipykernel (ForkServerError if it could not)."""
        if not self.ready:
            raise ForkServerError("the fork server is not running")
        placeholder_fd = os.pidfd_open(placeholder_pid)
        with self._lock:
            self._next += 1
            kernel = ForkedKernel(self, self._next)
            self._kernels[kernel.ident] = kernel
        request = {"id": kernel.ident, "procs_files": sandbox.procs_files(), "rlimits": sandbox.rlimits(),
                   "uid": sandbox.uid, "cwd": sandbox.cwd, "env": env, "argv": argv,
                   "audit_fd": audit_fd if audit_fd is not None else -1}
        fds = [placeholder_fd] + ([audit_fd] if audit_fd is not None else [])
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], fds)
        except OSError as error:
            raise ForkServerError(f"the fork server is gone ({error})") from error
        finally:
            os.close(placeholder_fd)
        if not kernel.started.wait(START_TIMEOUT):
            raise ForkServerError(f"no forked kernel after {START_TIMEOUT} s")
        if kernel.error or kernel.pid is None:
            raise ForkServerError(f"the forked kernel did not start: {kernel.error or 'it ended'}")
        return kernel

    def close(self):
        self.ready = False
        try:
            self.control.close()
        except OSError:
            pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


_servers, _servers_lock = {}, threading.Lock()


def _course_code_fingerprint():
    """(name, mtime, size) of the course's own modules a fork server may hold in memory: a helper edited
    while a long run goes on (``./course watch``) gets a new fork server instead of its old code."""
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the dlcourse package
    files = [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".py")]
    files.append(os.path.abspath(__file__))
    return tuple((path, os.stat(path).st_mtime_ns, os.stat(path).st_size) for path in files)


def fork_server(preload, env):
    """The grading process's fork server for ``preload`` and ``env`` (started on first use, shared by
    every worker thread; None when it declined or cannot run). One whose course code changed on disk since
    it started is not used again (it lives on for its running kernels until the grading process ends)."""
    key = (tuple(sorted(set(preload))), tuple(sorted((k, v) for k, v in env.items() if k != "HOME")),
           _course_code_fingerprint())
    with _servers_lock:
        if not _servers:
            atexit.register(close_fork_servers)  # their HOME folders go with the grading process
        server = _servers.get(key)
        if server is None or not server.ready:
            server = _servers[key] = ForkServer(preload, env)
    return server if server.ready else None


def close_fork_servers():
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.close()


_warned = set()


def _warn_once(message):
    first_line = message.splitlines()[0]
    if first_line not in _warned:
        _warned.add(first_line)
        print(f"[course] WARNING: {first_line}", file=sys.stderr, flush=True)


class _ForkedProcess:
    """What the provisioner holds as its ``process``: the placeholder's Popen (bubblewrap), with the
    forked kernel's exit status taking precedence (the kernel ending is the kernel ending)."""

    def __init__(self, placeholder, kernel):
        self.placeholder, self.kernel = placeholder, kernel
        self.pid = placeholder.pid
        self.stdin, self.stdout, self.stderr = placeholder.stdin, placeholder.stdout, placeholder.stderr

    @property
    def returncode(self):
        if self.kernel is not None and self.kernel.returncode is not None:
            return self.kernel.returncode
        return self.placeholder.returncode

    def poll(self):
        placeholder = self.placeholder.poll()
        return self.returncode if self.kernel is not None and self.kernel.returncode is not None else placeholder

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.placeholder.args, timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum):
        self.placeholder.send_signal(signum)

    def kill(self):
        self.placeholder.kill()

    def terminate(self):
        self.placeholder.terminate()


class ForkedSandboxProvisioner(SandboxProvisioner):
    """Starts bubblewrap with the placeholder, then has the fork server fork the kernel into it."""

    kernel = None

    async def launch_kernel(self, cmd, **kwargs):
        manager, sandbox = self.parent, self.parent.sandbox
        pass_fds = tuple(kwargs.pop("pass_fds", ()) or ())
        if len(pass_fds) > 1:
            raise ForkServerError("a forked kernel inherits at most one descriptor (the audit pipe)")
        if manager.fork_server is None:  # no fork server for these libraries: the kernel starts as usual
            self.kernel = None
            return await super().launch_kernel(sandbox.command(cmd), pass_fds=pass_fds, **kwargs)
        info = await super().launch_kernel(sandbox.command(PLACEHOLDER), **kwargs)
        placeholder = self.process
        deadline = time.monotonic() + START_TIMEOUT
        while (pid := sandbox.main_pid()) is None:  # bubblewrap set up and dropped to the uid: ready
            if placeholder.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(f"the sandbox did not start ({sandbox.diagnose(placeholder.poll())})")
            time.sleep(0.002)
        try:
            self.kernel = manager.fork_server.start(pid, sandbox, sandbox.environment(), list(cmd),
                                                    pass_fds[0] if pass_fds else None)
        except ForkServerError as error:
            # a host where forking into the sandbox fails (say a kernel older than Linux 5.8, whose setns
            # takes no pidfd) still grades: this kernel starts the usual way, in the same sandbox
            _warn_once(f"a grading kernel could not be forked, so it is started by exec ({error})")
            sandbox.kill()
            placeholder.wait()
            self.kernel = None
            return await super().launch_kernel(sandbox.command(cmd), pass_fds=pass_fds, **kwargs)
        self.process = _ForkedProcess(placeholder, self.kernel)
        return info

    async def send_signal(self, signum):
        if self.process is None:
            return
        if signum in (signal.SIGKILL, signal.SIGTERM) or self.kernel is None:
            await super().send_signal(signum)
        else:
            self.kernel.signal(signum)

    async def cleanup(self, restart=False):
        if self.kernel is not None:
            self.kernel.close()
        await super().cleanup(restart=restart)


class ForkedSandboxedKernelManager(SandboxedKernelManager):
    """A SandboxedKernelManager whose kernel is forked from a fork server (``fork_server``, a ForkServer)
    into its sandbox instead of started by ``python -m ipykernel_launcher`` there."""

    fork_server = None
    provisioner_class = ForkedSandboxProvisioner

    def __init__(self, *, fork_server, **kwargs):
        super().__init__(**kwargs)
        self.fork_server = fork_server

    def format_kernel_cmd(self, extra_arguments=None):
        # the provisioner wraps the placeholder in the sandbox; the kernel's own argv goes to the fork server
        return super(SandboxedKernelManager, self).format_kernel_cmd(extra_arguments)

    def kernel_pid(self):
        kernel = self.provisioner.kernel if self.provisioner is not None else None
        if kernel is None:
            return super().kernel_pid()
        return kernel.pid if kernel.returncode is None else None


if __name__ == "__main__":
    serve(int(sys.argv[1]), json.loads(sys.argv[2]))
