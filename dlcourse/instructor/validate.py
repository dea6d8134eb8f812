"""The student's check before submitting: ``./course validate <notebook>`` (and the Validate button).

What it does, and why it differs from ``nbgrader validate``:

* It executes a *copy* of the notebook (in a temporary copy of its folder, in the course kernel) and never
  writes the notebook itself: the student's file keeps its bytes and its modification time.
* Library noise on stderr is relabelled as grading relabels it (``nbgrader_ext.StderrToStdout``), so a
  warning or a progress bar is not a failure (nbgrader's validate counts any stderr as one).
* Each failed check is one line: its name, its points and the check's message (``ExceptionName:
  message``), never the test cell's source or a traceback.
* Written answers still as released (nbgrader's checksum unchanged, or still holding the stub text) are
  listed apart, as "not answered yet": they are graded by hand after submission, not failures.
* Cells of the student's own code that raised something other than the unimplemented stub are listed
  (an error there is often why later checks fail), and so are edited locked cells (grading restores them).

``validate_notebook`` returns a ``Report``; ``format_report`` is the terminal text; ``report_json`` is what the
Validate button's server endpoint (``instructor.jupyter_ext``) returns. ``python -m
dlcourse.instructor.validate <notebook>`` runs it without the course's repository (a student's environment).
"""

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlcourse.instructor.config import CELL_TIMEOUT, STUDENT_FILE_LIMIT, TEXT_STUB
from dlcourse.instructor.markers import bonus_points, cell_kind, grade_id, nbgrader_metadata
from dlcourse.instructor.nbgrader_ext import StderrToStdout
from dlcourse.instructor.notebooks import execute_notebook

ANSWER_STUB = TEXT_STUB
MESSAGE_LIMIT = 300
NOT_WRITTEN = "not written yet"
NOT_WRITTEN_HINT = ("(NotImplementedError: a function the check calls still has `raise NotImplementedError()`; "
                    "replace that line by your code.)")


@dataclass
class Finding:
    """One line of the report. kind: "failed", "unanswered", "code-error", "changed" or "problem"."""
    kind: str
    name: str
    points: float
    message: str


@dataclass
class Report:
    notebook: str
    findings: list = field(default_factory=list)
    checks: int = 0            # autograded checks with points
    points: float = 0.0        # their points
    passed_points: float = 0.0

    def of_kind(self, kind):
        return [f for f in self.findings if f.kind == kind]

    @property
    def ok(self):
        """True when every check passed and every written answer is answered."""
        return not any(f.kind in ("failed", "unanswered", "problem") for f in self.findings)


def one_line(text, limit=MESSAGE_LIMIT):
    text = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return text if len(text) <= limit else text[:limit - 5] + " [...]"


def error_message(cell):
    """'ExceptionName: message' of a cell's first error output, one line ('' when it raised nothing)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), one_line(output.get("evalue", ""))
            if name == "NotImplementedError" and not value:
                return f"NotImplementedError: {NOT_WRITTEN}"
            if "raised NotImplementedError" in value:  # a check that names the stub it called
                return f"NotImplementedError: {NOT_WRITTEN} ({value.split(' raised NotImplementedError')[0]})"
            return f"{name}: {value}" if value else name
    return ""


def _unchanged(cell):
    """True when a cell still has the checksum nbgrader recorded at release (the student did not edit it)."""
    from nbgrader.utils import compute_checksum

    checksum = nbgrader_metadata(cell).get("checksum")
    return bool(checksum) and checksum == compute_checksum(cell)


def static_findings(notebook):
    """What the notebook shows before running it: unanswered written answers and edited locked cells."""
    findings = []
    for cell in notebook.cells:
        kind, meta = cell_kind(cell), nbgrader_metadata(cell)
        if kind == "answer":
            if _unchanged(cell) or ANSWER_STUB in cell.source or not cell.source.strip():
                findings.append(Finding("unanswered", grade_id(cell), float(meta.get("points") or 0),
                                        "not answered yet"))
        elif meta.get("locked") and meta.get("checksum") and not _unchanged(cell):
            findings.append(Finding("changed", grade_id(cell) or "a locked cell", 0.0,
                                    "edited: grading uses the original cell, not your edit"))
    return findings


def run_copy(notebook, folder, timeout=CELL_TIMEOUT):
    """Execute ``notebook`` (a copy, in memory) in a temporary folder holding ``folder``'s small files, as
    grading stages them; return it, or the problem.

    Returns:
    - (executed notebook or None, problem text or "").
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-validate-"))
    try:
        # what grading stages beside a notebook: the student's small files, no folder, no other notebook
        for path in Path(folder).iterdir():
            if path.is_file() and path.suffix != ".ipynb" and path.stat().st_size < STUDENT_FILE_LIMIT:
                shutil.copy(path, workdir / path.name)
        execute_notebook(notebook, cwd=workdir, timeout=timeout, allow_errors=True)
        return notebook, ""
    except CellTimeoutError:
        return notebook, f"a cell ran longer than {timeout} s and was stopped; the checks after it did not run"
    except DeadKernelError:
        return notebook, "the kernel died (out of memory?); the checks after that cell did not run"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def check_findings(notebook, report):
    """The failed checks and the errors in the student's own code of an executed notebook (adds totals)."""
    from nbgrader.utils import determine_grade

    StderrToStdout().preprocess(notebook, {})
    findings = []
    for cell in notebook.cells:
        kind = cell_kind(cell)
        if kind == "solution" and cell.cell_type == "code":
            message = error_message(cell)
            if message and not message.startswith("NotImplementedError"):
                findings.append(Finding("code-error", grade_id(cell) or "your code", 0.0, message))
        if kind != "test" or cell.cell_type != "code":
            continue
        score, maximum = determine_grade(cell)
        if maximum <= 0:  # bonus (extra credit) tests are not counted as checks
            continue
        report.checks += 1
        report.points += maximum
        report.passed_points += score or 0.0
        if (score or 0.0) < maximum:
            message = error_message(cell) or f"partial credit: {score:g} of {maximum:g} points"
            findings.append(Finding("failed", grade_id(cell), maximum, message))
    return findings


def validate_notebook(path, timeout=CELL_TIMEOUT):
    """Check a student's notebook as grading would, without writing it.

    Inputs:
    - path: the notebook (.ipynb); timeout: seconds per cell.
    Returns:
    - a Report (findings in notebook order within each kind).
    """
    import nbformat

    path = Path(path)
    report = Report(notebook=path.name)
    try:
        notebook = nbformat.reads(path.read_bytes().decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable notebook is reported, not raised
        report.findings.append(Finding("problem", path.name, 0.0, f"not a readable notebook: {one_line(exc)}"))
        return report
    report.findings += static_findings(notebook)
    executed, problem = run_copy(notebook, path.parent, timeout)
    if problem:
        report.findings.append(Finding("problem", path.name, 0.0, problem))
    report.findings += check_findings(executed, report)
    return report


SECTIONS = [("problem", "Problems:"), ("failed", "Failed checks:"), ("code-error", "Errors in your code:"),
            ("unanswered", "Not answered yet:"), ("changed", "Edited locked cells:")]  # the report's order


def points_text(value):
    return f"{value:g} point{'s' if value != 1 else ''}"


def format_report(report):
    """The report as short text: a summary line, then one line per finding, grouped by kind."""
    failed, unanswered = report.of_kind("failed"), report.of_kind("unanswered")
    summary = (f"{report.notebook}: {report.checks - len(failed)} of {report.checks} checks passed "
               f"({report.passed_points:g} of {report.points:g} points)")
    if unanswered:
        summary += (f"; {len(unanswered)} written answer(s) not answered yet "
                    f"({points_text(sum(f.points for f in unanswered))}, graded by hand)")
    lines = [summary + "."]
    for kind, title in SECTIONS:
        found = report.of_kind(kind)
        if found:
            lines.append(title)
            for finding in found:
                points = f" ({points_text(finding.points)})" if finding.points else ""
                detail = "" if kind == "unanswered" else f": {finding.message}"
                lines.append(f"  {finding.name}{points}{detail}")
    if any(f.message.startswith(f"NotImplementedError: {NOT_WRITTEN}") for f in failed):
        lines.append(NOT_WRITTEN_HINT)
    if report.ok:
        lines.append("Every check passes and every written answer is answered: ready to submit.")
    return "\n".join(lines)


def report_json(report):
    """The report as JSON-able data (for the Validate button's endpoint)."""
    return {"notebook": report.notebook, "ok": report.ok, "checks": report.checks, "points": report.points,
            "passed_points": report.passed_points, "summary": format_report(report).splitlines()[0],
            "findings": [asdict(finding) for finding in report.findings]}


def main(argv=None):
    """``python -m dlcourse.instructor.validate [--json] NOTEBOOK``: exit 0 when ready to submit, else 1."""
    parser = argparse.ArgumentParser(prog="validate", description="Check a notebook before submitting it.")
    parser.add_argument("notebook")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    if not Path(args.notebook).is_file():
        print(f"validate: no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    report = validate_notebook(args.notebook, timeout=args.timeout)
    print(json.dumps(report_json(report)) if args.json else format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
