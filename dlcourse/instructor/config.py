"""Facts of the course that every layer of the pipeline needs, and nothing else.

The repository root, the assignments in course order, the course kernel (its name, display name and
environment), the grading limits with their one default each, the per-cell timeout (also read by
``nbgrader_config.py``), the environment for running the venv's tools, and the log line format.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ASSIGNMENTS = ["01_computational_graph", "02_numpy_mlp", "03_tensorflow", "04_pytorch", "05_keras_convnets"]

KERNELSPEC = {"name": "dlcourse", "display_name": "Python 3 (deep-learning course)", "language": "python"}
KERNEL_NAME = KERNELSPEC["name"]
# The course kernel's environment. TensorFlow's C++ logging writes to the process's stderr, which
# ipykernel captures into cell outputs; level 3 keeps only fatal messages. Keras is told its backend.
KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

# Training cells take tens of seconds on a laptop CPU; a cell this slow is a runaway loop.
# nbgrader_config.py sets c.Execute.timeout from this value.
CELL_TIMEOUT = 300  # seconds


# The gradebook's SQLAlchemy URL when it is not the course's SQLite file: ./course (its --db-url default),
# nbgrader_config.py (formgrader, generate_assignment) and dlcourse.instructor.gradebook all read this variable.
GRADEBOOK_URL_VARIABLE = "DLCOURSE_DB_URL"

STUDENT_FILE_LIMIT = 50 * 2**20  # bytes: data files a student added next to the notebooks are copied up to this

# What a solution region becomes in the student's copy (nbgrader_config.py sets ClearSolutions from these).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"


@dataclass(frozen=True)
class GradingLimits:
    """The limits of one submission's grading; each has this one name from ``./course grade`` down.

    - time_limit: seconds of wall time for the whole submission (all its notebooks);
    - cell_timeout: seconds one cell may run before it is interrupted (then killed if it ignores that);
    - memory_limit_gb: memory of the submission's processes, in GiB (TF + torch peak near 3 GiB);
    - file_size_limit_gb: the largest file a submission's process may write, in GiB.
    """
    time_limit: float = 1800.0
    cell_timeout: float = CELL_TIMEOUT
    memory_limit_gb: float = 6.0
    file_size_limit_gb: float = 2.0


DEFAULT_LIMITS = GradingLimits()


def log(message):
    print(f"[course] {message}", flush=True)


def tool_environment(extra=None):
    """os.environ with this environment's bin/ first on PATH (nbgrader shells out to alembic), plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra or {})
    return env


def put_tools_on_path():
    """Put this environment's bin/ first on this process's PATH (nbgrader's Gradebook runs alembic when it
    creates a database, in this process)."""
    tools = str(Path(sys.executable).parent)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")


def assignments_present(root=ROOT):
    """The assignments with notebooks in root/source/: the course's five in course order, then any other."""
    source = Path(root) / "source"
    known = [name for name in ASSIGNMENTS if any((source / name).glob("*.ipynb"))]
    others = sorted(p.name for p in source.glob("*") if p.is_dir() and p.name not in known and any(p.glob("*.ipynb")))
    return known + others


def source_notebooks(root, assignment):
    """The notebook file names of an assignment, from source/<assignment>/."""
    return sorted(path.name for path in (Path(root) / "source" / assignment).glob("*.ipynb"))


def students_of(submitted):
    """The student folder names under a submitted folder (<student>/<assignment>/...), sorted; [] if absent."""
    submitted = Path(submitted)
    return sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
