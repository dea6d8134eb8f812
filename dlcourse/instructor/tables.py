"""Grades tables, computed from the gradebook (the one truth; a manual grade entered in formgrader counts)
and the grading records (status, problems, review flags):

- ``<out>/<assignment>.csv``: one row per student: autograded, manual and bonus points, the late penalty,
  total and maximum, the points of written answers still pending (unanswered or not graded yet), whether
  the grade is complete, the status, the reason, the problems and the review flags;
- ``<out>/overall.csv``: one row per student: each assignment's total, the course total and maximum,
  the pending points and the number of review flags.

A pending answer counts 0 and keeps the grade "incomplete": an unfinished grade is never 100%.
"""

import csv
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets.config.loader import PyFileConfigLoader

from dlcourse.instructor.config import assignments_present
from dlcourse.instructor.gradebook import gradebook_url, seconds_late, submission_grades
from dlcourse.instructor.records import all_records

ASSIGNMENT_COLUMNS = ["student", "autograded", "autograded_max", "manual", "manual_max", "bonus", "late_penalty",
                      "total", "max_score", "percent", "pending_points", "complete", "status", "reason",
                      "problems", "review_flags"]


def late_plugin(root):
    """nbgrader's late-submission plugin as the course's nbgrader_config.py configures it
    (``c.LateSubmissionPlugin.penalty_method = "zero"``; the due date: ``nbgrader db assignment add <a>
    --duedate ...``); its default assigns no penalty."""
    path = Path(root) / "nbgrader_config.py"
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config() if path.is_file() else None
    return LateSubmissionPlugin(config=config) if config is not None else LateSubmissionPlugin()


def grade_row(record, grades, late=0.0, plugin=None):
    """One student's row of one assignment, from the record, the gradebook's grades of it, how many seconds
    late it was, and the late-submission plugin."""
    auto = auto_max = manual = manual_max = pending = bonus = 0.0
    for notebook, entries in record.get("notebooks", {}).items():
        for gid, entry in entries.items():
            grade = grades.get(notebook, {}).get(gid, {})
            if entry["type"] == "test":
                auto += min(entry["score"] or 0.0, entry["max_score"])
                auto_max += entry["max_score"]
                bonus += entry.get("bonus") or 0.0
            else:
                manual_max += entry["max_score"]
                score = grade.get("manual_score")
                if score is None:
                    pending += entry["max_score"]
                else:
                    manual += min(score, entry["max_score"]) + (grade.get("extra_credit") or 0.0)
    earned = auto + manual + bonus
    penalty = float((plugin.late_submission_penalty(record["student"], earned, late) if plugin and late > 0 else 0.0)
                    or 0.0)
    total, maximum = max(earned - penalty, 0.0), auto_max + manual_max
    flags = [f"{f['notebook']}:{f['cell']}:{f['line']}: {f['what']}" for f in record.get("flags", [])]
    return {"student": record["student"], "assignment": record["assignment"], "autograded": auto,
            "autograded_max": auto_max, "manual": manual, "manual_max": manual_max, "bonus": bonus,
            "late_penalty": penalty, "total": total, "max_score": maximum,
            "percent": 100.0 * total / maximum if maximum else 0.0, "pending_points": pending,
            "complete": "yes" if not pending and record["status"] == "graded" else "no",
            "status": record["status"], "reason": record["reason"], "problems": " | ".join(record["problems"]),
            "review_flags": " | ".join(flags)}


def grade_rows(root, students=None, db_url=None):
    """Every graded submission's row (grade_row), in course order of assignments, then by student."""
    url, plugin = gradebook_url(root, db_url), late_plugin(root)
    rows = [grade_row(record, submission_grades(url, record["assignment"], record["student"]),
                      seconds_late(url, record["assignment"], record["student"]), plugin)
            for record in all_records(root, students)]
    order = {a: i for i, a in enumerate(assignments_present(root))}
    return sorted(rows, key=lambda r: (order.get(r["assignment"], len(order)), r["assignment"], r["student"]))


def _text(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _overall(path, rows):
    assignments = list(dict.fromkeys(r["assignment"] for r in rows))
    maxima = {a: max(r["max_score"] for r in rows if r["assignment"] == a) for a in assignments}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student"] + [f"{a} ({maxima[a]:g})" for a in assignments]
                        + ["total", "max_total", "percent", "pending_points", "review_flags"])
        for student in sorted({r["student"] for r in rows}):
            mine = {r["assignment"]: r for r in rows if r["student"] == student}
            total = sum(r["total"] for r in mine.values())
            possible = sum(maxima.values())
            writer.writerow([student] + [_text(mine[a]["total"]) if a in mine else "" for a in assignments]
                            + [_text(total), _text(possible), f"{100.0 * total / possible if possible else 0.0:.1f}",
                               _text(sum(r["pending_points"] for r in mine.values())),
                               str(sum(len(r["review_flags"].split(" | ")) for r in mine.values() if r["review_flags"]))])


def write_grades(root, out_dir, students=None, db_url=None):
    """Write <out_dir>/<assignment>.csv for every assignment with graded submissions, and overall.csv.

    Returns:
    - the list of CSV paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = grade_rows(root, students, db_url)
    written = []
    for assignment in dict.fromkeys(r["assignment"] for r in rows):
        path = out_dir / f"{assignment}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(ASSIGNMENT_COLUMNS)
            for row in (r for r in rows if r["assignment"] == assignment):
                values = [row[c] for c in ASSIGNMENT_COLUMNS]
                writer.writerow([f"{v:.1f}" if c == "percent" else _text(v) for c, v in zip(ASSIGNMENT_COLUMNS, values)])
        written.append(path)
    _overall(out_dir / "overall.csv", rows)
    return written + [out_dir / "overall.csv"]
