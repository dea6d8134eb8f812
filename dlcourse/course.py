"""The course's commands: build the notebooks, the releases, the executed solutions, and grade.

Run through ``./course <command>`` (which sets up ``.venv`` first):
    build          the main job: lessons -> source -> release -> solutions (+ site) -> sample
                   submissions -> graded into autograded/, feedback/ and grades/samples/*.csv
    lessons        build source/<a>/<n>.ipynb from lessons/<a>/<n>.py
    release        regenerate release/ for every assignment (forced: no stale release survives)
    solutions      execute each source notebook once with its hidden tests (all must pass), write it to
                   solutions/ without markers or hidden tests, then the HTML site (solutions/index.html)
    site           rebuild the HTML site from solutions/*.ipynb only
    samples        rebuild samples/submitted/ (sample-correct, -untouched, -partial) from release/
    grade [DIR]    grade DIR (default submitted/: DIR/<student>/<assignment>/<notebook>.ipynb) in
                   parallel (--workers N), resumable (--force regrades), with time and memory limits;
                   writes autograded/, feedback/, the course gradebook.db and grades/*.csv
    feedback       regenerate feedback/ (HTML, hidden tests never shown) from autograded/
    grades [DIR]   rewrite grades/<assignment>.csv and grades/overall.csv (students of DIR)
    install-kernel register the 'dlcourse' Jupyter kernel inside the environment
"""

import argparse
import os
import re
import shutil
import signal
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


def execute_notebook(notebook, cwd, timeout=CELL_TIMEOUT, allow_errors=False):
    """Execute a notebook in the course kernel with ``cwd`` as working directory; return it."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def _strip_for_reading(notebook):
    """Remove nbgrader metadata, solution markers and hidden tests from a notebook (outputs kept)."""
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)
        if cell.cell_type == "code":
            cell.source = SOLUTION_MARKERS.sub("", HIDDEN_TESTS.sub("", cell.source)).rstrip()
        else:
            cell.source = re.sub(r"^[ \t]*#* ?(BEGIN|END) SOLUTION[ \t]*\n?", "", cell.source,
                                 flags=re.MULTILINE).rstrip()
    return notebook


def failed_test_cells(notebook):
    """{grade_id: "error"} of the test cells of an executed notebook that did not get full marks."""
    from nbgrader.utils import determine_grade, is_grade

    from dlcourse.nbgrader_ext import StderrToStdout

    guard = StderrToStdout()
    failed = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not is_grade(cell):
            continue
        guard.preprocess_cell(cell, {}, index)
        score, max_score = determine_grade(cell)
        if score != max_score:
            errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]
            failed[cell.metadata.nbgrader.grade_id] = "; ".join(errors) or f"scored {score}/{max_score}"
    return failed


def solution_is_fresh(source, target):
    """True when target (solutions/<a>/<n>.ipynb) was executed from the current source notebook."""
    from dlcourse.grading import sha256_file

    if not Path(target).is_file():
        return False
    meta = nbformat.read(target, as_version=4).metadata.get("dlcourse", {})
    return meta.get("source_sha256") == sha256_file(source)


def execute_solutions(root=ROOT, force=False):
    """Write solutions/<a>/<n>.ipynb: each source notebook executed ONCE with its hidden tests (every
    test cell must pass, or the build fails), then markers, grading metadata and hidden tests removed.

    The sha256 of the source notebook is recorded in the notebook's metadata (``dlcourse.source_sha256``);
    an up-to-date solution is not executed again unless ``force``.
    """
    from dlcourse.grading import sha256_file

    root = Path(root)
    failures = {}
    for name in assignments_present(root):
        for source in sorted((root / "source" / name).glob("*.ipynb")):
            target = root / "solutions" / name / source.name
            if not force and solution_is_fresh(source, target):
                log(f"solutions/{name}/{source.name} is up to date")
                continue
            start = time.perf_counter()
            notebook = nbformat.read(source, as_version=4)
            execute_notebook(notebook, cwd=source.parent, allow_errors=True)
            failed = failed_test_cells(notebook)
            if failed:
                failures[f"{name}/{source.name}"] = failed
                log(f"source/{name}/{source.name}: {len(failed)} test cell(s) FAIL on the reference solution")
                continue
            notebook = _strip_for_reading(notebook)
            notebook.metadata["dlcourse"] = {"source_sha256": sha256_file(source),
                                             "generated_by": "./course solutions"}
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
            log(f"solutions/{name}/{source.name} executed, every test passed ({time.perf_counter() - start:.1f} s)")
    if failures:
        lines = [f"  {nb}: {gid}: {error[:300]}" for nb, cells in failures.items() for gid, error in cells.items()]
        raise RuntimeError("the reference solutions fail their own tests:\n" + "\n".join(lines))


SAMPLES_GRADES = Path("grades") / "samples"


def build_site(root=ROOT):
    from dlcourse import site

    index = site.build_site(root)
    log(f"solutions site written: {Path(index).relative_to(root)}")
    return index


def build_samples(root=ROOT):
    from dlcourse import samples

    done = samples.build_samples(root, assignments_present(root))
    log(f"sample submissions written for {len(done)} practical(s): {', '.join(done) or 'none'}"
        f" ({samples.SUBMITTED}/<student>/<assignment>/)")
    return done


def grade(submitted, root=ROOT, workers=None, force=False, grades_dir=None, **limits):
    """Grade a folder of submissions, then write the grades tables of its students."""
    from dlcourse import grading

    root = Path(root)
    submitted = Path(submitted)
    records = grading.grade_folder(submitted, root=root, workers=workers, force=force, log=log, **limits)
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    written = grading.write_grades(root, Path(grades_dir or root / "grades"), students)
    log("grades: " + ", ".join(str(Path(p).relative_to(root)) if Path(p).is_relative_to(root) else str(p)
                               for p in written))
    return records


def build(root=ROOT, workers=None):
    """The main job: lessons -> source -> release -> solutions (+ site) -> samples -> graded samples."""
    from dlcourse import samples

    root = Path(root)
    start = time.perf_counter()
    build_lessons(root)
    generate_releases(root)
    execute_solutions(root)
    build_site(root)
    build_samples(root)
    grade(root / samples.SUBMITTED, root=root, workers=workers, grades_dir=root / SAMPLES_GRADES)
    log(f"main job done in {time.perf_counter() - start:.1f} s")


COMMANDS = ["build", "lessons", "release", "solutions", "site", "samples", "grade", "feedback", "grades",
            "install-kernel"]


def main(argv=None):
    from dlcourse import grading

    parser = argparse.ArgumentParser(prog="./course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build", choices=COMMANDS)
    parser.add_argument("submitted", nargs="?", default=None,
                        help="grade/grades: the folder <student>/<assignment>/<notebook>.ipynb "
                             "(default: submitted/)")
    parser.add_argument("--workers", type=int, default=None,
                        help="grade, build: submissions graded at once (default: the number of cores)")
    parser.add_argument("--force", action="store_true",
                        help="grade: regrade submissions already graded; solutions: re-execute")
    parser.add_argument("--time-limit", type=float, default=grading.DEFAULT_TIME_LIMIT,
                        help="grade: wall-time limit of one submission, seconds (default %(default)s)")
    parser.add_argument("--memory-limit-gb", type=float, default=grading.DEFAULT_MEMORY_LIMIT_GB,
                        help="grade: address-space limit of each process of a submission (default %(default)s)")
    parser.add_argument("--grades-dir", default=None, help="grade, grades: where the CSVs go (default grades/)")
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)  # a copy of the course (tests)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.command == "install-kernel":
        print(install_kernel())
    elif args.command == "lessons":
        build_lessons(root)
    elif args.command == "release":
        build_lessons(root)
        generate_releases(root)
    elif args.command == "solutions":
        build_lessons(root)
        execute_solutions(root, force=args.force)
        build_site(root)
    elif args.command == "site":
        build_site(root)
    elif args.command == "samples":
        build_samples(root)
    elif args.command == "grade":
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            grade(Path(args.submitted or root / "submitted"), root=root, workers=args.workers, force=args.force,
                  grades_dir=args.grades_dir, time_limit=args.time_limit, memory_gb=args.memory_limit_gb)
        except KeyboardInterrupt:
            log("interrupted: what was graded is kept; run the same command again to resume")
            sys.exit(130)
    elif args.command == "feedback":
        from dlcourse import feedback

        written = feedback.regenerate(root)
        log(f"feedback regenerated: {len(written)} page(s) under feedback/")
    elif args.command == "grades":
        submitted = Path(args.submitted or root / "submitted")
        students = sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else None
        for path in grading.write_grades(root, Path(args.grades_dir or root / "grades"), students):
            log(f"wrote {path}")
    else:
        build(root, workers=args.workers)


if __name__ == "__main__":
    main()
