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
    watch          grading on submission: collect each new submission from the exchange, grade it, write the
                   tables, release its feedback (--interval seconds between looks); survives a restart
    bench          measure grading speed side by side: the floor, stock nbgrader, ./course grade with 1 and
                   2 workers, a five-practical submission (--students N, --quick skips the five practicals)
    mutants [A]    mutation testing of the hidden tests: mutate the solution code of assignment A (default:
                   every assignment), grade each mutant with the real tests on --workers kernels, print the
                   mutation score per exercise and the surviving mutants (--exercise, --max-mutants, --seed,
                   --operators, --mutants-json, --whole)
    install-kernel register the 'dlcourse' Jupyter kernel inside the environment
    mathjax        copy the environment's MathJax to mathjax/ (the pages' formulas, offline; done by every
                   command that writes pages)

The exchange, the student's check and the LMS (each has its own --help):
    exchange-setup create the nbgrader exchange (nbgrader_config.py: $DLCOURSE_EXCHANGE or exchange/) with
                   its permissions, and write the students' nbgrader config (--student-config FILE)
    publish [A..]  release assignments to the exchange (nbgrader release_assignment; default: all)
    collect [A..]  collect the submissions from the exchange into submitted/ (then: ./course grade submitted/)
    return-feedback [A..]  release the feedback pages to the students (nbgrader release_feedback)
    validate NB    check a notebook as grading would, without writing it: one line per failed check,
                   unanswered written answers apart (exit 0 when ready to submit)
    lms            grades/moodle.csv and grades/canvas.csv, the LMS import files (--moodle-id, --section)
    screenshots    run the browser tests and write their screenshots to docs/screenshots/

Nothing imports this module: it is the top of the pipeline's layers (docs/architecture.md).
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from dlcourse.instructor import (bench, exchange, feedback, grading, lessons, lms, mathjax, mutants, samples, site,
                                 solutions, tables, validate, watch)
from dlcourse.instructor.config import (DEFAULT_LIMITS, ROOT, GradingLimits, assignments_present, log, students_of,
                                        tool_environment)
from dlcourse.instructor.gradebook import gradebook_url
from dlcourse.instructor.nbgrader_course import generate_releases
from dlcourse.instructor.notebooks import install_kernel, run_nbgrader

SAMPLES_GRADES = Path("grades") / "samples"
COMMANDS = ["build", "lessons", "release", "solutions", "site", "samples", "grade", "feedback", "grades",
            "bench", "watch", "mutants", "install-kernel", "mathjax"]
LOOP_COMMANDS = ["exchange-setup", "publish", "collect", "return-feedback", "validate", "lms", "screenshots"]
PAGE_COMMANDS = {"build", "solutions", "site", "grade", "watch", "feedback", "mathjax"}  # they write HTML pages


def install_mathjax(root):
    """The course's copy of the environment's MathJax, which every HTML page of the course loads."""
    return mathjax.install_copy(root)


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


def write_tables(root, submitted, grades_dir, db_url=None):
    """The grades tables of the students of ``submitted`` (of every graded student when it does not exist)."""
    written = tables.write_grades(root, grades_dir, students_of(submitted) if submitted.is_dir() else None, db_url)
    log("grades: " + ", ".join(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in written))
    return written


def grade(root, submitted, grades_dir, options):
    """Grade a folder of submissions, then write the grades tables of its students; returns the records."""
    records = grading.grade_folder(submitted, root=root, workers=options.workers, force=options.force,
                                   limits=options.limits, sandboxed=not options.no_sandbox,
                                   scheduler=options.scheduler, db_url=options.db_url,
                                   progress=not options.no_progress, log=log)
    if options.profile:
        for line in grading.profile_lines(records):
            log(line)
    write_tables(root, submitted, grades_dir, options.db_url)
    return records


def grade_samples_by_hand(root, db_url):
    """The scripted TA pass over the samples' written answers, then their feedback and tables again."""
    url = gradebook_url(root, db_url)
    done = samples.apply_ta_grades(root, url, assignments_present(root))
    students = sorted({student for student, _ in done})
    written = feedback.regenerate(root, students, db_url) if students else []
    log(f"written answers of {len(done)} sample submission(s) graded by the scripted TA pass; "
        f"{len(written)} feedback page(s) rewritten")
    return done


def build(root, options):
    """The main job: lessons -> source -> release -> solutions (+ site) -> samples -> graded samples (and
    their written answers graded by the scripted TA pass)."""
    start = time.perf_counter()
    build_lessons(root)
    generate_releases(root, options.db_url)
    solutions.execute_solutions(root)
    build_site(root)
    build_samples(root)
    grade(root, root / samples.SUBMITTED, root / SAMPLES_GRADES, options)
    grade_samples_by_hand(root, options.db_url)
    write_tables(root, root / samples.SUBMITTED, root / SAMPLES_GRADES, options.db_url)
    log(f"main job done in {time.perf_counter() - start:.1f} s")


def parser():
    result = argparse.ArgumentParser(prog="./course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("command", nargs="?", default="build", choices=COMMANDS + LOOP_COMMANDS)
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
    result.add_argument("--cell-timeout", type=float, default=DEFAULT_LIMITS.cell_timeout,
                        help="grade: seconds one cell may run before it is interrupted (default %(default)s)")
    result.add_argument("--memory-limit-gb", type=float, default=DEFAULT_LIMITS.memory_limit_gb,
                        help="grade: memory limit of one submission's processes, GiB (default %(default)s)")
    result.add_argument("--kernel-threads", type=int, default=DEFAULT_LIMITS.kernel_threads,
                        help="grade: threads of each library's pool in a grading kernel (default %(default)s: "
                             "the worker machine's cores / the submissions it grades at once)")
    result.add_argument("--grades-dir", default=None, help="grade, grades: where the CSVs go (default grades/)")
    result.add_argument("--no-progress", action="store_true", help="grade: no progress bar")
    result.add_argument("--no-sandbox", action="store_true",
                        help="grade: run students' code WITHOUT the sandbox (trusted notebooks only; warns)")
    result.add_argument("--scheduler", default=None,
                        help="grade: the address of an existing Dask scheduler (default: a local cluster)")
    result.add_argument("--db-url", default=None,
                        help="the gradebook's SQLAlchemy URL, e.g. postgresql+psycopg://grader@dbhost/course "
                             "(default: $DLCOURSE_DB_URL, else sqlite:///<course>/gradebook.db)")
    result.add_argument("--profile", action="store_true", help="grade: print the slowest cells of the run")
    result.add_argument("--students", type=int, default=10, help="bench: copies of practical 1 (default 10)")
    result.add_argument("--interval", type=float, default=10.0,
                        help="watch: seconds between two looks at the exchange (default %(default)s)")
    result.add_argument("--rounds", type=int, default=None, help=argparse.SUPPRESS)  # watch: stop after N (tests)
    result.add_argument("--quick", action="store_true", help="bench: skip the five-practical submission")
    add_mutants_arguments(result)
    result.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)  # a copy of the course (tests)
    return result


def add_mutants_arguments(result):
    result.add_argument("--exercise", action="append", default=None,
                        help="mutants: only this exercise (a solution cell id; repeat for several)")
    result.add_argument("--max-mutants", type=int, default=None,
                        help="mutants: at most this many mutants per exercise, a random sample (default: all)")
    result.add_argument("--seed", type=int, default=0, help="mutants: the seed of the sample (default %(default)s)")
    result.add_argument("--operators", default=None,
                        help="mutants: comma-separated mutation operators (default: all of "
                             + ",".join(mutants.OPERATORS) + ")")
    result.add_argument("--mutants-json", default=None, help="mutants: also write the reports to this JSON file")
    result.add_argument("--whole", action="store_true",
                        help="mutants: run every mutant through the whole notebook, never stopping early (as slow as "
                             "grading: to measure what the reduced runs save and check that they agree)")


def loop_parser():
    """The options of the exchange, validate, lms and screenshots commands."""
    result = argparse.ArgumentParser(prog="./course", description="The exchange, the student's check, the LMS.")
    result.add_argument("command", choices=LOOP_COMMANDS)
    result.add_argument("names", nargs="*", help="publish/collect/return-feedback: assignments (default: all "
                        "released); validate: the notebook")
    result.add_argument("--submitted", default=None, help="return-feedback: the collected folder (submitted/)")
    result.add_argument("--force", action="store_true", help="publish: replace an assignment already released")
    result.add_argument("--student-config", default=None,
                        help="exchange-setup: write the students' nbgrader config to this file")
    result.add_argument("--lms", default="moodle,canvas", help="lms: moodle, canvas or both (default)")
    result.add_argument("--moodle-id", default="username", choices=sorted(lms.MOODLE_IDENTIFIERS),
                        help="lms: the Moodle user field to match students on (default username)")
    result.add_argument("--section", default="", help="lms: the Canvas section of every student")
    result.add_argument("--grades-dir", default=None, help="lms: where the CSVs go (default grades/)")
    result.add_argument("--json", action="store_true", help="validate: print the report as JSON")
    result.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    return result


def released_assignments(root, names):
    known = [a for a in assignments_present(root) if (root / "release" / a).is_dir()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"./course: not released (run ./course release first): {', '.join(unknown)}")
    return list(names) or known


def exchange_setup(root, student_config_path):
    modes, blocked = exchange.setup_exchange(root)
    for folder, mode in modes.items():
        log(f"exchange: {folder} ({oct(mode)})")
    for folder in blocked:
        log(f"WARNING: students cannot traverse {folder}: the exchange is unreachable for them")
    text = exchange.student_config(root)
    if student_config_path:
        Path(student_config_path).parent.mkdir(parents=True, exist_ok=True)
        Path(student_config_path).write_text(text, encoding="utf-8")
        log(f"students' nbgrader config written: {student_config_path}")
    else:
        log("students' nbgrader config (for /etc/jupyter/nbgrader_config.py):\n" + text)


def run_exchange_step(root, command, assignments, submitted, force):
    """publish, collect or return-feedback, for each assignment, through nbgrader's own commands."""
    for assignment in assignments:
        if command == "publish":
            run_nbgrader(["release_assignment", assignment] + (["--force"] if force else []), cwd=root)
            log(f"published {assignment} to the exchange")
        elif command == "collect":
            run_nbgrader(["collect", assignment, "--update"], cwd=root)
            count = len(list(submitted.glob(f"*/{assignment}")))
            log(f"collected {assignment}: {count} submission(s) in {submitted} (next: ./course grade {submitted})")
        else:
            staged, missing = exchange.stage_feedback(root, submitted, assignment)
            if not staged:
                log(f"{assignment}: no feedback of a collected submission to return")
                continue
            exclude = ["--CourseDirectory.student_id_exclude=" + ",".join(missing)] if missing else []
            run_nbgrader(["release_feedback", assignment] + exclude, cwd=root)
            log(f"returned the feedback of {assignment} to {len(staged)} student(s): {', '.join(staged)}")


def write_lms(root, args):
    """The Moodle and Canvas grade-import files, from the gradebook's totals (written answers included)."""
    grades_dir = Path(args.grades_dir) if args.grades_dir else root / "grades"
    url = gradebook_url(root, getattr(args, "db_url", None))
    rows = lms.rows_from_grade_rows(tables.grade_rows(root, None, url))
    students = lms.students_from_gradebook(url)
    order = assignments_present(root)
    written = []
    if "moodle" in args.lms:
        header, lines, skipped = lms.moodle_table(rows, students, args.moodle_id, order)
        written.append(lms.write_csv(grades_dir / "moodle.csv", header, lines))
        for student in skipped:
            log(f"WARNING: moodle.csv leaves out {student}: no {args.moodle_id} in the gradebook")
    if "canvas" in args.lms:
        header, lines = lms.canvas_table(rows, students, args.section, order=order)
        written.append(lms.write_csv(grades_dir / "canvas.csv", header, lines))
    maxima = lms.grade_table(rows, order)[1]
    log("LMS files: " + ", ".join(map(str, written)) + "; grade item maxima: "
        + ", ".join(f"{a} {m:g}" for a, m in maxima.items()))
    return written


def loop_main(argv):
    """The exchange, validate, lms and screenshots commands; returns what they produced."""
    args = loop_parser().parse_args(argv)
    root = Path(args.root).resolve()
    if args.command == "validate":
        if len(args.names) != 1:
            raise SystemExit("./course validate: name one notebook")
        sys.exit(validate.main(args.names + (["--json"] if args.json else [])))
    if args.command == "lms":
        return write_lms(root, args)
    if args.command == "screenshots":
        sys.exit(take_screenshots(root))
    if args.command == "exchange-setup":
        return exchange_setup(root, args.student_config)
    submitted = Path(args.submitted).resolve() if args.submitted else root / "submitted"
    return run_exchange_step(root, args.command, released_assignments(root, args.names), submitted, args.force)


def take_screenshots(root):
    """Run the browser tests with DLCOURSE_SCREENSHOTS=docs/screenshots; returns pytest's exit status."""
    import subprocess

    env = tool_environment({"DLCOURSE_SCREENSHOTS": str(root / "docs" / "screenshots")})
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-o", "addopts=", "-q",
               "tests/test_browser.py", "tests/test_mathjax.py"]
    return subprocess.run(command, cwd=root, env=env, check=False).returncode


def run_grade(root, args, submitted, grades_dir):
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # terminate like Ctrl-C: stop the workers
    try:
        return grade(root, submitted, grades_dir, args)
    except KeyboardInterrupt:
        log("interrupted: what was graded is kept; run the same command again to resume")
        sys.exit(130)
    except grading.GradingRefused as refusal:
        log(str(refusal))
        sys.exit(2)


def run_watch(root, args, submitted, grades_dir):
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    options = {"workers": args.workers, "limits": args.limits, "sandboxed": not args.no_sandbox,
               "scheduler": args.scheduler, "db_url": args.db_url}
    try:
        watch.watch(root, options, lambda r, s: write_tables(r, s, grades_dir, args.db_url), args.interval,
                    args.rounds)
    except KeyboardInterrupt:
        log("watch stopped: what was graded and released is kept")


def run_bench(root, args, submitted, grades_dir):
    figures = bench.measure(args.students, five=not args.quick, log=log)
    print("\n".join(bench.report(figures, args.students)))
    return figures


def run_feedback(root, args, submitted, grades_dir):
    written = feedback.regenerate(root, db_url=args.db_url)
    log(f"feedback regenerated: {len(written)} page(s) under feedback/")
    return written


def run_solutions(root, args, submitted, grades_dir):
    build_lessons(root)
    solutions.execute_solutions(root, force=args.force)
    build_site(root)


def run_release(root, args, submitted, grades_dir):
    build_lessons(root)
    generate_releases(root, args.db_url)


def run_mutants(root, args, submitted, grades_dir):
    """``./course mutants [assignment]``: print each assignment's mutation report; returns the reports."""
    import json

    names = [args.submitted] if args.submitted else assignments_present(root)
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
                                       operators, args.limits, log=log, whole=args.whole)
        print(mutants.format_report(report), flush=True)
        reports.append(report)
    if args.mutants_json:
        Path(args.mutants_json).write_text(json.dumps([mutants.report_json(r) for r in reports], indent=1) + "\n")
        log(f"mutation reports written to {args.mutants_json}")
    return reports


def run_mathjax(root, args, submitted, grades_dir):
    log(f"MathJax for the course's pages: {Path(mathjax.COPY) / 'MathJax.js'} (from {mathjax.environment_mathjax()})")


HANDLERS = {
    "install-kernel": lambda root, args, submitted, grades_dir: print(install_kernel()),
    "lessons": lambda root, args, submitted, grades_dir: build_lessons(root),
    "release": run_release,
    "solutions": run_solutions,
    "site": lambda root, args, submitted, grades_dir: build_site(root),
    "samples": lambda root, args, submitted, grades_dir: build_samples(root),
    "grade": run_grade,
    "watch": run_watch,
    "feedback": run_feedback,
    "bench": run_bench,
    "mutants": run_mutants,
    "grades": lambda root, args, submitted, grades_dir: write_tables(root, submitted, grades_dir, args.db_url),
    "mathjax": run_mathjax,
    "build": lambda root, args, submitted, grades_dir: build(root, args),
}


def main(argv=None):
    """Run one command; returns what it produced (the records, for grade)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in LOOP_COMMANDS:
        return loop_main(argv)
    args = parser().parse_args(argv)
    root = Path(args.root).resolve()
    submitted = Path(args.submitted).resolve() if args.submitted else root / "submitted"
    grades_dir = Path(args.grades_dir) if args.grades_dir else root / "grades"
    args.limits = GradingLimits(time_limit=args.time_limit, cell_timeout=args.cell_timeout,
                                memory_limit_gb=args.memory_limit_gb, kernel_threads=args.kernel_threads)
    if args.command in PAGE_COMMANDS:
        install_mathjax(root)
    return HANDLERS[args.command](root, args, submitted, grades_dir)


if __name__ == "__main__":
    main()
