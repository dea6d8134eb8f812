"""Private nbgrader course folders, and the stock ``nbgrader autograde`` run in one.

A private folder (its own gradebook, its own copy of source/) means nothing in the repository is touched.
The grading of submissions starts from one (a template gradebook); the tests use ``autograde`` to prove
what stock nbgrader scores.
"""

import shutil
import time
from pathlib import Path

from dlcourse.instructor.config import ROOT, assignments_present, log
from dlcourse.instructor.notebooks import run_nbgrader


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


def read_scores(course, assignment, student):
    """Scores of the autograded (code) cells of one graded submission, from the course's gradebook.

    Returns:
    - a dict notebook name -> {grade_id: (score, max_score)}.
    """
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        for notebook in submission.notebooks:
            scores[notebook.name] = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades
                                     if grade.cell.cell_type == "code"}
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


def generate_releases(root=ROOT, db_url=None):
    """Regenerate release/<a>/ from source/<a>/ for every assignment, forced (no stale release survives);
    nbgrader records the cells in the gradebook ``db_url`` (default: nbgrader_config.py's)."""
    for name in assignments_present(root):
        start = time.perf_counter()
        try:
            run_nbgrader(["generate_assignment", name, "--force"] + ([f"--db={db_url}"] if db_url else []), cwd=root)
        except RuntimeError as error:
            if "because there are submissions associated with it" not in str(error):
                raise
            raise RuntimeError(
                f"source/{name} adds or removes graded cells, and the gradebook already holds submissions of "
                f"{name}: nbgrader refuses to change the cells of a graded assignment. Keep the released cells "
                "(change their text, not their number or ids), or remove that assignment's submissions from the "
                f"gradebook first (nbgrader db assignment remove {name} --force, after exporting its grades; for "
                "the sample course only, deleting gradebook.db is enough: ./course build refills it)") from None
        log(f"release/{name} regenerated ({time.perf_counter() - start:.1f} s)")
