"""nbgrader configuration of the deep-learning practicals (read by every nbgrader command run here)."""

from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput, ClearSolutions,
    ComputeChecksums, Execute, GetGrades, IgnorePattern, IncludeHeaderFooter, InstantiateTests, LimitOutput,
    LockCells, SaveAutoGrades, SaveCells)
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

import os
from pathlib import Path

from dlcourse.instructor.config import CELL_TIMEOUT, CODE_STUB, GRADEBOOK_URL_VARIABLE, KERNEL_NAME, TEXT_STUB
from dlcourse.instructor.exchange import exchange_root
from dlcourse.instructor.mathjax import nbgrader_template_dirs
from dlcourse.instructor.nbgrader_ext import DropGraderOnlyCells, HideGraderOnlyContent, StderrToStdout

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "deep-learning-practicals"

# The gradebook: gradebook.db in the course folder (nbgrader's default), or the SQLAlchemy URL in
# $DLCOURSE_DB_URL (PostgreSQL for a large course: docs/scaling.md), which ./course reads too, so that
# formgrader, generate_assignment and ./course grade share one database.
if os.environ.get(GRADEBOOK_URL_VARIABLE):
    c.CourseDirectory.db_url = os.environ[GRADEBOOK_URL_VARIABLE]

# The exchange (release_assignment, fetch_assignment, submit, collect, release_feedback, fetch_feedback): a
# folder every student's account reaches. $DLCOURSE_EXCHANGE names it (a JupyterHub course:
# /srv/nbgrader/exchange), else exchange/ beside this file. ./course exchange-setup creates it and writes the
# students' own nbgrader config (docs/exchange.md; dlcourse/instructor/exchange.py).
c.Exchange.root = str(exchange_root(Path(__file__).resolve().parent))
# The assignments, in course order, are listed once in dlcourse/instructor/config.py (ASSIGNMENTS); nbgrader
# adds each to the gradebook when `./course release` runs generate_assignment on it.

# Every notebook runs in the course kernel (registered by ./course; its environment quiets TensorFlow's
# C++ logging). Autograde forces the source notebook's kernelspec onto submissions.
c.Execute.kernel_name = KERNEL_NAME
c.Execute.timeout = CELL_TIMEOUT
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# In the student's copy, the code between the solution markers becomes this stub (outputs stay at their
# initial None, then the stub raises), and a written answer becomes "YOUR ANSWER HERE".
c.ClearSolutions.code_stub = {"python": CODE_STUB}
c.ClearSolutions.text_stub = TEXT_STUB

# The graders' rubric of each written answer is a locked markdown cell with a mark-scheme region (built by
# dlcourse.instructor.lessons from a '# %% [markdown] rubric' cell): nbgrader allows mark schemes in task
# cells only unless told otherwise; the emptied cell is then dropped from the student's copy.
c.ClearMarkScheme.enforce_metadata = False
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, ClearOutput, CheckCellMetadata,
    ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme, DropGraderOnlyCells, ComputeChecksums,
    CheckCellMetadata,
]

# Library noise on stderr must not cost a correct answer its points (dlcourse/instructor/nbgrader_ext.py).
c.Autograde.autograde_preprocessors = [
    Execute, StderrToStdout, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]

# Feedback never shows hidden tests or rubrics (nbgrader's default feedback renders the autograded notebook,
# into which autograde restored them): the course writes its own (./course feedback), and nbgrader's own
# generate_feedback (e.g. from formgrader) strips them with this preprocessor.
c.GenerateFeedback.preprocessors = [GetGrades, HideGraderOnlyContent, CSSHTMLHeaderPreprocessor]

# Formulas offline: formgrader's grading page and nbgrader's own feedback load MathJax from a CDN (their
# templates call nbconvert's mathjax macro without a URL). The course's template folder, first here,
# replaces that macro by one that loads the MathJax the Jupyter server provides (jupyter-server-mathjax);
# nbgrader's own templates ('formgrade', 'feedback') stay found after it. dlcourse/instructor/mathjax.py.
c.HTMLExporter.extra_template_basedirs = nbgrader_template_dirs()
