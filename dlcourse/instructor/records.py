"""Grading records: what the grading of one submission produced, on disk as JSON.

``autograded/<student>/<assignment>/grading.json`` is written last and atomically by the single writer.
It holds the sha256 of the submitted and source notebooks it was graded from (so a run can tell what is
already graded), the status and reason, the problems found, the review flags (``{"notebook", "cell",
"line", "what"}``), each cell's seconds (``timings``), the submission's time stamp, and per notebook and
grade cell an entry:

- a test: ``{"type": "test", "score", "max_score", "bonus", "bonus_max", "status", "message"}``;
- a written answer: ``{"type": "manual", "score": None, "max_score", "answered", "sha256"}`` (graded by
  hand, in the gradebook: see gradebook.py).
"""

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from dlcourse.instructor.config import source_notebooks

RECORD_NAME = "grading.json"


@dataclass(frozen=True)
class Job:
    """One submission to grade: a student's folder of one assignment (only ever read)."""
    student: str
    assignment: str
    folder: Path


def sha256_file(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def source_hashes(root, assignment):
    folder = Path(root) / "source" / assignment
    return {name: sha256_file(folder / name) for name in source_notebooks(root, assignment)}


def submission_hashes(folder, names):
    """sha256 of each expected notebook of a submission folder (None when missing)."""
    folder = Path(folder)
    return {name: (sha256_file(folder / name) if (folder / name).is_file() else None) for name in names}


def new_record(job, root):
    """A record for ``job`` before grading: its input hashes, status "graded", no problem, no score yet."""
    return {"student": job.student, "assignment": job.assignment,
            "source_sha256": source_hashes(root, job.assignment),
            "submission_sha256": submission_hashes(job.folder, source_notebooks(root, job.assignment)),
            "problems": [], "flags": [], "timings": {}, "status": "graded", "reason": "", "notebooks": {},
            "score": 0.0, "max_score": 0.0, "seconds": 0.0, "graded_at": ""}


def record_from_result(job, root, result, timestamp=None):
    """The record of a graded submission from its worker's result (submission.grade_payload)."""
    record = new_record(job, root)
    for key in ("status", "reason", "problems", "flags", "notebooks", "timings"):
        record[key] = result.get(key, record[key])
    record["timestamp"] = timestamp
    record["bonus"] = sum(cell.get("bonus") or 0.0 for cell in cells_of(record, kind="test"))
    return finish_record(record, result.get("seconds", 0.0))


def finish_record(record, seconds):
    """Set the record's autograded totals from its cells, its duration and its time stamp."""
    record["score"], record["max_score"] = autograded_points(record)
    record["seconds"] = round(seconds, 1)
    record["graded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


def crash_record(job, root, error):
    """The record of a submission whose grading failed inside the grader itself (retried next run)."""
    record = new_record(job, root)
    record["status"] = "failed"
    record["reason"] = f"internal error while grading: {type(error).__name__}: {error}"
    return finish_record(record, 0.0)


def cells_of(record, notebook=None, kind=None):
    """The cell entries of a record (of one notebook file name, of one kind "test"/"manual", or all)."""
    notebooks = record.get("notebooks", {})
    chosen = [notebooks.get(notebook, {})] if notebook else notebooks.values()
    return [cell for cells in chosen for cell in cells.values() if kind is None or cell["type"] == kind]


def autograded_points(record, notebook=None):
    """(score, max_score) of the autograded test cells of a record (or of one of its notebooks)."""
    tests = cells_of(record, notebook, "test")
    return sum(cell["score"] or 0.0 for cell in tests), sum(cell["max_score"] for cell in tests)


def pending_manual_points(record):
    """The points of the written answers that nobody has graded yet."""
    return sum(cell["max_score"] for cell in cells_of(record, kind="manual") if cell["score"] is None)


def record_path(root, student, assignment):
    return Path(root) / "autograded" / student / assignment / RECORD_NAME


def read_record(root, student, assignment):
    try:
        return json.loads(record_path(root, student, assignment).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def write_record(root, record):
    """Write the record atomically (a reader sees the old one or the new one, never half of one)."""
    path = record_path(root, record["student"], record["assignment"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def all_records(root, students=None):
    """Every grading record under root/autograded/, optionally only those of the given students."""
    found = []
    for path in sorted((Path(root) / "autograded").glob(f"*/*/{RECORD_NAME}")):
        if students is not None and path.parent.parent.name not in students:
            continue
        found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


def is_up_to_date(job, root):
    """True when ``job`` has a record of the current submission and source notebooks (an internal error
    is never up to date: it is retried)."""
    record = read_record(root, job.student, job.assignment)
    if not record or record.get("reason", "").startswith("internal error"):
        return False
    names = source_notebooks(root, job.assignment)
    return (record.get("source_sha256") == source_hashes(root, job.assignment)
            and record.get("submission_sha256") == submission_hashes(job.folder, names))
