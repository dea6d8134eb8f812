"""The course's one command line: ``./course <command>`` (which sets up ``.venv`` first).

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
    mutants [A]    mutation testing of the hidden tests: mutate the solution code of assignment A (default:
                   every assignment), grade each mutant with the real tests on --workers kernels, print the
                   mutation score per exercise and the surviving mutants (--exercise, --max-mutants, --seed,
                   --operators, --json, --whole)
    install-kernel register the 'dlcourse' Jupyter kernel inside the environment

Nothing imports this module: it is the top of the pipeline's layers (docs/architecture.md).
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from dlcourse.instructor import feedback, grading, lessons, mutants, samples, site, solutions, tables
from dlcourse.instructor.config import DEFAULT_LIMITS, ROOT, GradingLimits, assignments_present, log, students_of
from dlcourse.instructor.nbgrader_course import generate_releases
from dlcourse.instructor.notebooks import install_kernel

SAMPLES_GRADES = Path("grades") / "samples"
COMMANDS = ["build", "lessons", "release", "solutions", "site", "samples", "grade", "feedback", "grades",
            "mutants", "install-kernel"]


def build_lessons(root):
    paths = lessons.build_all(root)
    log(f"built {len(paths)} source notebook(s) from lessons/")
    return paths


def build_site(root):
    index = site.build_site(root)
    log(f"solutions site written: {Path(index).relative_to(root)}")
    return index


def build_samples(root):
    done = samples.build_samples(root, assignments_present(root))
    log(f"sample submissions written for {len(done)} practical(s): {', '.join(done) or 'none'}"
        f" ({samples.SUBMITTED}/<student>/<assignment>/)")
    return done


def write_tables(root, submitted, grades_dir):
    """The grades tables of the students of ``submitted`` (of every graded student when it does not exist)."""
    written = tables.write_grades(root, grades_dir, students_of(submitted) if submitted.is_dir() else None)
    log("grades: " + ", ".join(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in written))
    return written


def grade(root, submitted, workers, force, grades_dir, limits, progress=True, scratch=None):
    """Grade a folder of submissions, then write the grades tables of its students; returns the records."""
    records = grading.grade_folder(submitted, root=root, workers=workers, force=force, limits=limits,
                                   progress=progress, log=log, scratch=scratch)
    write_tables(root, submitted, grades_dir)
    return records


def build(root, workers, limits):
    """The main job: lessons -> source -> release -> solutions (+ site) -> samples -> graded samples."""
    start = time.perf_counter()
    build_lessons(root)
    generate_releases(root)
    solutions.execute_solutions(root)
    build_site(root)
    build_samples(root)
    grade(root, root / samples.SUBMITTED, workers, False, root / SAMPLES_GRADES, limits)
    log(f"main job done in {time.perf_counter() - start:.1f} s")


def run_mutants(root, assignment, args):
    """``./course mutants [assignment]``: print each assignment's mutation report; returns the reports."""
    import json

    names = [assignment] if assignment else assignments_present(root)
    unknown = [name for name in names if name not in assignments_present(root)]
    if unknown:
        raise SystemExit(f"./course mutants: no assignment {unknown[0]!r} in {root / 'source'}; "
                         f"the assignments are: {', '.join(assignments_present(root))}")
    operators = tuple(args.operators.split(",")) if args.operators else mutants.OPERATORS
    wrong = sorted(set(operators) - set(mutants.OPERATORS))
    if wrong:
        raise SystemExit(f"./course mutants: unknown operator(s) {', '.join(wrong)}; "
                         f"the operators are: {', '.join(mutants.OPERATORS)}")
    reports = []
    for name in names:
        report = mutants.mutation_test(root, name, args.workers, args.exercise, args.max_mutants, args.seed,
                                       operators, args.memory_limit_gb, args.scratch, log, args.whole)
        print(mutants.format_report(report), flush=True)
        reports.append(report)
    if args.json:
        Path(args.json).write_text(json.dumps([mutants.report_json(r) for r in reports], indent=1) + "\n")
        log(f"mutation reports written to {args.json}")
    return reports


def parser():
    result = argparse.ArgumentParser(prog="./course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("command", nargs="?", default="build", choices=COMMANDS)
    result.add_argument("submitted", nargs="?", default=None,
                        help="grade/grades: the folder <student>/<assignment>/<notebook>.ipynb (default: submitted/); "
                             "mutants: the assignment (default: every assignment)")
    result.add_argument("--workers", type=int, default=None,
                        help="grade, build: submissions graded at once; mutants: kernels at once "
                             "(default: the number of cores)")
    result.add_argument("--force", action="store_true",
                        help="grade: regrade submissions already graded; solutions: re-execute")
    result.add_argument("--time-limit", type=float, default=DEFAULT_LIMITS.time_limit,
                        help="grade: wall-time limit of one submission, seconds (default %(default)s)")
    result.add_argument("--memory-limit-gb", type=float, default=DEFAULT_LIMITS.memory_limit_gb,
                        help="grade: memory limit of one submission's processes, GiB (default %(default)s)")
    result.add_argument("--grades-dir", default=None, help="grade, grades: where the CSVs go (default grades/)")
    result.add_argument("--no-progress", action="store_true", help="grade: no progress bar")
    result.add_argument("--scratch", default=None,
                        help="grade: where private grading folders go (default: the system's temporary folder)")
    result.add_argument("--exercise", action="append", default=None,
                        help="mutants: only this exercise (a solution cell id; repeat for several)")
    result.add_argument("--max-mutants", type=int, default=None,
                        help="mutants: at most this many mutants per exercise, a random sample (default: all)")
    result.add_argument("--seed", type=int, default=0, help="mutants: the seed of the sample (default %(default)s)")
    result.add_argument("--operators", default=None,
                        help="mutants: comma-separated mutation operators (default: all of "
                             + ",".join(mutants.OPERATORS) + ")")
    result.add_argument("--json", default=None, help="mutants: also write the reports to this JSON file")
    result.add_argument("--whole", action="store_true",
                        help="mutants: run every mutant through the whole notebook, never stopping early (as slow as "
                             "grading: to measure what the reduced runs save and check that they agree)")
    result.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)  # a copy of the course (tests)
    return result


def main(argv=None):
    """Run one command; returns what it produced (the records, for grade)."""
    args = parser().parse_args(argv)
    root = Path(args.root).resolve()
    submitted = Path(args.submitted).resolve() if args.submitted else root / "submitted"
    grades_dir = Path(args.grades_dir) if args.grades_dir else root / "grades"
    limits = GradingLimits(time_limit=args.time_limit, memory_limit_gb=args.memory_limit_gb)
    if args.command == "install-kernel":
        print(install_kernel())
    elif args.command == "lessons":
        return build_lessons(root)
    elif args.command == "release":
        build_lessons(root)
        generate_releases(root)
    elif args.command == "solutions":
        build_lessons(root)
        solutions.execute_solutions(root, force=args.force)
        build_site(root)
    elif args.command == "site":
        build_site(root)
    elif args.command == "samples":
        build_samples(root)
    elif args.command == "grade":
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # terminate like Ctrl-C: stop the workers
        try:
            return grade(root, submitted, args.workers, args.force, grades_dir, limits,
                         progress=not args.no_progress, scratch=args.scratch)
        except KeyboardInterrupt:
            log("interrupted: what was graded is kept; run the same command again to resume")
            sys.exit(130)
    elif args.command == "feedback":
        written = feedback.regenerate(root)
        log(f"feedback regenerated: {len(written)} page(s) under feedback/")
    elif args.command == "grades":
        return write_tables(root, submitted, grades_dir)
    elif args.command == "mutants":
        return run_mutants(root, args.submitted, args)
    else:
        build(root, args.workers, limits)
    return None


if __name__ == "__main__":
    main()
