"""The course's commands: build the notebooks, the releases and the executed solutions.

Run through ``./course <command>`` (which sets up ``.venv`` first):
    build          the main job: lessons -> source -> release -> solutions
    lessons        build source/<a>/<n>.ipynb from lessons/<a>/<n>.py
    release        regenerate release/ for every assignment (forced: no stale release survives)
    solutions      execute the solution notebooks into solutions/ (markers and hidden tests removed)
    install-kernel register the 'dlcourse' Jupyter kernel inside the environment
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from dlcourse import lessons

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ["01_computational_graph", "02_numpy_mlp", "03_tensorflow", "04_pytorch", "05_keras_convnets"]
KERNEL_NAME = lessons.KERNELSPEC["name"]
# The course kernel's environment. TensorFlow's C++ logging writes to the process's stderr, which
# ipykernel captures into cell outputs; level 3 keeps only fatal messages. Keras is told its backend.
KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
CELL_TIMEOUT = 300  # seconds; the same as c.Execute.timeout in nbgrader_config.py


def log(message):
    print(f"[course] {message}", flush=True)


def install_kernel():
    """Register the course kernel in this environment (``<venv>/share/jupyter/kernels/dlcourse``)."""
    from ipykernel.kernelspec import install

    return install(kernel_name=KERNEL_NAME, display_name=lessons.KERNELSPEC["display_name"],
                   prefix=sys.prefix, env=dict(KERNEL_ENV))


def nbgrader_command():
    """The nbgrader executable of this environment."""
    candidate = Path(sys.executable).parent / "nbgrader"
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", "nbgrader"]


def run_nbgrader(args, cwd=ROOT, check=True, **kwargs):
    """Run ``nbgrader <args>`` in ``cwd`` with this environment's bin/ on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(nbgrader_command() + list(args), cwd=cwd, env=env, text=True,
                            capture_output=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                           f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def assignments_present(root=ROOT):
    """The assignments, in course order, that have notebooks in source/."""
    return [name for name in ASSIGNMENTS if any((Path(root) / "source" / name).glob("*.ipynb"))]


def build_lessons(root=ROOT):
    paths = lessons.build_all(root)
    log(f"built {len(paths)} source notebook(s) from lessons/")
    return paths


def generate_releases(root=ROOT):
    """Regenerate release/<a>/ from source/<a>/ for every assignment, forced."""
    for name in assignments_present(root):
        start = time.perf_counter()
        run_nbgrader(["generate_assignment", name, "--force"], cwd=root)
        log(f"release/{name} regenerated ({time.perf_counter() - start:.1f} s)")


SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.MULTILINE | re.DOTALL)


def solution_notebook(source_notebook):
    """A copy of a source notebook for reading: solution markers and hidden tests removed, no grading
    metadata, no outputs."""
    notebook = nbformat.from_dict(dict(source_notebook))
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.source = SOLUTION_MARKERS.sub("", HIDDEN_TESTS.sub("", cell.source)).rstrip()
            cell.outputs = []
            cell.execution_count = None
    return notebook


def execute_notebook(notebook, cwd, timeout=CELL_TIMEOUT, allow_errors=False):
    """Execute a notebook in the course kernel with ``cwd`` as working directory; return it."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def execute_solutions(root=ROOT):
    """Write solutions/<a>/<n>.ipynb: each source notebook without markers or hidden tests, executed."""
    root = Path(root)
    for name in assignments_present(root):
        for source in sorted((root / "source" / name).glob("*.ipynb")):
            start = time.perf_counter()
            notebook = solution_notebook(nbformat.read(source, as_version=4))
            execute_notebook(notebook, cwd=source.parent)
            target = root / "solutions" / name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
            log(f"solutions/{name}/{source.name} executed ({time.perf_counter() - start:.1f} s)")


def build(root=ROOT):
    """The main job."""
    start = time.perf_counter()
    build_lessons(root)
    generate_releases(root)
    execute_solutions(root)
    log(f"main job done in {time.perf_counter() - start:.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build",
                        choices=["build", "lessons", "release", "solutions", "install-kernel"])
    args = parser.parse_args(argv)
    if args.command == "install-kernel":
        print(install_kernel())
    elif args.command == "lessons":
        build_lessons()
    elif args.command == "release":
        build_lessons()
        generate_releases()
    elif args.command == "solutions":
        build_lessons()
        execute_solutions()
    else:
        build()


if __name__ == "__main__":
    main()
