"""Tamper evidence: what a submission's code cannot fake about the test cells, and what it is flagged for.

Python in one process cannot be fully protected from itself (the lesson of PrairieLearn's maintainers),
so the guard does two things, both decided outside the kernel:

1. **Proof that a test cell ran its own code to the end.** Before any student code, the grader installs a
   guard in the kernel (``bootstrap_code``): a per-run secret (read from a file the grader wrote and that
   the guard deletes), private references to ``exec``, ``compile``, ``sys.settrace``... taken before the
   student could replace them, a snapshot of ``builtins`` and of the modules the tests rely on (dlcourse,
   NumPy, math, PyTorch), and a runner. A test cell is never sent as cell code: the grader asks the
   kernel to evaluate ``runner(source, nonce)`` as a ``user_expression`` (evaluated by the kernel without
   IPython's input and AST transformers or cell hooks). The runner restores what was patched, re-binds the
   names the locked cells defined, clears trace and profile functions, executes the test's source, checks
   that nothing was patched or traced while it ran, and answers with its status and an HMAC of (nonce,
   source digest, status) under the secret. The grader gives a test cell points only with a valid HMAC
   of an "ok" status for that very source and nonce (``verify``): a cell that was changed, skipped, cut
   short (``sys.exit``), whose error was hidden (an overridden ``showtraceback``), or whose checks were
   replaced does not score.
2. **Flags for review.** Code that reaches into the kernel or the grader is flagged with its cell and line,
   whatever it scored: statically (``scan_code``, on the submitted source) and at run time through a PEP
   578 audit hook, which cannot be removed once installed, reporting events raised by student code
   (``sys.settrace``, ``ctypes``, ``gc`` referrers, frame inspection, ``exec``/``compile``, processes,
   sockets...) on a pipe whose only reader is the grader (``AuditReader``).
"""

import ast
import hashlib
import hmac
import json
import os
import secrets
import threading
import time

from dlcourse.instructor.pysource import literal_eval, parse as parse_python

GUARD_FILENAME = "<dlcourse guard>"
TEST_FILENAME = "<dlcourse test {grade_id}>"
# The modules whose functions the tests call; their functions and classes are restored before every test.
# module -> the names restored before every test (None: every function and class of the module). PyTorch
# and TensorFlow rebind some of their own functions lazily, so only their comparisons are protected.
PROTECTED_MODULES = {"builtins": None, "math": None, "numpy": None, "numpy.linalg": None, "numpy.random": None,
                     "numpy.testing": None, "torch": ["allclose", "equal", "isclose", "abs", "all", "any", "max", "min"],
                     "torch.testing": ["assert_close"], "tensorflow": ["reduce_all", "reduce_max", "abs", "equal"]}

AUDIT_EVENTS = {
    "sys.settrace": "installs a trace function (sys.settrace)",
    "sys.setprofile": "installs a profile function (sys.setprofile)",
    "sys._getframe": "inspects interpreter frames (sys._getframe)",
    "sys._current_frames": "inspects interpreter frames (sys._current_frames)",
    "sys.addaudithook": "installs an audit hook",
    "gc.get_referrers": "searches objects through the garbage collector (gc.get_referrers)",
    "gc.get_referents": "searches objects through the garbage collector (gc.get_referents)",
    "gc.get_objects": "searches objects through the garbage collector (gc.get_objects)",
    "exec": "runs dynamically built code (exec/eval)",
    "compile": "compiles code from a string (compile/exec/eval)",
    "code.__new__": "builds a code object",
    "function.__new__": "builds a function from a code object",
    "object.__setattr__": "sets an attribute on a class or module type",
    "os.fork": "forks the process (os.fork)",
    "os.forkpty": "forks the process (os.forkpty)",
    "os.system": "runs a shell command (os.system)",
    "subprocess.Popen": "starts a process (subprocess)",
    "os.kill": "sends a signal to a process (os.kill)",
    "os.killpg": "sends a signal to a process group (os.killpg)",
    "signal.signal": "changes a signal handler",
    "marshal.loads": "loads marshalled code",
}
# Events that, raised by student code while a test cell runs, void that test's points (they can skip or
# change what the test executes); any of them at any time is flagged.
TAMPERING_EVENTS = ("sys.settrace", "sys.setprofile", "sys._getframe", "sys._current_frames", "sys.addaudithook",
                    "gc.", "ctypes.", "code.__new__", "function.__new__")
HEARTBEAT = "dlcourse.heartbeat"
INDIRECT_EVENTS = {"subprocess.Popen"}  # raised in the standard library on behalf of its caller

AUDIT_PREFIXES = {"ctypes.": "uses ctypes (raw memory and C calls)", "socket.": "uses the network (socket)",
                  "os.exec": "replaces the process (os.exec*)", "os.spawn": "starts a process (os.spawn*)",
                  "os.posix_spawn": "starts a process (os.posix_spawn)", "_winapi": "calls the OS directly"}

# Runs in the kernel, compiled under GUARD_FILENAME (so its own events are never attributed to a student).
GUARD_SOURCE = r'''
def _dlcourse_install(secret_path, audit_fd, preload, protected_modules, audit_events, audit_prefixes,
                      direct_events, stdlib_dirs, runner_name):
    import builtins, hashlib, hmac, importlib, json, os, sys, traceback
    shell = get_ipython()
    user_ns = shell.user_ns
    with open(secret_path, "rb") as handle:
        secret = handle.read()
    os.remove(secret_path)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    _exec, _compile, _dumps, _write, _getframe = builtins.exec, builtins.compile, json.dumps, os.write, sys._getframe
    _settrace, _gettrace, _setprofile, _getprofile = sys.settrace, sys.gettrace, sys.setprofile, sys.getprofile
    _hmac, _sha256, _format_exception = hmac.new, hashlib.sha256, traceback.format_exception
    _vars, _dict, _list, _sorted, _callable, _isinstance, _type = vars, dict, list, sorted, callable, isinstance, type
    _BaseException, _str, _getattr, _tuple, _any = BaseException, str, getattr, tuple, any
    # IPython and ipykernel set these builtins themselves, per cell or per request (input: stdin forwarding)
    _modules = sys.modules
    _ipython_names = {"get_ipython", "display", "exit", "quit", "__IPYTHON__", "help", "input", "raw_input"}

    def snapshot():
        taken = {}
        for name, keys in protected_modules.items():
            module = _modules.get(name)
            if module is not None:
                taken[name] = {key: value for key, value in _vars(module).items()
                               if _callable(value) and not _isinstance(value, _type(sys))
                               and key not in _ipython_names and (keys is None or key in keys)}
        return taken

    modules = snapshot()
    for name in _list(_modules):
        if name == "dlcourse" or name.startswith("dlcourse."):
            module = _modules[name]
            modules[name] = {key: value for key, value in _vars(module).items()
                             if _callable(value) and not _isinstance(value, _type(sys))}
    locked = {}

    def patched():
        """[(module, name)] whose protected value was replaced or removed."""
        found = []
        for module_name, values in modules.items():
            current = _vars(_modules[module_name]) if module_name in _modules else {}
            for key, value in values.items():
                if current.get(key) is not value:
                    found.append((module_name, key))
        for key, value in locked.items():
            if user_ns.get(key) is not value:
                found.append(("notebook", key))
        return found

    def restore(found):
        for module_name, key in found:
            if module_name == "notebook":
                user_ns[key] = locked[key]
            elif module_name in _modules:
                _vars(_modules[module_name])[key] = modules[module_name][key]
        user_ns["__builtins__"] = builtins

    def remember(names):
        """After a locked cell: the values of the names it defined are protected from now on."""
        for key in names:
            if key in user_ns:
                locked[key] = user_ns[key]
        return "remembered"

    def answer(status, nonce, digest, extra):
        mac = _hmac(secret, (nonce + ":" + digest + ":" + status).encode(), _sha256).hexdigest()
        extra["status"], extra["mac"] = status, mac
        return _dumps(extra)

    def beat(nonce, end):
        try:  # the grader requires these heartbeats: a silenced audit channel cannot hide what happens between
            _write(audit_fd, (_dumps({"event": "dlcourse.heartbeat", "nonce": nonce, "end": end}) + "\n").encode())
        except _BaseException:
            pass

    def run(source, nonce, grade_id):
        beat(nonce, False)
        try:
            return run_checked(source, nonce, grade_id)
        finally:
            beat(nonce, True)

    def run_checked(source, nonce, grade_id):
        digest = _sha256(source.encode()).hexdigest()
        _settrace(None)
        _setprofile(None)
        before = patched()
        restore(before)
        extra = {"restored": [m + "." + k for m, k in before]}
        try:
            code = _compile(source, "<dlcourse test " + grade_id + ">", "exec")
            _exec(code, user_ns)
        except _BaseException as error:
            extra.update(ename=_type(error).__name__, evalue=_str(error)[:4000],
                         traceback=_format_exception(error)[-12:])
            return answer("error", nonce, digest, extra)
        traced = _gettrace() is not None or _getprofile() is not None
        _settrace(None)
        _setprofile(None)
        during = patched()
        restore(during)
        if traced or during:
            extra.update(ename="TamperedTest", evalue="the course's checks were replaced or traced while the "
                         "test ran: " + ", ".join([m + "." + k for m, k in during] + (["a trace function"] if traced else [])))
            return answer("tampered", nonce, digest, extra)
        return answer("ok", nonce, digest, extra)

    busy = [False]

    def is_student(filename):
        return ("/ipykernel_" in filename and filename.endswith(".py")) or filename == "<string>" \
            or filename.startswith("<ipython-input")

    def student_frame(direct):
        """The student's frame that raised the event, or None. A direct event (a builtin such as
        sys._getframe) counts only when student code called it itself (the standard library calls some of
        them on anyone's behalf: logging, namedtuple); an indirect one (subprocess, sockets, ctypes) is
        traced back through the standard library to the code that asked for it."""
        frame = _getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename == "<dlcourse guard>" or filename.startswith("<dlcourse test"):
                return None
            if is_student(filename):
                return frame
            if direct or not (filename.startswith("<frozen") or _any(filename.startswith(d) for d in stdlib_dirs)):
                return None
            frame = frame.f_back
        return None

    # event -> whether the guard looks at it, computed once per name: one dict lookup for the events student
    # code raises in loops (practical 1's topological sorts raise builtins.id 541,000 times a submission)
    watched = {}

    def hook(event, args):
        looked_at = watched.get(event)
        if looked_at is None:
            looked_at = watched[event] = event in audit_events or event.startswith(audit_prefixes)
        if busy[0] or not looked_at:
            return
        busy[0] = True
        try:
            frame = student_frame(event in direct_events)
            if frame is not None:
                detail = ""
                if event == "compile" and args:
                    detail = _str(args[-1])[:120]
                elif event not in ("exec", "code.__new__", "function.__new__"):
                    detail = _str(args)[:120]
                _write(audit_fd, (_dumps({"event": event, "file": frame.f_code.co_filename,
                                          "line": frame.f_lineno, "detail": detail}) + "\n").encode())
        except _BaseException:
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)
    user_ns[runner_name] = run
    user_ns[runner_name + "_remember"] = remember
    return "installed"
'''


def new_secret():
    return secrets.token_bytes(32)


def new_nonce():
    return secrets.token_hex(16)


def new_runner_name():
    return f"_dlcourse_{secrets.token_hex(8)}"


def bootstrap_code(secret_path, audit_fd, preload, runner_name):
    """The cell the grader runs first, before any student code: it installs the guard (see the module
    docstring); ``preload`` modules are imported on the way (the kernel pool's warm-up)."""
    import sysconfig

    stdlib_dirs = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
    arguments = (str(secret_path), audit_fd if audit_fd is not None else -1, list(preload), PROTECTED_MODULES,
                 sorted(AUDIT_EVENTS), tuple(sorted(AUDIT_PREFIXES)), sorted(set(AUDIT_EVENTS) - INDIRECT_EVENTS),
                 tuple(stdlib_dirs), runner_name)
    return (f"exec(compile({GUARD_SOURCE!r}, {GUARD_FILENAME!r}, 'exec'))\n"
            f"_dlcourse_install(*{arguments!r})\n"
            "del _dlcourse_install\n")


def test_expression(runner_name, source, nonce, grade_id):
    """The user_expression that runs a test cell's source through the guard's runner."""
    return f"{runner_name}({source!r}, {nonce!r}, {grade_id!r})"


def remember_expression(runner_name, names):
    return f"{runner_name}_remember({sorted(names)!r})"


def expected_mac(secret, nonce, source, status):
    digest = hashlib.sha256(source.encode()).hexdigest()
    return hmac.new(secret, f"{nonce}:{digest}:{status}".encode(), hashlib.sha256).hexdigest()


def verify(reply, secret, nonce, source):
    """The runner's answer for a test cell, checked.

    Inputs:
    - reply: the execute_reply content of the request that carried the test expression under key "test".
    Returns:
    - (answer dict, proven): proven is True only for a valid HMAC of an "ok" status for this source and
      nonce; answer holds status, ename, evalue, traceback and the names restored before the test.
    """
    result = (reply.get("user_expressions") or {}).get("test") or {}
    if result.get("status") != "ok":
        return {"status": "error", "ename": result.get("ename", "GradingError"),
                "evalue": result.get("evalue", "the test's result did not come back from the kernel")}, False
    text = (result.get("data") or {}).get("text/plain", "")
    try:
        answer = json.loads(literal_eval(text))
    except (ValueError, SyntaxError, TypeError):
        return {"status": "error", "ename": "GradingError", "evalue": "the test's result was not readable"}, False
    if not isinstance(answer, dict) or not isinstance(answer.get("mac"), str):
        return {"status": "error", "ename": "GradingError", "evalue": "the test's result was not readable"}, False
    status = str(answer.get("status"))
    genuine = hmac.compare_digest(answer["mac"], expected_mac(secret, nonce, source, status))
    if not genuine:
        return {"status": "forged", "ename": "TamperedTest",
                "evalue": "the test's result did not come from the course's runner"}, False
    return answer, status == "ok"


class AuditReader:
    """Reads the audit pipe in a thread; ``take()`` returns the events that arrived since the last call.

    A closed pipe (EOF before the kernel was stopped) is itself an event: the channel was silenced.
    """

    def __init__(self, read_fd):
        self._fd, self._events, self._lock, self.closed = read_fd, [], threading.Lock(), False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            parsed = []
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    event = {"event": "garbage", "detail": line[:120].decode(errors="replace")}
                parsed.append(event if isinstance(event, dict) else {"event": "garbage"})
            with self._lock:
                self._events.extend(parsed[:10000 - len(self._events)])
        try:
            os.close(self._fd)
        except OSError:
            pass

    def take(self, until_nonce=None, timeout=5.0):
        """The events since the last call; with ``until_nonce``, first wait (at most ``timeout`` s) for that
        test's closing heartbeat, so that every event the test raised has been read."""
        deadline = time.monotonic() + timeout
        while until_nonce is not None and not self.closed and time.monotonic() < deadline:
            with self._lock:
                if any(e.get("event") == HEARTBEAT and e.get("nonce") == until_nonce and e.get("end")
                       for e in self._events):
                    break
            time.sleep(0.005)
        with self._lock:
            events, self._events = self._events, []
        return events


def is_tampering(event):
    return str(event.get("event", "")).startswith(TAMPERING_EVENTS)


def describe_event(event):
    name = str(event.get("event", ""))
    if name in AUDIT_EVENTS:
        return AUDIT_EVENTS[name]
    for prefix, text in AUDIT_PREFIXES.items():
        if name.startswith(prefix):
            return text
    return f"audit event {name}"


# ----------------------------------------------------------------------------------------------
# Static scan of the submitted code
# ----------------------------------------------------------------------------------------------

REACHING_NAMES = {
    "get_ipython": "reaches into the IPython kernel (get_ipython)",
    "__builtins__": "touches __builtins__",
    "__import__": "imports through __import__",
    "globals": "reads or changes the notebook's globals()",
    "locals": "reads or changes locals()",
    "vars": "reads or changes a namespace through vars()",
    "exec": "runs code from a string (exec)",
    "eval": "evaluates code from a string (eval)",
    "compile": "compiles code from a string",
    "setattr": "sets attributes by name (setattr)",
    "delattr": "deletes attributes by name (delattr)",
    "dir": "lists a namespace (dir)",
    "attrgetter": "gets attributes by name (operator.attrgetter)",
}
# String constants naming the guard or interpreter internals (getattr(f, "__closure__"), "_dlcourse_...").
SUSPICIOUS_STRINGS = ("_dlcourse", "__closure__", "__globals__", "cell_contents", "__code__", "f_locals", "f_globals",
                      "f_back", "__builtins__", "__subclasses__", "user_ns", "__getattribute__")
REACHING_ATTRIBUTES = {
    "__globals__": "reads a function's globals", "__closure__": "reads a function's closure",
    "cell_contents": "reads a closure cell", "__code__": "reads or replaces a code object",
    "f_locals": "reads frame locals", "f_globals": "reads frame globals", "f_back": "walks interpreter frames",
    "f_trace": "sets a frame's trace function", "__subclasses__": "walks the class hierarchy",
    "settrace": "installs a trace function", "setprofile": "installs a profile function",
    "_getframe": "inspects interpreter frames", "modules": "reaches into sys.modules",
    "input_transformers_cleanup": "changes IPython's input transformers",
    "input_transformers_post": "changes IPython's input transformers", "ast_transformers": "changes IPython's AST transformers",
    "showtraceback": "changes how IPython reports errors", "user_expressions": "reaches into the kernel's replies",
    "register": None, "run_cell": "runs cells through IPython itself", "kernel": None,
}
REACHING_MODULES = {
    "ctypes": "imports ctypes (raw memory and C calls)", "gc": "imports gc (object search)",
    "inspect": "imports inspect (frames and sources)", "importlib": "imports importlib",
    "builtins": "imports builtins", "IPython": "imports IPython", "ipykernel": "imports ipykernel",
    "jupyter_client": "imports jupyter_client", "zmq": "imports zmq", "subprocess": "imports subprocess",
    "multiprocessing": "imports multiprocessing", "signal": "imports signal", "socket": "imports socket",
    "atexit": "imports atexit", "pty": "imports pty", "resource": "imports resource", "traceback": None,
    "sqlite3": "imports sqlite3", "marshal": "imports marshal", "linecache": "imports linecache",
}
OS_CALLS = {"fork", "forkpty", "system", "popen", "kill", "killpg", "setsid", "_exit", "execv", "execve", "execvp",
            "execl", "execle", "execlp", "spawnv", "spawnl", "posix_spawn", "dup2", "close", "closerange"}


class _Scanner(ast.NodeVisitor):
    def __init__(self, protected, module_aliases):
        self.protected, self.aliases, self.found = set(protected), set(module_aliases), []

    def flag(self, node, what):
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_Import(self, node):
        for alias in node.names:
            self._import(node, alias.name, alias.asname or alias.name.split(".")[0])
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        self._import(node, node.module or "", None)
        for alias in node.names:
            if (alias.asname or alias.name) in self.protected:
                self.flag(node, f"rebinds the course's name {alias.asname or alias.name!r} by an import")
        self.generic_visit(node)

    def _import(self, node, module, alias):
        top = module.split(".")[0]
        if REACHING_MODULES.get(top):
            self.flag(node, REACHING_MODULES[top])
        if top == "dlcourse" and ".instructor" in module:
            self.flag(node, "imports the course's grading pipeline")
        if alias:
            self.aliases.add(alias)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and any(word in node.value for word in SUSPICIOUS_STRINGS):
            self.flag(node, f"names interpreter or grader internals in a string ({node.value[:40]!r})")
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2 \
                and not isinstance(node.args[1], ast.Constant):
            self.flag(node, "gets an attribute by a computed name (getattr)")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id.startswith("_dlcourse"):
            self.flag(node, "uses the grader's names (_dlcourse...)")
        if node.id in REACHING_NAMES:
            self.flag(node, REACHING_NAMES[node.id])
        if isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in self.protected:
            self.flag(node, f"rebinds the course's name {node.id!r}")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        what = REACHING_ATTRIBUTES.get(node.attr)
        if what:
            self.flag(node, what)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and (base.id in self.aliases or base.id in ("sys", "os", "builtins")):
                self.flag(node, f"assigns into the module {ast.unparse(node)[:60]}")
        if isinstance(node.value, ast.Name) and node.value.id == "os" and node.attr in OS_CALLS:
            self.flag(node, f"calls os.{node.attr}")
        self.generic_visit(node)

    def _define(self, node):
        if node.name in self.protected:
            self.flag(node, f"redefines the course's name {node.name!r}")
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_Global(self, node):
        for name in node.names:
            if name in self.protected:
                self.flag(node, f"rebinds the course's name {name!r} (global)")
        self.generic_visit(node)


def scan_code(source, protected_names, module_aliases):
    """[(line, what)] of the constructs in ``source`` (a student's cell) that reach into the kernel or the
    grader, or that rebind names the locked cells defined. A cell that does not parse is not flagged here
    (it fails when it runs); IPython magics and shell escapes are flagged as such."""
    lines = source.splitlines()
    found = [(number, "runs an IPython magic or shell command") for number, line in enumerate(lines, 1)
             if line.lstrip().startswith(("%", "!"))]
    cleaned = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    try:
        tree = parse_python(cleaned)
    except SyntaxError:
        return found
    scanner = _Scanner(protected_names, module_aliases)
    scanner.visit(tree)
    return sorted(set(found + scanner.found))


def names_defined(source):
    """Top-level names a locked cell defines (imports, assignments, functions, classes)."""
    try:
        tree = parse_python(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*"}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def module_aliases(source):
    """Names a locked cell binds to modules (``import numpy as np`` -> np)."""
    try:
        tree = parse_python(source)
    except SyntaxError:
        return set()
    return {(alias.asname or alias.name).split(".")[0] for node in tree.body if isinstance(node, ast.Import)
            for alias in node.names}
