"""The course's gradebook (``gradebook.db``, the one ``nbgrader formgrader`` reads): one writer merges
each submission's scores into it."""

import warnings
from pathlib import Path


def _copy_assignment(gradebook, template_db, assignment):
    """Create the assignment's notebooks and cells in ``gradebook`` as the template gradebook has them."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{template_db}") as template:
        source = template.find_assignment(assignment)
        gradebook.update_or_create_assignment(assignment)
        for notebook in source.notebooks:
            gradebook.update_or_create_notebook(notebook.name, assignment)
            for cell in notebook.grade_cells:
                gradebook.update_or_create_grade_cell(cell.name, notebook.name, assignment,
                                                      max_score=cell.max_score, cell_type=cell.cell_type)
            for cell in notebook.solution_cells:
                gradebook.update_or_create_solution_cell(cell.name, notebook.name, assignment)
            for cell in notebook.task_cells:
                gradebook.update_or_create_task_cell(cell.name, notebook.name, assignment,
                                                     max_score=cell.max_score, cell_type=cell.cell_type)
            for cell in notebook.source_cells:
                gradebook.update_or_create_source_cell(cell.name, notebook.name, assignment,
                                                       cell_type=cell.cell_type, locked=cell.locked,
                                                       source=cell.source, checksum=cell.checksum)


def merge_into_gradebook(gradebook_path, template_db, record):
    """Write one submission's autograded scores into the course gradebook (called by the one writer only).

    Inputs:
    - gradebook_path: the course's gradebook.db; template_db: a gradebook holding the assignment.
    - record: the submission's grading record (dlcourse.instructor.records).
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    assignment, student = record["assignment"], record["student"]
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{Path(gradebook_path)}") as gradebook:
        # nbgrader's add_submission builds its objects in a way SQLAlchemy 2 warns about (harmless)
        warnings.simplefilter("ignore", SAWarning)
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            _copy_assignment(gradebook, template_db, assignment)
        gradebook.update_or_create_student(student)
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = gradebook.add_submission(assignment, student)
        for notebook in submission.notebooks:
            cells = record["notebooks"].get(f"{notebook.name}.ipynb", {})
            for grade in notebook.grades:
                entry = cells.get(grade.name)
                if entry is None:
                    continue
                grade.auto_score = entry["score"]
                grade.needs_manual_grade = entry["score"] is None
        gradebook.db.commit()
