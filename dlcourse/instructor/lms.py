"""Grades an LMS imports: a Moodle grade-import CSV and a Canvas gradebook-import CSV.

Input: per-student, per-assignment totals, rows ``{"student", "assignment", "score", "max_score"}`` (score
None: no grade yet), and the students' fields as nbgrader's gradebook holds them (``Student``: id,
first_name, last_name, email, lms_user_id; ``students_from_gradebook``). ``./course lms`` feeds it from the
gradebook's totals (``rows_from_grade_rows`` of ``tables.grade_rows``: written answers and late penalties
counted).

Moodle (the seeds' course runs on Moodle), "Grade import", CSV:
https://docs.moodle.org/405/en/Grade_import (and https://docs.moodle.org/311/en/Grade_import): the first
row is the header; after upload the teacher maps one column ("Map from") to a user field ("Map to":
userid, username, useridnumber or useremail) and every other column to a grade item (or a new one, or
ignores it). Moodle's importer (grade/import/csv/classes/load_data.php, moodle/moodle) reads an empty
cell or "-" as "no grade", parses numbers with a "." decimal point, and aborts the whole import when a
row's user cannot be found, a blank identifier included. So the file has one identifier column (the field
chosen with ``identifier``), the names (to ignore when mapping), then one column per assignment headed
by its name, points as numbers, "" for no grade; a student without the chosen identifier is left out and
reported (``skipped``). Moodle's CSV carries no maximum: each grade item is created in Moodle with the
assignment's maximum points (``./course lms`` prints them).

Canvas, "How do I import grades in the Gradebook?" (Canvas Instructor Guide,
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807),
with the Gradebook export format it mirrors (e.g. https://teaching.resources.osu.edu/toolsets/
carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades: the columns Student name,
Student ID, SIS User ID, SIS Login ID, Section, then one column per assignment; a new assignment column
creates the assignment): header ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>...``,
then the "Points Possible" row as Canvas's own export writes it (first cell ``"    Points Possible"``, the
maximum of each assignment), then one row per student. Student is "Last, First" (Canvas's sortable
name; the id without names), ID the Canvas user id (nbgrader's ``lms_user_id``), SIS Login ID the
course's student id (the login students use), SIS User ID and Section as given.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

MOODLE_IDENTIFIERS = {"username": "Username", "email": "Email address", "userid": "User ID"}
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"


@dataclass(frozen=True)
class Student:
    """A student as nbgrader's gradebook holds one (``nbgrader.api.Student``); "" when unknown."""
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    def moodle_identifier(self, identifier):
        return {"username": self.id, "email": self.email, "userid": self.lms_user_id}[identifier]


def student_of(record):
    """A Student from a gradebook student (nbgrader.api.Student) or any object with those attributes."""
    return Student(*(str(getattr(record, name, "") or "") for name in
                     ("id", "first_name", "last_name", "email", "lms_user_id")))


def students_from_gradebook(db_url):
    """{student id: Student} of an nbgrader gradebook (its SQLAlchemy URL)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return {student.id: student_of(student) for student in gradebook.students}


def rows_from_grade_rows(grade_rows):
    """Rows from the grades tables' rows (tables.grade_rows: the gradebook's totals, manual grades and late
    penalties included): score is the total, max_score the maximum."""
    return [{"student": r["student"], "assignment": r["assignment"], "score": r["total"],
             "max_score": r["max_score"]} for r in grade_rows]


def grade_table(rows, order=None):
    """Check the rows and arrange them.

    Inputs:
    - rows: dicts with student, assignment, score (number or None) and max_score (number).
    - order: the assignments in course order (others follow in order of appearance).
    Returns:
    - (assignments, maxima {assignment: max}, scores {student: {assignment: score or None}}).
    Raises ValueError naming the row for: a missing field, a negative or non-numeric score, one assignment
    with two different maxima, the same student and assignment twice.
    """
    maxima, scores = {}, {}
    for index, row in enumerate(rows):
        missing = [k for k in ("student", "assignment", "score", "max_score") if k not in row]
        if missing or not row.get("student") or not row.get("assignment"):
            raise ValueError(f"grade row {index}: missing {missing or 'student/assignment'}: {row}")
        student, assignment, score, maximum = row["student"], row["assignment"], row["score"], row["max_score"]
        if not isinstance(maximum, (int, float)) or maximum < 0:
            raise ValueError(f"grade row {index}: max_score must be a number >= 0: {row}")
        if score is not None and (not isinstance(score, (int, float)) or score < 0):
            raise ValueError(f"grade row {index}: score must be a number >= 0 or None: {row}")
        if maxima.setdefault(assignment, float(maximum)) != float(maximum):
            raise ValueError(f"grade row {index}: {assignment} has max_score {maximum:g} here and "
                             f"{maxima[assignment]:g} for another student")
        if assignment in scores.setdefault(student, {}):
            raise ValueError(f"grade row {index}: {student}/{assignment} appears twice")
        scores[student][assignment] = None if score is None else float(score)
    known = [a for a in (order or []) if a in maxima]
    return known + [a for a in maxima if a not in known], maxima, scores


def points(value):
    """A score as an LMS reads it: "12.5", "20", "" for no grade (two decimals at most, "." decimal point)."""
    if value is None:
        return ""
    return f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")


def _student(students, student_id):
    return students.get(student_id) or Student(student_id)


def moodle_table(rows, students, identifier="username", order=None):
    """Moodle's grade-import table. Returns (header, lines, skipped student ids)."""
    if identifier not in MOODLE_IDENTIFIERS:
        raise ValueError(f"Moodle identifier must be one of {sorted(MOODLE_IDENTIFIERS)}, not {identifier!r}")
    assignments, _, scores = grade_table(rows, order)
    header = [MOODLE_IDENTIFIERS[identifier], "First name", "Last name"] + assignments
    lines, skipped = [], []
    for student_id in sorted(scores):
        student = _student(students, student_id)
        key = student.moodle_identifier(identifier)
        if not key:
            skipped.append(student_id)
            continue
        lines.append([key, student.first_name, student.last_name]
                     + [points(scores[student_id].get(a)) for a in assignments])
    return header, lines, skipped


def canvas_table(rows, students, section="", sis_user_ids=None, order=None):
    """Canvas's gradebook-import table. Returns (header, lines); lines[0] is the Points Possible row."""
    assignments, maxima, scores = grade_table(rows, order)
    header = CANVAS_FIXED + assignments
    lines = [[CANVAS_POINTS_POSSIBLE, "", "", "", ""] + [points(maxima[a]) for a in assignments]]
    for student_id in sorted(scores):
        student = _student(students, student_id)
        name = (f"{student.last_name}, {student.first_name}" if student.last_name and student.first_name
                else student.last_name or student.first_name or student.id)
        lines.append([name, student.lms_user_id, (sis_user_ids or {}).get(student_id, ""), student.id, section]
                     + [points(scores[student_id].get(a)) for a in assignments])
    return header, lines


def write_csv(path, header, lines):
    """Write a UTF-8 CSV (RFC 4180 quoting, "\\r\\n" line ends as csv writes them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(lines)
    return path
