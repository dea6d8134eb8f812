"""LMS import files (dlcourse/instructor/lms.py), checked against each LMS's documented import format.

Moodle (docs.moodle.org "Grade import", CSV; its importer grade/import/csv/classes/load_data.php): a header
row; one column the teacher maps to a user field (userid, username, useridnumber, useremail); every other
column a grade item; an empty cell is "no grade"; numbers with a "." decimal point; a row whose user is
blank or unknown aborts the whole import, so no row may lack the identifier, and no extra row (a maximum,
a total) may follow the header.

Canvas (Instructor Guide "How do I import grades in the Gradebook?", and the Gradebook export it
mirrors): columns Student, ID, SIS User ID, SIS Login ID, Section, then one per assignment; the "Points
Possible" row right under the header; one row per student.
"""

import csv
import json
import re
import shutil

import pytest

from dlcourse.instructor import cli, lms
from dlcourse.instructor.config import tool_environment
from harness import ROOT

ROWS = [
    {"student": "ada", "assignment": "02_numpy_mlp", "score": 12.5, "max_score": 20},
    {"student": "ada", "assignment": "01_computational_graph", "score": 20, "max_score": 20},
    {"student": "bob", "assignment": "01_computational_graph", "score": 7, "max_score": 20},
    {"student": "bob", "assignment": "02_numpy_mlp", "score": None, "max_score": 20},  # not graded yet
    {"student": "eve", "assignment": "01_computational_graph", "score": 0, "max_score": 20},
]
STUDENTS = {"ada": lms.Student("ada", "Ada", "Lovelace", "ada@uni.example", "1001"),
            "bob": lms.Student("bob", "Bob", "de Groot, Jr.", "", "1002")}  # eve: only her id is known
ORDER = ["01_computational_graph", "02_numpy_mlp"]


def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def is_moodle_number(cell):
    """What Moodle's importer accepts as a grade: '' (no grade) or a number with a '.' decimal point."""
    if cell == "":
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return "," not in cell and "e" not in cell.lower()


@pytest.mark.parametrize("identifier,column,expected,left_out", [
    ("username", "Username", {"ada", "bob", "eve"}, []),
    ("email", "Email address", {"ada@uni.example"}, ["bob", "eve"]),
    ("userid", "User ID", {"1001", "1002"}, ["eve"]),
])
def test_moodle_file_has_one_identifier_and_one_column_per_grade_item(tmp_path, identifier, column, expected,
                                                                        left_out):
    header, lines, skipped = lms.moodle_table(ROWS, STUDENTS, identifier, ORDER)
    rows = read(lms.write_csv(tmp_path / "moodle.csv", header, lines))
    assert rows[0] == [column, "First name", "Last name"] + ORDER
    assert column in lms.MOODLE_IDENTIFIERS.values()
    body = rows[1:]
    assert {row[0] for row in body} == expected and all(row[0] for row in body), "a blank identifier aborts it"
    assert skipped == left_out, "students without the identifier are left out and reported"
    assert all(len(row) == len(rows[0]) for row in body)
    assert all(is_moodle_number(cell) for row in body for cell in row[3:])
    by_key = {row[0]: row for row in body}
    if identifier == "username":
        assert by_key["ada"][3:] == ["20", "12.5"]
        assert by_key["bob"][3:] == ["7", ""], "no grade yet must be an empty cell (Moodle: no grade)"
        assert by_key["eve"][3:] == ["0", ""], "a missing submission is no grade, not 0"
        assert by_key["bob"][2] == "de Groot, Jr.", "a comma in a name must survive (quoted)"


def test_canvas_file_has_the_gradebook_columns_and_the_points_possible_row(tmp_path):
    header, lines = lms.canvas_table(ROWS, STUDENTS, section="DL 2026", order=ORDER)
    rows = read(lms.write_csv(tmp_path / "canvas.csv", header, lines))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + ORDER
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:5] == ["", "", "", ""]
    assert rows[1][5:] == ["20", "20"]
    students = {row[3]: row for row in rows[2:]}
    assert set(students) == {"ada", "bob", "eve"} and len(rows) == 2 + 3
    assert students["ada"][:5] == ["Lovelace, Ada", "1001", "", "ada", "DL 2026"]
    assert students["bob"][0] == "de Groot, Jr., Bob" and students["bob"][5:] == ["7", ""]
    assert students["eve"][:2] == ["eve", ""], "without names Canvas matches on SIS Login ID"


@pytest.mark.parametrize("rows,message", [
    (ROWS + [{"student": "eve", "assignment": "02_numpy_mlp", "score": 3, "max_score": 25}], "max_score 25"),
    (ROWS + [dict(ROWS[0])], "appears twice"),
    ([{"student": "ada", "assignment": "a", "score": -1, "max_score": 2}], "score must be"),
    ([{"student": "ada", "assignment": "a", "score": "12", "max_score": 2}], "score must be"),
    ([{"student": "ada", "assignment": "a", "max_score": 2}], "missing ['score']"),
])
def test_bad_rows_are_refused_with_a_message_naming_them(rows, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        lms.moodle_table(rows, STUDENTS)
    with pytest.raises(ValueError, match=re.escape(message)):
        lms.canvas_table(rows, STUDENTS)


def test_unknown_moodle_identifier_is_refused():
    with pytest.raises(ValueError, match="username"):
        lms.moodle_table(ROWS, STUDENTS, identifier="idnumber")


def test_students_come_from_nbgraders_gradebook(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", tool_environment()["PATH"])  # a new gradebook runs nbgrader's alembic

    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:
        gradebook.add_student("ada", first_name="Ada", last_name="Lovelace", email="ada@uni.example",
                              lms_user_id="1001")
        gradebook.add_student("eve")
    students = lms.students_from_gradebook(f"sqlite:///{db}")
    assert students["ada"] == STUDENTS["ada"]
    assert students["eve"] == lms.Student("eve")


@pytest.mark.slow
def test_course_lms_writes_both_files_from_the_gradebook(tmp_path):
    """./course lms after grading the demo course: each student's points are the grades table's totals
    (written answers graded by hand included), and Canvas's Points Possible row the maxima."""
    from dlcourse.instructor.gradebook import apply_manual_grades, gradebook_url
    from test_grading import DEMO, grade, make_demo_root, make_demo_submissions

    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial"])
    grade(root, submitted, "--workers", 1)
    apply_manual_grades(gradebook_url(root), DEMO, "correct", {"q_explain": {"score": 1, "comment": "ok"}})
    cli.main(["grades", str(submitted), "--root", str(root)])
    written = cli.main(["lms", "--root", str(root), "--grades-dir", str(tmp_path / "out")])
    assert [p.name for p in written] == ["moodle.csv", "canvas.csv"]
    table = {row[0]: row for row in read(root / "grades" / f"{DEMO}.csv")[1:]}
    header = read(root / "grades" / f"{DEMO}.csv")[0]
    expected = {student: [row[header.index("total")]] for student, row in table.items()}
    assert expected == {"correct": ["6"], "partial": ["2"]}
    moodle = read(tmp_path / "out" / "moodle.csv")
    assert moodle[0][3:] == [DEMO]
    assert {row[0]: row[3:] for row in moodle[1:]} == expected
    canvas = read(tmp_path / "out" / "canvas.csv")
    assert canvas[1][5:] == ["6"]
    assert {row[3]: row[5:] for row in canvas[2:]} == expected
