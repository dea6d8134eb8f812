"""The sandbox in which every student submission's Jupyter kernel (and anything it starts) runs.

What a sandbox guarantees (each point is tested against the real sandbox in tests/test_sandbox.py):

* **No network**: its own network namespace holds only a loopback interface; TCP to the host's
  127.0.0.1 fails, and so does DNS.
* **File system**: read-only ``/usr``, ``/etc`` (``passwd``/``group`` replaced by the sandbox's own), the
  Python installation (``sys.base_prefix``), the virtual environment (``sys.prefix``), the ``dlcourse``
  package folder and ``data/``; a private ``/tmp`` and ``/dev/shm`` (tmpfs, at most the memory limit,
  gone with the sandbox); and **one read-write folder, the scratch folder** (the student's files, the
  kernel's working directory; ``HOME``, the connection file and the ipc sockets are in its
  ``.sandbox/`` subfolder). Nothing else exists inside: no ``source/``, solutions, hidden tests,
  gradebook, course repository, home folder, ``/sys`` or other submission.
* **Not root**: the command runs as a private unprivileged uid (see below) with no capabilities and
  ``no_new_privs``, so even read-only files such as ``/etc/shadow`` stay unreadable.
* **Its own PID namespace** (``--die-with-parent``): when the command ends, or the grader, or the
  sandbox is closed, every process it started is gone, daemons and re-exec'd processes included.
* **Limits per sandbox** (two sandboxes never share one): memory (a memory cgroup where the course can
  create one, otherwise ``RLIMIT_AS``), the number of processes and threads (a pids cgroup, and
  ``RLIMIT_NPROC`` on the private uid), the size of any file written (``RLIMIT_FSIZE``), no core dumps;
  all of its processes share one CPU cgroup, so a fork bomb competes with the host as one task.

How, and why this way (measured on the course's machines: Debian 12, bubblewrap 0.8, cgroup v1):

* ``bwrap`` runs **as root and without a user namespace**: root is needed to bind the Python
  installation (under ``/root``, mode 0700), to create cgroups and to switch to another uid. Inside a
  user namespace (what ``--unshare-all`` gives as root) the command stays host uid 0, which can read
  root-owned files such as ``/etc/shadow`` through the read-only ``/etc`` (measured: it could), and
  ``setpriv`` cannot switch to an unmapped uid ("setresuid failed: Invalid argument"). So the namespaces
  are listed one by one (ipc, pid, net, uts, cgroup) and ``setpriv`` inside the sandbox drops to the
  private uid, clears the groups, the inheritable and bounding capability sets and sets no_new_privs.
* **The private uid**: each open sandbox takes its own numeric uid from ``UID_BASE`` upwards (a lock
  file per uid in ``STATE_ROOT``; skipped if ``/etc/passwd`` knows it or a process runs as it), the way
  systemd's DynamicUser does, instead of one ``useradd --system`` user: ``RLIMIT_NPROC`` counts the
  processes of a uid, so a shared user would share the limit between two sandboxes running at once
  (and root ignores it altogether); nothing is added to the host's user database.
* **Memory**: a cgroup v1 memory controller (or cgroup v2 ``memory``) child of the grader's own cgroup
  (v1) or of a ``dlcourse-sandbox`` group at the v2 root, limited to ``memory_bytes``; its OOM kill
  counter is how a death is diagnosed as memory. Where no cgroup can be created the sandbox still
  starts, with ``RLIMIT_AS`` (address space of each process: a blow-up raises MemoryError or aborts
  the kernel, and the diagnosis can only say "perhaps memory"); ``sandbox_mechanisms()`` says which.
* **Processes**: a pids cgroup (``pids.max``, counts threads as well: a Python that imported numpy, torch
  and TensorFlow and ran a matmul in each has 24 threads here) where available, and always
  ``RLIMIT_NPROC`` on the private uid, which is exact per sandbox because the uid is.
* **Launch chain**: ``sh`` (writes its pid into the sandbox's cgroups, so nothing forks before it is
  counted) execs ``prlimit`` (the rlimits) execs ``bwrap`` execs, inside, ``setpriv`` execs the
  command: no Python in between, about 10 ms for bwrap itself.
* **Interrupts**: ``bwrap --new-session`` puts the command in a session of its own (pid 2 of its PID
  namespace, process group 1), so a signal to bwrap's process group never reaches the kernel, and
  bwrap forwards no signal. The manager sends SIGINT straight to the kernel's host pid (found by its
  ``NSpid``): 30 of 30 interrupts out of ``time.sleep(100)`` arrived. ipykernel's ``interrupt_request``
  on the control channel (the kernel signals itself) lost 1 of 30 in the sandbox (and once the
  kernel's shell socket broke, "Socket operation on non-socket"), so it is not used.
* **Clean-up**: killing the PID namespace's init (bwrap's pid 1) makes the kernel kill every process
  in the namespace; ``Sandbox.kill`` also kills every member of the cgroups and every process of the
  private uid, until none is left.

Grading kernels are usually not started by ``python -m ipykernel_launcher`` inside but forked from a fork
server that imported their libraries once (forkserver.py): bwrap then runs a placeholder, and the forked
kernel joins the placeholder's cgroups and namespaces and drops its privileges as setpriv does.

The instructor passes ``--no-sandbox`` to grade without it (``NO_SANDBOX_WARNING`` is printed once).
Never write into the scratch folder from outside once student code has run there: it may hold
symbolic links planted by the student (this module itself only chowns with ``follow_symlinks=False``
and removes with ``shutil.rmtree``, which does not follow them).
"""

import argparse
import fcntl
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, CaselessStrEnum, Dict, Instance, List, Unicode

RUNTIME_FOLDER_NAME = ".sandbox"  # in the scratch folder: HOME, the connection file, the ipc sockets
SANDBOX_USER = "student"  # the private uid's name inside (its own /etc/passwd)
UID_BASE = 2_000_000_000  # private uids UID_BASE .. UID_BASE + UID_SLOTS - 1 (below 2**31)
UID_SLOTS = 1000
STATE_ROOT = Path("/run/dlcourse-sandbox")  # root-only: uid locks, each sandbox's passwd and group
CGROUP_NAME_PREFIX = "dlcourse-sandbox-"
DEFAULT_MAX_PROCESSES = 512  # processes *and threads*; a TF + torch kernel has ~24 threads on 2 cores
# Host variables a kernel keeps (everything else is cleared): OpenBLAS workarounds set on some
# processors, locale and time zone, so that results inside match results outside.
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
# Limits of the sandboxes that sandbox_problem, sandbox_mechanisms and the benchmark start.
TRIAL_LIMITS_MEMORY_BYTES = 2**30
TRIAL_LIMITS_FILE_SIZE_BYTES = 2**20
IPC_PATH_MAX = 107  # a unix socket path is at most 107 bytes (sun_path is 108 with its NUL)
NO_SANDBOX_WARNING = (
    "WARNING: grading WITHOUT the sandbox (--no-sandbox): students' code runs with the grader's "
    "rights: it can read the hidden tests and solutions, change any grade, reach the network and "
    "leave processes behind. Use it only for trusted notebooks.")


class SandboxError(RuntimeError):
    """The sandbox cannot be set up; the message says why and how to fix it."""


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Resource limits of one sandbox (never shared with another).

    Inputs:
    - memory_bytes: memory of the whole sandbox (cgroup) or of each process (RLIMIT_AS fallback).
    - file_size_bytes: largest file any of its processes may write (RLIMIT_FSIZE).
    - max_processes: processes and threads of the sandbox at once (pids cgroup and RLIMIT_NPROC).
    """
    memory_bytes: int
    file_size_bytes: int
    max_processes: int = DEFAULT_MAX_PROCESSES

    def __post_init__(self):
        for name in ("memory_bytes", "file_size_bytes", "max_processes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be a positive int, got {value!r}")

    @property
    def memory_text(self):
        """The memory limit as the grading messages say it, e.g. '6 GB' (GB = 2**30 bytes)."""
        return f"{self.memory_bytes / 2**30:g} GB"


@dataclass(frozen=True)
class SandboxUsage:
    """What a sandbox used, read from its cgroups (None where no cgroup counted it)."""
    oom_kills: int | None
    memory_peak_bytes: int | None
    process_limit_hits: int | None
    process_peak: int | None


@dataclass(frozen=True)
class SandboxResult:
    """What ``run`` returns: exit status (bwrap's: 128 + N when killed by signal N), output, usage."""
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    usage: SandboxUsage
    diagnosis: str


# ----------------------------------------------------------------------------------------------
# Defaults: what a kernel needs to see
# ----------------------------------------------------------------------------------------------

def default_package_folder():
    """The folder of the imported ``dlcourse`` package (bound read-only at its own path)."""
    import dlcourse

    return str(Path(dlcourse.__file__).resolve().parent)


def default_data_folder():
    """The course's data folder as ``dlcourse.data`` finds it (``DLCOURSE_DATA_DIR`` or ``<repo>/data``)."""
    from dlcourse.data import DATA_DIR

    return str(Path(DATA_DIR).resolve())


def _tool(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")
    return os.path.realpath(path) if path else None


# ----------------------------------------------------------------------------------------------
# cgroups (v1 per controller, or v2)
# ----------------------------------------------------------------------------------------------

CONTROLLERS = ("memory", "pids", "cpu")


def _cgroup_mounts():
    """Where each controller is mounted: {controller: (version, mount point, mount root)}."""
    mounts, unified = {}, None
    try:
        with open("/proc/self/mountinfo") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, mount_point, fstype, options = fields[3], fields[4], tail[0], tail[2]
        if fstype == "cgroup":
            for option in options.split(","):
                if option in CONTROLLERS and option not in mounts:
                    mounts[option] = (1, Path(mount_point), root)
        elif fstype == "cgroup2" and unified is None:
            unified = (Path(mount_point), root)
    if unified is not None:
        try:
            available = (unified[0] / "cgroup.controllers").read_text().split()
        except OSError:
            available = []
        for controller in CONTROLLERS:
            if controller in available and controller not in mounts:
                mounts[controller] = (2, unified[0], unified[1])
    return mounts


def _own_cgroup(version, controller):
    """This process's cgroup path for a v1 controller, or its v2 path."""
    with open("/proc/self/cgroup") as handle:
        for line in handle.read().splitlines():
            number, controllers, path = line.split(":", 2)
            if version == 2 and number == "0" and controllers == "":
                return path
            if version == 1 and controller in controllers.split(","):
                return path
    return "/"


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def _read_keyed(path):
    """A cgroup file of 'key value' lines as a dict of ints (missing file: {})."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def _read_int(path):
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_pids(folder):
    try:
        return [int(pid) for pid in (Path(folder) / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _remove_cgroup(folder, timeout=5.0):
    """rmdir a cgroup, killing its members first; True once it is gone."""
    folder = Path(folder)
    deadline = time.monotonic() + timeout
    while folder.exists():
        for pid in _cgroup_pids(folder):
            _kill(pid)
        try:
            folder.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
    return True


class _Cgroups:
    """The cgroups of one sandbox: controller -> folder (v1: one per controller; v2: one for all)."""

    def __init__(self, name, limits, wanted=CONTROLLERS):
        self.folders, self.versions, self.problems = {}, {}, {}
        mounts = _cgroup_mounts()
        unified = [c for c in wanted if c in mounts and mounts[c][0] == 2]
        for controller in wanted:
            if controller not in mounts:
                self.problems[controller] = "no cgroup controller mounted"
            elif mounts[controller][0] == 1:
                _, mount_point, mount_root = mounts[controller]
                try:
                    own = _own_cgroup(1, controller)
                    relative = own[len(mount_root):] if own.startswith(mount_root) else own
                    folder = self._fresh(mount_point / relative.lstrip("/") / name)
                    self._limit(folder, controller, 1, limits)
                except OSError as exc:
                    self.problems[controller] = f"cannot create a {controller} cgroup ({exc.strerror or exc})"
                    continue
                self.folders[controller], self.versions[controller] = folder, 1
        if unified:
            mount_point = mounts[unified[0]][1]
            try:
                # v2 forbids processes in a cgroup that hands controllers to its children, so the
                # sandboxes go under a group of their own at the top (which never holds a process).
                parent = mount_point / CGROUP_NAME_PREFIX.rstrip("-")
                parent.mkdir(exist_ok=True)
                enable = " ".join(f"+{c}" for c in unified)
                _write(mount_point / "cgroup.subtree_control", enable)
                _write(parent / "cgroup.subtree_control", enable)
                folder = self._fresh(parent / name)
                for controller in unified:
                    self._limit(folder, controller, 2, limits)
            except OSError as exc:
                for controller in unified:
                    self.problems[controller] = f"cannot create a {controller} cgroup ({exc.strerror or exc})"
            else:
                for controller in unified:
                    self.folders[controller], self.versions[controller] = folder, 2

    @staticmethod
    def _fresh(folder):
        if folder.exists():  # left by a grader that died: its uid lock is ours now
            _remove_cgroup(folder)
        folder.mkdir()
        return folder

    @staticmethod
    def _limit(folder, controller, version, limits):
        if controller == "memory" and version == 1:
            _write(folder / "memory.limit_in_bytes", str(limits.memory_bytes))
            if (folder / "memory.memsw.limit_in_bytes").exists():  # memory + swap, when swap is counted
                _write(folder / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        elif controller == "memory":
            _write(folder / "memory.max", str(limits.memory_bytes))
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
        elif controller == "pids":
            _write(folder / "pids.max", str(limits.max_processes))

    @property
    def procs_files(self):
        """The cgroup.procs files the launcher writes its pid into (each folder once)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def pids(self):
        return sorted({pid for folder in set(self.folders.values()) for pid in _cgroup_pids(folder)})

    def usage(self):
        memory, pids = self.folders.get("memory"), self.folders.get("pids")
        oom_kills = memory_peak = limit_hits = process_peak = None
        if memory is not None:
            if self.versions["memory"] == 1:
                oom_kills = _read_keyed(memory / "memory.oom_control").get("oom_kill", 0)
                memory_peak = _read_int(memory / "memory.max_usage_in_bytes")
            else:
                oom_kills = _read_keyed(memory / "memory.events").get("oom_kill", 0)
                memory_peak = _read_int(memory / "memory.peak")
        if pids is not None:
            limit_hits = _read_keyed(pids / "pids.events").get("max", 0)
            process_peak = _read_int(pids / "pids.peak")
        return SandboxUsage(oom_kills, memory_peak, limit_hits, process_peak)

    def remove(self):
        for folder in sorted(set(self.folders.values())):
            _remove_cgroup(folder)
        self.folders = {}


# ----------------------------------------------------------------------------------------------
# Processes and private uids
# ----------------------------------------------------------------------------------------------

def _kill(pid, signum=signal.SIGKILL):
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _status(pid):
    """/proc/<pid>/status as a dict of strings, or None for a process gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
    if fields.get("State", "").startswith(("Z", "X")):
        return None
    return fields


def processes_of_uid(uid):
    """Host pids of the live processes whose real or effective uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _status(int(entry))
            if fields is not None and str(uid) in fields.get("Uid", "").split()[:2]:
                found.append(int(entry))
    return found


def _uid_known(uid):
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _claim_uid():
    """A private uid nobody else uses, and the open lock file that keeps it ours."""
    STATE_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(STATE_ROOT, 0o700)
    for slot in range(UID_SLOTS):
        uid = UID_BASE + slot
        fd = os.open(STATE_ROOT / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if _uid_known(uid) or processes_of_uid(uid):
            os.close(fd)
            continue
        return uid, fd
    raise SandboxError(f"all {UID_SLOTS} sandbox uids from {UID_BASE} are in use (see {STATE_ROOT})")


def _lchown_tree(top, uid, gid):
    """chown a folder and everything in it, never following a symbolic link."""
    os.chown(top, uid, gid, follow_symlinks=False)
    for folder, subfolders, files in os.walk(top):
        for name in subfolders + files:
            try:
                os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
            except FileNotFoundError:
                pass


# ----------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------

def _is_under(path, folder):
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def bwrap_argv(command, *, bwrap, setpriv, scratch, read_only, env, cwd, uid, passwd_file, group_file,
               tmp_size):
    """The bwrap command line that runs ``command`` in a sandbox (pure: runs nothing).

    Inputs:
    - command: argv run inside as ``uid``; bwrap, setpriv: executables (setpriv's path inside).
    - scratch: the one read-write folder; read_only: folders bound read-only, each at its own path.
    - env: the whole environment inside; cwd: working directory inside.
    - passwd_file, group_file: host files bound over /etc/passwd and /etc/group.
    - tmp_size: bytes of the private /tmp and of /dev/shm.
    Returns:
    - the argv list. Order matters: system mounts first (``--tmpfs /tmp`` before anything under /tmp),
      then the folders leading to the binds (mode 0755, so the unprivileged uid can pass), then the
      binds, parents before what is bound inside them.
    """
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", "/etc", "/etc", "--ro-bind", str(passwd_file), "/etc/passwd",
             "--ro-bind", str(group_file), "/etc/group",
             "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp",
             "--dev", "/dev", "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/dev/shm",
             "--proc", "/proc"]
    system = ["/usr", "/etc", "/dev", "/proc"]
    binds = [(os.path.abspath(path), "--ro-bind") for path in read_only if not
             any(_is_under(path, mounted) for mounted in system)]
    binds.append((os.path.abspath(scratch), "--bind"))
    binds = sorted(set(binds), key=lambda item: (item[0].count("/"), item[0]))
    destinations = [path for path, _ in binds]
    folders = []
    for path in destinations:
        parent = os.path.dirname(path)
        chain = []
        while parent not in ("/", ""):
            chain.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(chain):
            inside_a_bind = any(_is_under(folder, other) for other in destinations + system)
            if not inside_a_bind and folder not in folders:
                folders.append(folder)
    for folder in folders:
        args += ["--perms", "0755", "--dir", folder]
    for path, kind in binds:
        args += [kind, path, path]
    args += ["--chdir", str(cwd), "--clearenv"]
    for name in sorted(env):
        args += ["--setenv", name, str(env[name])]
    args += ["--", setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", "--no-new-privs", "--"]
    return args + [str(part) for part in command]


def launcher_argv(procs_files, rlimits, prlimit):
    """The commands in front of bwrap: join the cgroups (sh), then set the rlimits (prlimit).

    Inputs:
    - procs_files: cgroup.procs files to write the launcher's own pid into (before anything forks).
    - rlimits: {prlimit option name: value}, e.g. {"fsize": 2**31, "nproc": 512}.
    Returns:
    - an argv prefix; bwrap's argv follows it.
    """
    prefix = []
    if procs_files:
        join = 'while [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; exec "$@"'
        prefix += ["/bin/sh", "-c", join, "sandbox-launcher", *procs_files, "--"]
    prefix += [prlimit] + [f"--{name}={value}" for name, value in sorted(rlimits.items())] + ["--"]
    return prefix


# ----------------------------------------------------------------------------------------------
# One sandbox
# ----------------------------------------------------------------------------------------------

class Sandbox:
    """One sandbox: a private uid, its cgroups and the command line that runs something inside.

    Inputs:
    - scratch: existing folder, the only one writable inside (the kernel's cwd; its ``.sandbox/``
      subfolder holds HOME, the connection file and the ipc sockets).
    - limits: a SandboxLimits.
    - python_install, venv, package_folder, data_folder: bound read-only at their own paths (defaults:
      sys.base_prefix, sys.prefix, default_package_folder(), default_data_folder()). PYTHONPATH inside
      is the package folder's parent and DLCOURSE_DATA_DIR the data folder.
    - extra_read_only: more folders bound read-only.
    - env: extra environment variables inside (e.g. the course kernel's).
    - cwd: working directory inside (default: scratch).
    - cgroups: False forces the rlimit-only mechanisms (for tests, or a host whose cgroups misbehave).
    Use ``with Sandbox(...) as box: subprocess.Popen(box.command(argv))`` and ``box.watch(pid)``.
    """

    def __init__(self, scratch, limits, *, python_install=None, venv=None, package_folder=None,
                 data_folder=None, extra_read_only=(), env=None, cwd=None, cgroups=True):
        if not isinstance(limits, SandboxLimits):
            raise TypeError(f"limits must be a SandboxLimits, got {type(limits).__name__}")
        self.scratch = os.path.abspath(scratch)
        self.limits = limits
        self.python_install = python_install or sys.base_prefix
        self.venv = venv or sys.prefix
        self.package_folder = package_folder or default_package_folder()
        self.data_folder = data_folder or default_data_folder()
        self.read_only = [os.path.abspath(p) for p in
                          (self.python_install, self.venv, self.package_folder, self.data_folder,
                           *extra_read_only)]
        self.extra_env = dict(env or {})
        self.cwd = os.path.abspath(cwd) if cwd else self.scratch
        self.use_cgroups = cgroups
        self.uid = None
        self.usage = SandboxUsage(None, None, None, None)
        self._lock_fd = None
        self._cgroups = None
        self._outer_pidfd = None
        self._state = None

    # paths ----------------------------------------------------------------------------------
    @property
    def runtime(self):
        """``<scratch>/.sandbox``: HOME, the connection file and the ipc sockets of the kernel."""
        return os.path.join(self.scratch, RUNTIME_FOLDER_NAME)

    @property
    def is_open(self):
        return self.uid is not None

    def environment(self):
        """The whole environment of the command inside."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env.update({
            "PATH": f"{os.path.join(self.venv, 'bin')}:/usr/local/bin:/usr/bin:/bin",
            "HOME": self.runtime, "USER": SANDBOX_USER, "LOGNAME": SANDBOX_USER, "TMPDIR": "/tmp",
            "PYTHONPATH": os.path.dirname(self.package_folder), "PYTHONDONTWRITEBYTECODE": "1",
            "DLCOURSE_DATA_DIR": self.data_folder,
        })
        env.update(self.extra_env)
        return env

    def _check_paths(self):
        if not os.path.isdir(self.scratch):
            raise SandboxError(f"the scratch folder {self.scratch} does not exist")
        forbidden = {"/", "/tmp", "/var/tmp", "/root", "/home", os.path.expanduser("~")}
        if self.scratch in forbidden:
            raise SandboxError(f"the scratch folder must be a folder of its own, not {self.scratch}")
        for path in self.read_only:
            if not os.path.isdir(path):
                raise SandboxError(f"cannot bind {path} into the sandbox: no such folder")
            if _is_under(path, self.scratch):
                raise SandboxError(f"the scratch folder {self.scratch} holds {path}, which must stay read-only")
        if not _is_under(self.cwd, self.scratch) and not any(_is_under(self.cwd, p) for p in self.read_only):
            raise SandboxError(f"the working directory {self.cwd} is not visible in the sandbox")
        longest = os.path.join(self.runtime, "kernel-ipc-99999")
        if len(longest.encode()) > IPC_PATH_MAX:
            raise SandboxError(f"the scratch folder's path is too long for the kernel's ipc sockets "
                               f"({len(longest.encode())} > {IPC_PATH_MAX} bytes): use a shorter one")

    # life cycle -----------------------------------------------------------------------------
    def open(self):
        """Claim a private uid, create the cgroups, hand the scratch folder to the uid. Returns self."""
        if self.is_open:
            return self
        self._check_paths()
        problem = _missing_tools()
        if problem:
            raise SandboxError(problem)
        self.uid, self._lock_fd = _claim_uid()
        try:
            self._state = STATE_ROOT / str(self.uid)
            shutil.rmtree(self._state, ignore_errors=True)
            self._state.mkdir(mode=0o700)
            (self._state / "passwd").write_text(
                f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                f"{SANDBOX_USER}:x:{self.uid}:{self.uid}:course sandbox:{self.runtime}:/usr/sbin/nologin\n")
            (self._state / "group").write_text(f"root:x:0:\n{SANDBOX_USER}:x:{self.uid}:\n")
            # A fresh runtime folder: whatever is there (a link planted by earlier code) is removed.
            if os.path.islink(self.runtime) or os.path.isfile(self.runtime):
                os.unlink(self.runtime)
            elif os.path.isdir(self.runtime):
                shutil.rmtree(self.runtime)
            os.mkdir(self.runtime, 0o700)
            _lchown_tree(self.scratch, self.uid, self.uid)
            self._cgroups = _Cgroups(f"{CGROUP_NAME_PREFIX}{self.uid}", self.limits) if self.use_cgroups else None
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    @property
    def mechanisms(self):
        """One line: how memory, processes and CPU are limited in this sandbox."""
        return _describe(self._cgroups, self.use_cgroups)

    def rlimits(self):
        """{prlimit option name: value} of every process of this sandbox (RLIMIT_AS without a memory cgroup)."""
        rlimits = {"fsize": self.limits.file_size_bytes, "core": 0, "nproc": self.limits.max_processes}
        if "memory" not in (self._cgroups.folders if self._cgroups else {}):
            rlimits["as"] = self.limits.memory_bytes
        return rlimits

    def procs_files(self):
        """The cgroup.procs files a process writes its pid into to join this sandbox's cgroups."""
        return self._cgroups.procs_files if self._cgroups else []

    def command(self, argv):
        """The host command line that runs ``argv`` inside this (open) sandbox."""
        if not self.is_open:
            raise SandboxError("open the sandbox first (Sandbox.open or a with block)")
        return launcher_argv(self.procs_files(), self.rlimits(), _tool("prlimit")) + bwrap_argv(
            argv, bwrap=_tool("bwrap"), setpriv=_tool("setpriv"), scratch=self.scratch,
            read_only=self.read_only, env=self.environment(), cwd=self.cwd, uid=self.uid,
            passwd_file=self._state / "passwd", group_file=self._state / "group",
            tmp_size=self.limits.memory_bytes)

    def watch(self, pid):
        """Tell the sandbox the host pid of the process that runs ``command(...)`` (bwrap), so that
        ``kill`` ends it first (which ends its PID namespace). Held as a pidfd: never a reused pid."""
        self._release_pidfd()
        self._outer_pidfd = os.pidfd_open(pid)

    def _release_pidfd(self):
        if self._outer_pidfd is not None:
            os.close(self._outer_pidfd)
            self._outer_pidfd = None

    def hand_over(self, path):
        """Give a file or folder copied into the scratch folder to the sandbox's uid (never follows links)."""
        if not self.is_open:
            raise SandboxError("open the sandbox first (Sandbox.open or a with block)")
        if not _is_under(os.path.abspath(path), self.scratch):
            raise SandboxError(f"{path} is not in the scratch folder {self.scratch}")
        if os.path.isdir(path) and not os.path.islink(path):
            _lchown_tree(path, self.uid, self.uid)
        else:
            os.chown(path, self.uid, self.uid, follow_symlinks=False)

    def processes(self):
        """Host pids of the live processes of this sandbox: those of its uid, and with cgroups every
        member (bwrap's own processes, which run as root, included)."""
        pids = set(processes_of_uid(self.uid)) if self.is_open else set()
        if self._cgroups:
            pids.update(self._cgroups.pids())
        return sorted(pid for pid in pids if _status(pid) is not None)

    def main_pid(self):
        """Host pid of the command (pid 2 of the sandbox's PID namespace), or None when it is gone."""
        for pid in self.processes():
            fields = _status(pid)
            nspid = fields.get("NSpid", "").split() if fields else []
            if len(nspid) >= 2 and nspid[-1] == "2" and str(self.uid) in fields.get("Uid", "").split()[:1]:
                return pid
        return None

    def kill(self, timeout=5.0):
        """SIGKILL every process of the sandbox until none is left; True when none is."""
        deadline = time.monotonic() + timeout
        if self._outer_pidfd is not None:
            try:
                signal.pidfd_send_signal(self._outer_pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            pids = self.processes()
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            for pid in pids:
                _kill(pid)
            time.sleep(0.01)

    def close(self):
        """Kill what is left, record the usage, remove the cgroups, give the scratch folder back to
        the grader (owner and group of the grader, symbolic links not followed), release the uid."""
        if self.uid is None:
            return
        self.kill()
        if self._cgroups:
            self.usage = self._cgroups.usage()
            self._cgroups.remove()
        if os.path.isdir(self.runtime) and not os.path.islink(self.runtime):
            shutil.rmtree(self.runtime, ignore_errors=True)
        if os.path.isdir(self.scratch):
            _lchown_tree(self.scratch, os.getuid(), os.getgid())
        if self._state is not None:
            shutil.rmtree(self._state, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        self._lock_fd = None
        self.uid = None
        self._release_pidfd()

    def read_usage(self):
        """The cgroups' counters now (or, after close, as they were at close)."""
        if self._cgroups and self._cgroups.folders:
            return self._cgroups.usage()
        return self.usage

    def diagnose(self, returncode):
        """Why the command ended, in one phrase: 'out of memory (limit 6 GB)', 'killed by signal
        SIGSEGV', 'exit code 1', 'exited normally' (bwrap returns 128 + N for a death by signal N)."""
        usage = self.read_usage()
        memory_cgroup = self._cgroups is not None and usage.oom_kills is not None
        if usage.oom_kills:
            text = f"out of memory (limit {self.limits.memory_text})"
        elif returncode is None:
            text = "still running"
        else:
            number = -returncode if returncode < 0 else returncode - 128 if 128 < returncode < 128 + 65 else 0
            if number:
                try:
                    name = signal.Signals(number).name
                except ValueError:
                    name = f"signal {number}"
                text = f"killed by signal {name}"
                if not memory_cgroup and number in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
                    text += (f" (perhaps the memory limit of {self.limits.memory_text}: without a memory "
                             f"cgroup it is RLIMIT_AS, which cannot be told apart from a crash)")
            elif returncode == 0:
                text = "exited normally"
            else:
                text = f"exit code {returncode}"
        if usage.process_limit_hits:
            text += (f"; the process limit ({self.limits.max_processes} processes and threads) refused "
                     f"{usage.process_limit_hits} forks")
        return text


def _describe(cgroups, use_cgroups):
    folders = cgroups.folders if cgroups else {}
    problems = cgroups.problems if cgroups else {}

    def where(controller):
        if controller in folders:
            return f"cgroup v{cgroups.versions[controller]} {controller} ({folders[controller]})"
        return None

    why = (lambda c: problems.get(c, "not available")) if use_cgroups else (lambda c: "cgroups turned off")
    memory = where("memory") or f"RLIMIT_AS per process ({why('memory')}: falling back to RLIMIT_AS)"
    pids = where("pids")
    processes = (f"{pids} + RLIMIT_NPROC on a private uid" if pids else
                 f"RLIMIT_NPROC on a private uid (no pids cgroup: {why('pids')})")
    cpu = where("cpu") or f"shared with the host ({why('cpu')})"
    return f"memory: {memory}; processes: {processes}; cpu: {cpu}"


# ----------------------------------------------------------------------------------------------
# Availability
# ----------------------------------------------------------------------------------------------

def _missing_tools():
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux (bubblewrap); grade on Linux or pass --no-sandbox"
    if os.geteuid() != 0:
        return ("the sandbox must be started by root (it binds the Python installation, creates cgroups "
                "and runs each kernel as a private unprivileged uid): run the grading as root, e.g. with "
                "sudo, or pass --no-sandbox")
    if _tool("bwrap") is None:
        return "bwrap not found: apt-get install bubblewrap"
    for name in ("setpriv", "prlimit"):
        if _tool(name) is None:
            return f"{name} not found: apt-get install util-linux"
    return None


def _trial_limits():
    return SandboxLimits(memory_bytes=TRIAL_LIMITS_MEMORY_BYTES, file_size_bytes=TRIAL_LIMITS_FILE_SIZE_BYTES)


def sandbox_problem(limits=None):
    """Why grading cannot use the sandbox here, or None when it can (starts one, ~0.1 s).

    Inputs:
    - limits: SandboxLimits for the trial (default: the TRIAL_LIMITS_* constants).
    Returns:
    - None, or one message saying what is wrong and how to fix it. A missing cgroup is not a problem
      (the sandbox falls back to rlimits): ``sandbox_mechanisms()`` tells which mechanisms are in use.
    """
    problem = _missing_tools()
    if problem:
        return problem
    limits = limits or _trial_limits()
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as scratch:
        try:
            result = run([sys.executable, "-c", "import dlcourse"], scratch, limits, timeout=60)
        except SandboxError as exc:
            return str(exc)
        except OSError as exc:
            return f"cannot start bwrap: {exc}"
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or [result.diagnosis])[-1]
        return (f"the sandbox cannot start here: {detail}. bwrap needs root to create mount, PID, network, "
                f"IPC and UTS namespaces (in a container: run it --privileged, or with CAP_SYS_ADMIN and "
                f"an unconfined seccomp/AppArmor profile); or pass --no-sandbox")
    return None


def sandbox_mechanisms(limits=None):
    """One line naming how memory, processes and CPU are limited here (creates and removes cgroups).

    Returns:
    - e.g. 'memory: cgroup v1 memory (/sys/fs/cgroup/memory/...); processes: cgroup v1 pids (...) +
      RLIMIT_NPROC on a private uid; cpu: cgroup v1 cpu (...)'.
    """
    limits = limits or _trial_limits()
    uid, fd = _claim_uid()
    try:
        cgroups = _Cgroups(f"{CGROUP_NAME_PREFIX}{uid}", limits)
        try:
            return _describe(cgroups, True)
        finally:
            cgroups.remove()
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------------
# Plain commands
# ----------------------------------------------------------------------------------------------

def run(argv, scratch, limits, *, env=None, cwd=None, timeout=None, stdin_text=None, cgroups=True,
        extra_read_only=()):
    """Run a plain command in a sandbox of its own and wait for it.

    Inputs:
    - argv: the command (e.g. [sys.executable, "-c", code]); scratch, limits, env, cwd, cgroups,
      extra_read_only: as for Sandbox; timeout: seconds, then every process of the sandbox is killed.
    - stdin_text: text written to its standard input (default: none, stdin is /dev/null).
    Returns:
    - a SandboxResult (stdout, stderr as text; diagnosis as Sandbox.diagnose).
    """
    with Sandbox(scratch, limits, env=env, cwd=cwd, cgroups=cgroups, extra_read_only=extra_read_only) as box:
        process = subprocess.Popen(box.command(argv), stdin=subprocess.PIPE if stdin_text is not None else
                                   subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, errors="replace", start_new_session=True)
        box.watch(process.pid)
        timed_out = False
        try:
            stdout, stderr = process.communicate(stdin_text, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            box.kill()
            stdout, stderr = process.communicate()
        box.close()
        diagnosis = f"timed out after {timeout:g} s" if timed_out else box.diagnose(process.returncode)
        return SandboxResult(process.returncode, stdout, stderr, timed_out, box.usage, diagnosis)


# ----------------------------------------------------------------------------------------------
# Jupyter kernels
# ----------------------------------------------------------------------------------------------

class SandboxProvisioner(LocalProvisioner):
    """Launches the sandboxed kernel and remembers its exit status; kill and terminate end the whole
    sandbox; a signal other than those goes to the kernel process itself (bwrap forwards none)."""

    exit_status = None

    def _record(self):
        if self.process is not None and self.process.returncode is not None:
            self.exit_status = self.process.returncode

    async def poll(self):
        result = await super().poll()
        self._record()
        return result

    async def launch_kernel(self, cmd, **kwargs):
        info = await super().launch_kernel(cmd, **kwargs)
        self.parent.sandbox.watch(self.process.pid)
        return info

    async def send_signal(self, signum):
        if self.process is None:
            return
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.parent.sandbox.kill()
            return
        pid = self.parent.sandbox.main_pid()
        if pid is not None:
            os.kill(pid, signum)

    async def kill(self, restart=False):
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart=False):
        await self.send_signal(signal.SIGTERM)


class SandboxedKernelManager(KernelManager):
    """A jupyter_client KernelManager whose kernel runs in a Sandbox (ipc transport, files in scratch).

    Inputs (traits, also settable from a traitlets config): scratch, limits (required); python_install,
    venv, package_folder, data_folder, extra_read_only, extra_env, kernel_cwd, use_cgroups, kernel_argv.
    ``interrupt_kernel()`` sends SIGINT to the kernel process itself (see the module docstring).
    Use: ``km = SandboxedKernelManager(scratch=..., limits=...); km.start_kernel(); kc = km.client()``,
    or ``NotebookClient(nb, km=km).execute()``. After the kernel died: ``km.diagnosis()``.
    ``km.shutdown_kernel()`` leaves no process behind and removes the cgroups (nbclient calls it only
    for a manager it created itself: call it for yours).
    """

    scratch = Unicode(help="the scratch folder: the kernel's only writable folder and its cwd").tag(config=True)
    limits = Instance(SandboxLimits, allow_none=True,
                      help="the sandbox's SandboxLimits (required)").tag(config=True)
    python_install = Unicode("", help="bound read-only (default sys.base_prefix)").tag(config=True)
    venv = Unicode("", help="bound read-only (default sys.prefix)").tag(config=True)
    package_folder = Unicode("", help="the dlcourse package, bound read-only").tag(config=True)
    data_folder = Unicode("", help="the course data, bound read-only").tag(config=True)
    extra_read_only = List(Unicode(), help="more folders bound read-only").tag(config=True)
    extra_env = Dict(value_trait=Unicode(), help="environment of the kernel, e.g. the course kernel's").tag(config=True)
    kernel_cwd = Unicode("", help="working directory inside (default: the scratch folder)").tag(config=True)
    use_cgroups = Bool(True, help="False: rlimits only").tag(config=True)
    kernel_argv = List(Unicode(), default_value=[sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                                                 "-f", "{connection_file}"],
                       help="the kernel command run inside").tag(config=True)
    transport = CaselessStrEnum(["ipc"], default_value="ipc", help="only ipc crosses the sandbox").tag(config=True)

    sandbox = None
    _sandbox_spec = None
    provisioner_class = SandboxProvisioner  # what launches the kernel in the sandbox

    @property
    def kernel_spec(self):
        if self._sandbox_spec is None:
            self._sandbox_spec = KernelSpec(argv=list(self.kernel_argv), env={}, language="python",
                                            display_name="Python 3 (sandboxed)",
                                            interrupt_mode="signal", metadata={})
        return self._sandbox_spec

    def _kernel_env(self):
        # ipykernel polls JPY_PARENT_PID and exits when its parent looks gone (parent pid 1 counts as
        # gone): inside, its parent *is* pid 1, bwrap's init, which lives exactly as long as the kernel.
        # "1" turns the poller off (and the "Ctrl-C will not work" banner); --die-with-parent does its job.
        return {"JPY_PARENT_PID": "1", **self.extra_env}

    def _open_sandbox(self):
        if self.limits is None:
            raise SandboxError("SandboxedKernelManager needs limits=SandboxLimits(...)")
        if not self.scratch:
            raise SandboxError("SandboxedKernelManager needs scratch=<folder>")
        if self.sandbox is None or not self.sandbox.is_open:
            self.sandbox = Sandbox(self.scratch, self.limits, python_install=self.python_install or None,
                                   venv=self.venv or None, package_folder=self.package_folder or None,
                                   data_folder=self.data_folder or None,
                                   extra_read_only=tuple(self.extra_read_only), env=self._kernel_env(),
                                   cwd=self.kernel_cwd or None, cgroups=self.use_cgroups).open()
            self._connection_file_written = False
            self.connection_file = os.path.join(self.sandbox.runtime, "kernel.json")
            self.ip = os.path.join(self.sandbox.runtime, "kernel-ipc")
        return self.sandbox

    async def _async_pre_start_kernel(self, **kw):
        self._open_sandbox()
        self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or os.urandom(16).hex()
        if self.provisioner is None:
            self.provisioner = self.provisioner_class(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                      parent=self)
        try:
            return await super()._async_pre_start_kernel(**kw)
        except BaseException:
            self.close_sandbox()
            raise

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.sandbox is not None and self.sandbox.is_open:  # the kernel's uid must read it
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.uid, follow_symlinks=False)

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments))

    async def _async_cleanup_resources(self, restart=False):
        self.close_sandbox()  # first: no process of the student is left when files are removed
        await super()._async_cleanup_resources(restart=restart)

    def close_sandbox(self):
        """Kill whatever is left of the sandbox and remove it (shutdown_kernel does this)."""
        if self.sandbox is not None and self.sandbox.is_open:
            self.sandbox.close()
        if self.provisioner is not None:
            self.provisioner._record()

    @property
    def exit_status(self):
        """bwrap's exit status once the kernel ended (128 + N: killed by signal N), else None."""
        if self.provisioner is not None:
            self.provisioner._record()
            return self.provisioner.exit_status
        return None

    def kernel_pid(self):
        """Host pid of the kernel process while it runs, else None."""
        return self.sandbox.main_pid() if self.sandbox is not None else None

    def hand_over(self, path):
        """Give a file or folder copied into the scratch folder after start to the kernel's uid."""
        self._open_sandbox().hand_over(path)

    def diagnosis(self):
        """Why the kernel ended: 'out of memory (limit 6 GB)', 'killed by signal SIGSEGV', 'exit code 1'..."""
        if self.sandbox is None:
            return "the kernel was never started"
        return self.sandbox.diagnose(self.exit_status)


class AsyncSandboxedKernelManager(SandboxedKernelManager, AsyncKernelManager):
    """The AsyncKernelManager flavour of SandboxedKernelManager (nbclient's default manager class)."""


# ----------------------------------------------------------------------------------------------
# Start-up overhead
# ----------------------------------------------------------------------------------------------

def _time_kernel(manager):
    """Seconds from start_kernel to the reply of ``1+1``, then the seconds of shutdown_kernel."""
    start = time.perf_counter()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive("1+1", timeout=120, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"1+1 failed: {reply['content']}")
        started = time.perf_counter() - start
    finally:
        client.stop_channels()
        stop = time.perf_counter()
        manager.shutdown_kernel()
    return started, time.perf_counter() - stop


def measure_startup_overhead(limits, repeats=5, kernel_argv=None, extra_env=None):
    """Kernel start-up in the sandbox vs the same kernel without it, alternated, ``repeats`` pairs.

    Inputs:
    - limits: SandboxLimits; kernel_argv, extra_env: the kernel's command and environment (default:
      SandboxedKernelManager's command, no extra variables).
    Returns:
    - a dict of medians in seconds: plain_start, sandbox_start (start_kernel to the reply of 1+1),
      plain_shutdown, sandbox_shutdown; overhead = sandbox (start + shutdown) - plain (start +
      shutdown), the median of the pairs' differences, and ratio, the median of the pairs' ratios.
    """
    plain, boxed, differences, ratios = [], [], [], []
    argv = list(kernel_argv or SandboxedKernelManager.kernel_argv.default_value)
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
            spec = KernelSpec(argv=argv, env=dict(extra_env or {}), language="python", display_name="plain")
            manager = KernelManager(transport="ipc", connection_file=os.path.join(scratch, "kernel.json"),
                                    ip=os.path.join(scratch, "kernel-ipc"))
            manager._kernel_spec = spec
            plain.append(_time_kernel(manager))
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
            boxed.append(_time_kernel(SandboxedKernelManager(scratch=scratch, limits=limits, kernel_argv=argv,
                                                             extra_env=dict(extra_env or {}))))
        differences.append(sum(boxed[-1]) - sum(plain[-1]))
        ratios.append(sum(boxed[-1]) / sum(plain[-1]))
    return {"repeats": repeats,
            "plain_start": statistics.median(p[0] for p in plain),
            "sandbox_start": statistics.median(b[0] for b in boxed),
            "plain_shutdown": statistics.median(p[1] for p in plain),
            "sandbox_shutdown": statistics.median(b[1] for b in boxed),
            "overhead": statistics.median(differences), "ratio": statistics.median(ratios)}


def main(argv=None):
    """``python -m dlcourse.instructor.sandbox check|benchmark``: availability and mechanisms; the
    benchmark also times ``--repeats`` kernel start-ups (the kernel ``--kernel``, as registered in this
    environment, with its command and environment) with and without the sandbox."""
    parser = argparse.ArgumentParser(prog="python -m dlcourse.instructor.sandbox", description=main.__doc__)
    parser.add_argument("command", choices=["check", "benchmark"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kernel", default="dlcourse", help="registered kernel to time (default: dlcourse)")
    args = parser.parse_args(argv)
    problem = sandbox_problem()
    if problem:
        print(f"sandbox unavailable: {problem}", file=sys.stderr)
        return 1
    print(sandbox_mechanisms())
    if args.command == "benchmark":
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(args.kernel)
        argv = [sys.executable] + spec.argv[1:]  # this environment's python (the spec may name a copy)
        figures = measure_startup_overhead(_trial_limits(), args.repeats, argv, spec.env)
        print(json.dumps({"kernel": args.kernel, **figures}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
