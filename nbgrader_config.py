"""nbgrader configuration of the deep-learning practicals (read by every nbgrader command run here)."""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "deep-learning-practicals"
# The five assignments, in course order, are listed once in dlcourse.course.ASSIGNMENTS; nbgrader
# adds each to the gradebook when `./course release` runs generate_assignment on it.

# Every notebook runs in the course kernel (registered by ./course; its environment quiets
# TensorFlow's C++ logging). Autograde forces the source notebook's kernelspec onto submissions.
c.Execute.kernel_name = "dlcourse"
# Training cells take tens of seconds on a laptop CPU; anything this slow is a runaway loop.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# Students see "outputs at None, then NotImplementedError" stubs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The graders' rubric of each written answer is a locked markdown cell with a mark-scheme region (built by
# dlcourse.lessons from a '# %% [markdown] rubric' cell): nbgrader allows mark schemes in task cells only
# unless told otherwise; the emptied cell is then dropped from the student's copy.
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata as _Check, ClearHiddenTests, ClearMarkScheme, ClearOutput, ClearSolutions,
    ComputeChecksums, IncludeHeaderFooter, InstantiateTests, LockCells, SaveCells)

from dlcourse.nbgrader_ext import DropGraderOnlyCells  # noqa: E402

c.ClearMarkScheme.enforce_metadata = False
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, ClearOutput, _Check, ComputeChecksums,
    SaveCells, ClearHiddenTests, ClearMarkScheme, DropGraderOnlyCells, ComputeChecksums, _Check,
]

# Library noise on stderr must not cost a correct answer its points (see dlcourse/nbgrader_ext.py).
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput, SaveAutoGrades)

from dlcourse.nbgrader_ext import StderrToStdout  # noqa: E402

c.Autograde.autograde_preprocessors = [
    Execute, StderrToStdout, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]

# Feedback never shows hidden tests (nbgrader's default feedback renders the autograded notebook, into
# which autograde restored them): the course writes its own (./course feedback, dlcourse/feedback.py),
# and nbgrader's own generate_feedback (e.g. from formgrader) strips them with this preprocessor.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from dlcourse.feedback import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
