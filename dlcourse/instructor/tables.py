"""Grades tables: ``<out>/<assignment>.csv`` (one row per student) and ``<out>/overall.csv``."""

import csv
from pathlib import Path

from dlcourse.instructor.config import assignments_present
from dlcourse.instructor.records import all_records, pending_manual_points


def _max_of(records):
    return max((r["max_score"] for r in records), default=0.0)


def _assignment_table(path, records):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max_score", "percent", "manual_points_pending",
                         "status", "reason", "problems"])
        for record in sorted(records, key=lambda r: r["student"]):
            percent = 100.0 * record["score"] / record["max_score"] if record["max_score"] else 0.0
            writer.writerow([record["student"], f"{record['score']:g}", f"{record['max_score']:g}",
                             f"{percent:.1f}", f"{pending_manual_points(record):g}", record["status"],
                             record["reason"], " | ".join(record["problems"])])


def _overall_table(path, order, by_assignment):
    students = sorted({r["student"] for records in by_assignment.values() for r in records})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student"] + [f"{a} ({_max_of(by_assignment[a]):g})" for a in order]
                        + ["total", "max_total", "percent"])
        for student in students:
            row, got, possible = [student], 0.0, 0.0
            for assignment in order:
                mine = [r for r in by_assignment[assignment] if r["student"] == student]
                score = mine[0]["score"] if mine else 0.0
                row.append(f"{score:g}" if mine else "")
                got += score
                possible += _max_of(by_assignment[assignment])
            row += [f"{got:g}", f"{possible:g}", f"{100.0 * got / possible if possible else 0.0:.1f}"]
            writer.writerow(row)


def write_grades(root, out_dir, students=None):
    """Write <out_dir>/<assignment>.csv for every assignment with records, and <out_dir>/overall.csv.

    Inputs:
    - students: only these students' records (default: all under root/autograded/).
    Returns:
    - the list of CSV paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_assignment = {}
    for record in all_records(root, students):
        by_assignment.setdefault(record["assignment"], []).append(record)
    present = assignments_present(root)
    order = [a for a in present if a in by_assignment] + sorted(set(by_assignment) - set(present))
    written = []
    for assignment in order:
        path = out_dir / f"{assignment}.csv"
        _assignment_table(path, by_assignment[assignment])
        written.append(path)
    _overall_table(out_dir / "overall.csv", order, by_assignment)
    return written + [out_dir / "overall.csv"]
