"""Grading one submission, in the grader's own process: what a worker does with one job's bytes.

For each notebook of the assignment: the submitted notebook is inspected and restored from the source
(``inspection``), a fresh kernel is taken from the pool (sandboxed, guard installed, libraries imported:
``kernels``), and the cells are run one by one (``execution``). Student cells run as cells; a test cell
runs through the guard's runner and scores only with the runner's proof (``guard.verify``). Scores are
computed here, from the kernel's replies, never read back from a file or database the submission's
processes could reach. A dead kernel, a cell that ignores its interrupt or the submission's time limit
stops the notebook: the test cells that ran keep their result, the others fail with the cell and the
cause named. Flags (``guard``) are added for code that reaches into the kernel or the grader.

Inputs and outputs are plain data (``grade_payload``), so a worker on another machine can do it.
"""

import ast
import copy
import hashlib
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import nbformat
from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86
from nbgrader.utils import determine_grade

from dlcourse.instructor.config import STUDENT_FILE_LIMIT, GradingLimits
from dlcourse.instructor.guard import (HEARTBEAT, describe_event, is_tampering, module_aliases, names_defined,
                                       new_nonce, remember_expression, scan_code, test_expression, verify)
from dlcourse.instructor.inspection import inspect_submission, restore_from_source, student_copy
from dlcourse.instructor.markers import bonus_points, cell_kind, grade_id
from dlcourse.instructor.pysource import parse as parse_python



def first_preload(root, assignment):
    """The modules the kernel of the assignment's first notebook preloads ([] without a notebook)."""
    paths = sorted((Path(root) / "source" / assignment).glob("*.ipynb"))[:1]
    return [SourceFacts(nbformat.read(path, as_version=4)).preload for path in paths][0] if paths else []


def payload_for(job, root, limits: GradingLimits, sandboxed):
    """What a worker needs to grade ``job``: the submission's bytes, the source notebooks', the limits."""
    folder, source = Path(job.folder), Path(root) / "source" / job.assignment
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
             if p.is_file() and (p.suffix == ".ipynb" or p.stat().st_size < STUDENT_FILE_LIMIT)} \
        if folder.is_dir() else {}
    return {"student": job.student, "assignment": job.assignment, "files": files,
            "sources": {p.name: p.read_bytes() for p in sorted(source.glob("*.ipynb"))},
            "limits": asdict(limits), "sandboxed": sandboxed}


class SourceFacts:
    """What the grader derives once from a source notebook: the modules to preload, the names the locked
    cells define (protected), and the module aliases (for the static scan)."""

    def __init__(self, source):
        imports, locked, assigned, aliases = set(), set(), set(), set()
        for cell in source.cells:
            if cell.cell_type != "code":
                continue
            imports |= _imported_modules(cell.source)
            if cell_kind(cell) == "locked":
                locked |= names_defined(cell.source)
                aliases |= module_aliases(cell.source)
            else:  # a name the course's own solution, tests or experiments assign again is not protected
                assigned |= names_defined(cell.source)
        self.preload = sorted(imports)
        self.protected = locked - assigned
        self.aliases = aliases | {"np", "torch", "tf", "math", "keras", "dlcourse"}


def _imported_modules(source):
    try:
        tree = parse_python(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def cell_file_name(code):
    """The file name ipykernel compiles a cell's code under (so an audit event names its cell)."""
    return f"{murmur2_x86(code, get_tmp_hash_seed())}.py"


class NotebookGrading:
    """The state of one notebook being graded: its cells' entries, flags, timings, the reason it stopped."""

    def __init__(self, name, notebook, facts):
        self.name, self.notebook, self.facts = name, notebook, facts
        self.entries, self.flags, self.timings, self.problems, self.stopped = {}, [], {}, [], None
        self.files = {}  # ipykernel cell file name -> cell id

    def flag(self, cell, line, what):
        entry = {"notebook": self.name, "cell": grade_id(cell) or cell.get("id"), "line": line, "what": what}
        if entry not in self.flags:
            self.flags.append(entry)

    def audit(self, events, cell):
        """Flag the events (those of student code), each at the cell that defined the code that raised it;
        the course's own locked cells are not student code."""
        for event in events:
            if event.get("event") == HEARTBEAT:
                continue
            file = Path(str(event.get("file", ""))).name
            where = self.files.get(file)
            target = next((c for c in self.notebook.cells if c.get("id") == where), cell) if where else cell
            if cell_kind(target) in ("locked", "test"):
                continue
            self.flag(target, int(event.get("line") or 0), describe_event(event) + " (at run time)")


def _relabel_stderr(outputs):
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            output["name"] = "stdout"
    return outputs


def _watched(kernel, answer, proven, nonce, events):
    """The test's proof, voided when the audit channel missed its heartbeat or saw tampering during it."""
    if not proven:
        return answer, False
    if not all(any(e.get("event") == HEARTBEAT and e.get("nonce") == nonce and e.get("end") == end for e in events)
               for end in (False, True)):
        return {"status": "tampered", "ename": "TamperedTest",
                "evalue": "the grader's audit channel was silenced: the test cannot be trusted"}, False
    tampering = sorted({str(e.get("event")) for e in events if is_tampering(e)})
    if tampering:
        return {"status": "tampered", "ename": "TamperedTest",
                "evalue": "student code used " + ", ".join(tampering) + " while the test ran"}, False
    return answer, True


def _run_test(kernel, cell, timeout):
    """Run a test cell through the guard; returns (CellRun, entry of the record, runner's answer, events)."""
    nonce = new_nonce()
    run = kernel.session.run("", timeout, {"test": test_expression(kernel.runner_name, cell.source, nonce,
                                                                     grade_id(cell))})
    answer, proven = verify(run.reply, kernel.secret, nonce, cell.source) if run.reply else (
        {"ename": "NotRun", "evalue": f"the test did not finish ({run.status})"}, False)
    events = kernel.audit.take(until_nonce=nonce if proven else None)
    answer, proven = _watched(kernel, answer, proven, nonce, events)
    outputs = _relabel_stderr(run.outputs)
    if answer.get("ename"):
        traceback = answer.get("traceback") or [f"{answer['ename']}: {answer.get('evalue', '')}"]
        outputs.append(nbformat.v4.new_output("error", ename=answer["ename"], evalue=answer.get("evalue", ""),
                                              traceback=[str(line) for line in traceback]))
    cell.outputs = outputs
    points, nbgrader_score = float(cell.metadata.nbgrader.get("points", 0)), determine_grade(cell)[0]
    passed = proven and run.status == "ok" and nbgrader_score == points
    message = "" if passed else f"{answer.get('ename', 'Error')}: {answer.get('evalue', '')}".strip()
    entry = {"type": "test", "score": points if passed else 0.0, "max_score": points,
             "bonus": bonus_points(cell) if passed else 0.0, "bonus_max": bonus_points(cell), "message": message[:1500],
             "status": answer.get("status", run.status)}
    return run, entry, answer, events


def _run_cell(kernel, grading, cell, timeout, counter):
    """Run one code cell (test cells through the guard); record its outputs, timing and audit events."""
    kind, events = cell_kind(cell), []
    if kind == "test":
        run, entry, answer, events = _run_test(kernel, cell, timeout)
        grading.entries[grade_id(cell)] = entry
        for restored in answer.get("restored") or []:
            grading.flag(cell, 0, f"the course's {restored} had been replaced before this test (restored)")
        if answer.get("status") in ("tampered", "forged"):
            grading.flag(cell, 0, answer.get("evalue", "the test was tampered with"))
    else:
        grading.files[cell_file_name(cell.source)] = cell.get("id")
        run = kernel.session.run(cell.source, timeout)
        cell.outputs = run.outputs
        if kind == "locked" and run.status in ("ok", "error"):
            names = names_defined(cell.source) & grading.facts.protected
            kernel.session.run("", 30, {"r": remember_expression(kernel.runner_name, names)})
    cell.execution_count = counter
    grading.timings[cell.get("id")] = round(run.seconds, 3)
    grading.audit(events + kernel.audit.take(), cell)
    if run.truncated:
        grading.problems.append(f"{grading.name}: cell `{cell.get('id')}` printed too much; its output was cut")
    if any(o.get("ename") == "MemoryError" for o in run.outputs if o.get("output_type") == "error"):
        grading.problems.append(f"{grading.name}: out of memory in cell `{cell.get('id')}`")
    return run


def _stop_reason(kernel, run, cell, limits, timeout):
    where = f"in cell `{cell.get('id')}`"
    if run.status == "hung":
        return f"cell `{cell.get('id')}` ran past its time limit of {timeout:g} s and ignored the interrupt"
    diagnosis = kernel.diagnosis()
    if "memory" in diagnosis:
        return f"out of memory (limit {limits.memory_limit_gb:g} GB) {where}"
    return f"the kernel died {where} ({diagnosis})"


def run_notebook(kernel, grading, limits, deadline):
    """Run every code cell of ``grading.notebook`` in ``kernel`` until the end or until it must stop."""
    counter = 0
    for cell in grading.notebook.cells:
        if cell.cell_type != "code":
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            grading.stopped = f"the submission's time limit of {limits.time_limit:g} s was reached before cell " \
                              f"`{cell.get('id')}`"
            return
        counter += 1
        timeout = min(limits.cell_timeout, remaining)
        run = _run_cell(kernel, grading, cell, timeout, counter)
        if run.status in ("hung", "dead"):
            grading.stopped = _stop_reason(kernel, run, cell, limits, round(timeout))
            return
        if run.status == "timeout":
            grading.problems.append(f"{grading.name}: cell `{cell.get('id')}` ran past its time limit of "
                                    f"{round(timeout)} s and was interrupted")


def _answer_entry(cell, source_cell):
    answered = cell.source.strip() != student_copy(source_cell).source.strip()
    return {"type": "manual", "score": None, "max_score": float(cell.metadata.nbgrader.get("points", 0)),
            "answered": answered, "sha256": hashlib.sha256(cell.source.encode()).hexdigest()}


def finish_entries(grading, source):
    """Entries for the cells that did not run (0, with the reason) and for the written answers (pending)."""
    by_id = {grade_id(c): c for c in source.cells if grade_id(c)}
    for cell in grading.notebook.cells:
        gid, kind = grade_id(cell), cell_kind(cell)
        if kind == "test" and gid not in grading.entries:
            points = float(cell.metadata.nbgrader.get("points", 0))
            grading.entries[gid] = {"type": "test", "score": 0.0, "max_score": points, "bonus": 0.0,
                                    "bonus_max": bonus_points(cell), "status": "not run",
                                    "message": f"not run: {grading.stopped or 'the notebook stopped before it'}"}
        elif kind == "answer":
            grading.entries[gid] = _answer_entry(cell, by_id[gid])


def static_flags(grading):
    """Flags of the student's own code: the solution cells and every ordinary code cell of the notebook
    being graded (after restoring, a cell with forged or unknown grading metadata is an ordinary cell)."""
    for cell in grading.notebook.cells:
        if cell.cell_type == "code" and cell_kind(cell) in ("solution", None):
            for line, what in scan_code(cell.source, grading.facts.protected, grading.facts.aliases):
                grading.flag(cell, line, what)


def grade_notebook(pool, name, submitted, source, files, limits, deadline, then=None):
    """Grade one notebook of a submission in a fresh kernel from ``pool``; returns its NotebookGrading.
    ``then``: the preloads of the kernels to warm next (``KernelPool.take``)."""
    facts = SourceFacts(source)
    grading = NotebookGrading(name, restore_from_source(submitted, source), facts)
    static_flags(grading)
    kernel = pool.take(facts.preload, then)
    try:
        kernel.add_files(files)
        run_notebook(kernel, grading, limits, deadline)
        closed_early = kernel.audit.closed and kernel.manager.is_alive()
    finally:
        kernel.stop()
    if closed_early:
        grading.flag(grading.notebook.cells[0], 0, "closed the grader's audit channel")
    finish_entries(grading, source)
    return grading


def _write_inputs(payload, folder):
    """The payload's files on disk, outside any sandbox: (submission folder, source folder)."""
    submission, source = folder / "submission", folder / "source"
    submission.mkdir()
    source.mkdir()
    for name, data in payload["files"].items():
        (submission / Path(name).name).write_bytes(data)
    for name, data in payload["sources"].items():
        (source / Path(name).name).write_bytes(data)
    return submission, source


def grade_payload(payload, pool, workdir):
    """Grade one submission from its payload (``payload_for``) with kernels from ``pool``.

    Returns:
    - a plain dict: status, reason, problems, flags, notebooks ({file: {grade id: entry}}), timings
      ({file: {cell id: seconds}}), autograded ({file: notebook JSON text}), seconds.
    """
    start, limits = time.monotonic(), GradingLimits(**payload["limits"])
    result = {"status": "graded", "reason": "", "problems": [], "flags": [], "notebooks": {}, "timings": {},
              "autograded": {}}
    inputs = Path(tempfile.mkdtemp(prefix="inputs-", dir=workdir))
    try:
        submission, source_folder = _write_inputs(payload, inputs)
        notebooks, result["problems"] = inspect_submission(submission, source_folder)
        files = {name: data for name, data in payload["files"].items() if not name.endswith(".ipynb")}
        names = sorted(payload["sources"])
        sources = {name: nbformat.read(source_folder / name, as_version=4) for name in names}
        for index, name in enumerate(names):
            source = sources[name]
            # the kernel to warm next: this submission's next notebook, else what the client says comes next
            # (payload "warm_next": a list of preloads, [] after the last job), else the same kind again
            then = ([SourceFacts(sources[names[index + 1]]).preload] if index + 1 < len(names)
                    else payload.get("warm_next"))
            if name in notebooks:
                grading = grade_notebook(pool, name, notebooks[name], source, files, limits,
                                         start + limits.time_limit, then)
            else:
                grading = NotebookGrading(name, _empty(source), SourceFacts(source))
                grading.stopped = "the notebook is missing or could not be read"
                finish_entries(grading, source)
            _merge(result, grading, graded=name in notebooks)
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    if not notebooks:
        result["status"], result["reason"] = "failed", "no notebook could be graded (see the problems)"
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _empty(source):
    """The notebook graded in place of a missing or unreadable one: the student's copy, untouched."""
    notebook = nbformat.from_dict(copy.deepcopy(dict(source)))
    notebook.cells = [student_copy(cell) if cell_kind(cell) in ("solution", "answer") else cell
                      for cell in notebook.cells]
    return notebook


def _merge(result, grading, graded):
    result["notebooks"][grading.name] = grading.entries
    result["timings"][grading.name] = grading.timings
    result["flags"] += grading.flags
    result["problems"] += grading.problems
    if grading.stopped and graded:
        result["reason"] = (result["reason"] + "; " if result["reason"] else "") + f"{grading.name}: {grading.stopped}"
    if graded:
        result["autograded"][grading.name] = nbformat.writes(grading.notebook)
