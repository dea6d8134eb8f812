"""Facts of the course that every layer of the pipeline needs, and nothing else.

The repository root, the assignments in course order, the course kernel (its name, display name and
environment), the grading limits with their one default each, the per-cell timeout (also read by
``nbgrader_config.py``), the environment for running the venv's tools, and the log line format.
"""

import dataclasses
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
    - file_size_limit_gb: the largest file a submission's process may write, in GiB;
    - kernel_threads: threads each library's pool starts with in a grading kernel (PyTorch, TensorFlow,
      OpenBLAS); 0: the worker machine's cores / the kernels it runs at once, so that kernels grading side
      by side do not oversubscribe the cores.
    """
    time_limit: float = 1800.0
    cell_timeout: float = CELL_TIMEOUT
    memory_limit_gb: float = 6.0
    file_size_limit_gb: float = 2.0
    kernel_threads: int = 0


# The variables the libraries read their thread pools' size from when they load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


def thread_environment(threads):
    """The environment that starts every library's thread pool at ``threads`` ({} for 0: their defaults)."""
    return {name: str(int(threads)) for name in THREAD_VARIABLES} if threads else {}


def resolved_kernel_threads(limits: GradingLimits, kernels_at_once):
    """``limits`` with kernel_threads decided: as given, or this machine's cores / ``kernels_at_once``."""
    if limits.kernel_threads:
        return limits
    threads = max(1, (os.cpu_count() or 1) // max(1, int(kernels_at_once)))
    return dataclasses.replace(limits, kernel_threads=threads)


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
