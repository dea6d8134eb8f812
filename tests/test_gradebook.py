"""The gradebook is the one truth: every grading path fills it, a manual grade entered in it survives a
regrade unless the answer changed, and the feedback and the grades tables are computed from it
(dlcourse/instructor/gradebook.py, tables.py, feedback.py), on the demo assignment of tests/test_grading.py."""

import csv
import html
import re

import pytest

from dlcourse.instructor.gradebook import (apply_manual_grades, gradebook_url, open_gradebook, record_submission,
                                          submission_grades, sync_assignment)
from dlcourse.instructor.records import Job, record_from_result
from dlcourse.instructor.records import read_record
from test_grading import CORRECT, DEMO, _release, _with, _write, grade, make_demo_root, make_demo_submissions


def _table(root, name=DEMO):
    return {row["student"]: row for row in csv.DictReader(open(root / "grades" / f"{name}.csv", encoding="utf-8"))}


def _page_text(path):
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.slow
def test_manual_grades_reach_feedback_and_tables_and_survive_a_regrade_of_the_same_answer(tmp_path):
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "untouched"])
    grade(root, submitted, "--workers", 2)
    url = gradebook_url(root)
    table = _table(root)
    assert table["correct"]["pending_points"] == "1" and table["correct"]["complete"] == "no"
    assert table["untouched"]["pending_points"] == "1", "an unanswered question is pending, never graded"
    assert float(table["correct"]["percent"]) < 100, "a grade with a pending answer is never 100%"

    apply_manual_grades(url, DEMO, "correct", {"q_explain": {"score": 1, "comment": "Clear and right."}})
    grade(root, submitted, "--workers", 1, "--force")  # the same answer: the manual grade is kept
    assert submission_grades(url, DEMO, "correct")["demo.ipynb"]["q_explain"]["manual_score"] == 1.0
    table = _table(root)
    assert (table["correct"]["manual"], table["correct"]["total"], table["correct"]["complete"]) == ("1", "6", "yes")
    page = _page_text(root / "feedback" / "correct" / DEMO / "demo.html")
    assert re.search(r"q_explain\s*1 / 1\s*graded by hand: Clear and right\.", page), page[:2000]
    assert "MARK SCHEME" not in page

    changed = _with(_release(root), dict(CORRECT, q_explain="Because a new answer."))
    _write(submitted, "correct", changed)
    grade(root, submitted, "--workers", 1)  # a changed answer: graded again by hand
    assert submission_grades(url, DEMO, "correct")["demo.ipynb"]["q_explain"]["manual_score"] is None
    assert _table(root)["correct"]["pending_points"] == "1"


@pytest.mark.slow
def test_a_fresh_clone_gradebook_is_filled_from_the_committed_records(tmp_path):
    """Records that are up to date are not regraded, but the gradebook (git-ignored) still gets them."""
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial"])
    grade(root, submitted, "--workers", 2)
    (root / "gradebook.db").unlink()  # as after a fresh clone
    assert grade(root, submitted, "--workers", 2) == [], "nothing is regraded"
    with open_gradebook(gradebook_url(root)) as gradebook:
        scores = {s.student.id: s.code_score for s in gradebook.find_assignment(DEMO).submissions}
    assert scores == {"correct": 5.0, "partial": 2.0}


def test_manual_scores_above_the_maximum_are_refused(tmp_path):
    root = make_demo_root(tmp_path / "course")
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["partial"])
    url = gradebook_url(root)
    sync_assignment(url, root, DEMO)
    job = Job("partial", DEMO, submitted / "partial" / DEMO)
    result = {"status": "graded", "reason": "", "problems": [], "flags": [], "timings": {}, "seconds": 1.0,
              "notebooks": {"demo.ipynb": {
                  "add_test": {"type": "test", "score": 99.0, "max_score": 2.0, "bonus": 0.0, "bonus_max": 0.0},
                  "mul_test": {"type": "test", "score": 0.0, "max_score": 3.0, "bonus": 0.0, "bonus_max": 0.0},
                  "q_explain": {"type": "manual", "score": None, "max_score": 1.0, "answered": True, "sha256": "x"}}}}
    record_submission(url, record_from_result(job, root, result))
    with open_gradebook(url) as gradebook:
        assert gradebook.find_submission(DEMO, "partial").code_score == 2.0, "a score is clamped to its maximum"
    with pytest.raises(ValueError, match="not in"):
        apply_manual_grades(url, DEMO, "partial", {"q_explain": {"score": 5}})


@pytest.mark.slow
def test_late_submissions_get_the_configured_penalty(tmp_path):
    root = make_demo_root(tmp_path / "course")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    submitted = make_demo_submissions(root, tmp_path / "submitted", ["correct", "partial"])
    (submitted / "correct" / DEMO / "timestamp.txt").write_text("2030-01-02 10:00:00.000000 UTC")  # late
    (submitted / "partial" / DEMO / "timestamp.txt").write_text("2029-12-31 10:00:00.000000 UTC")  # on time
    with open_gradebook(gradebook_url(root)) as gradebook:
        gradebook.update_or_create_assignment(DEMO, duedate="2030-01-01 00:00:00 UTC")
    grade(root, submitted, "--workers", 2)
    table = _table(root)
    assert (table["correct"]["late_penalty"], table["correct"]["total"]) == ("5", "0"), table["correct"]
    assert (table["partial"]["late_penalty"], table["partial"]["total"]) == ("0", "2"), table["partial"]
    assert read_record(root, "correct", DEMO)["timestamp"].startswith("2030-01-02")
