"""Autograde notebooks with the real nbgrader in a private course folder.

The tests use it to prove what a submission scores; the instructor pipeline builds on it. A private
folder (its own gradebook, its own copy of source/) means nothing in the repository is touched.
"""

import shutil
from pathlib import Path

from dlcourse.course import ROOT, run_nbgrader


def make_course(workdir, assignments, root=ROOT):
    """Create a course folder in ``workdir`` with the given assignments released into its gradebook.

    Inputs:
    - workdir: an empty or missing folder; assignments: assignment names present in root/source.
    Returns:
    - the course folder as a Path.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(root) / "nbgrader_config.py", workdir / "nbgrader_config.py")
    for name in assignments:
        shutil.copytree(Path(root) / "source" / name, workdir / "source" / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        run_nbgrader(["generate_assignment", name, "--force"], cwd=workdir)
    return workdir


def read_scores(course, assignment, student, include_manual=False):
    """Scores of one graded submission from the course's gradebook.

    Inputs:
    - include_manual: also list the manually graded (markdown answer) cells.
    Returns:
    - a dict notebook name -> {grade_id: (score, max_score)}; score is None for a manually graded
      cell that nobody graded yet.
    """
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        for notebook in submission.notebooks:
            scores[notebook.name] = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades
                                     if include_manual or grade.cell.cell_type == "code"}
    return scores


def autograde(course, assignment, submissions, timeout=None):
    """Autograde submissions with ``nbgrader autograde`` and return their scores.

    Inputs:
    - course: a folder made by ``make_course``.
    - assignment: the assignment name.
    - submissions: a dict student id -> folder holding that student's notebooks (copied, not moved).
    Returns:
    - (scores, result): scores is a dict student -> read_scores(...); result is nbgrader's
      CompletedProcess (its stdout/stderr tell why a submission could not be graded).
    """
    course = Path(course)
    for student, folder in submissions.items():
        target = course / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target)
    result = run_nbgrader(["autograde", assignment, "--create", "--force"], cwd=course, check=False,
                          timeout=timeout)
    scores = {}
    for student in submissions:
        try:
            scores[student] = read_scores(course, assignment, student)
        except Exception as exc:  # noqa: BLE001 - a missing submission is reported, not fatal
            scores[student] = {"error": repr(exc)}
    return scores, result


def total(notebook_scores):
    """Sum (score, max_score) over a read_scores() dict (an ungraded manual cell counts 0)."""
    got = possible = 0.0
    for cells in notebook_scores.values():
        for score, max_score in cells.values():
            got += score or 0.0
            possible += max_score
    return got, possible
