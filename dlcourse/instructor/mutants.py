"""``./course mutants``: the hidden tests of an assignment tried against bugs nobody wrote by hand.

For every exercise E (a solution cell with code between its markers, ``cellflow.exercises``) of every
notebook of the assignment:

1. **Mutants.** ``mutation.cell_mutants`` makes E's mutants: one small change each to its solution code
   (operators in ``mutation.OPERATORS``); those that do not compile are discarded, never counted.
   ``--max-mutants N`` keeps a random sample of N per exercise (``random.Random`` seeded by ``--seed`` and
   the exercise: the same sample every time).
2. **Judges.** E's judging test cells are ``cellflow.judging_cells``: its own tests (the test cells
   between E and the next solution cell) and the later test cells that read a name derived from E.
   A mutant is **killed** when one of them loses points (or raises, for a bonus cell), or when the run
   times out or the kernel dies before they all ran; it **survives** when they all pass. A judging cell
   that fails on the reference solution itself cannot judge: it is left out and reported.
3. **The run.** The notebook is executed once with the reference (every code cell up to the last
   judging cell of the selected exercises) to time each cell and to see which test cells pass. Each
   mutant then runs only ``cellflow.run_plan``'s cells (E's last judging cell is the last; expensive
   cells that no judging cell needs are left out), in a fresh course kernel, and the run stops at the first
   judging cell that fails: a killed mutant costs only what it takes to kill it. A plan that leaves cells
   out is first proven on the reference (every judging cell must pass through it); if it fails, E's
   mutants run every cell up to its last judging cell instead, and the report says so. One mutant per
   kernel: two mutants never share a kernel, so they cannot interfere. ``--workers`` kernels run at once.
4. **Limits.** Each kernel gets the grading memory limit (``--memory-limit-gb``, RLIMIT_AS set before
   the first cell) and, per cell, ``TIMEOUT_FACTOR`` times the cell's reference time (at least
   ``MIN_TIMEOUT`` s, at most the grading cell timeout ``--cell-timeout``), so a mutant that loops forever is killed as
   "timeout" quickly; each run has its own scratch working directory.
5. **Equivalent mutants.** ``samples/<a>/equivalent_mutants.txt`` lists, one per line, the key of a
   mutant that means the same as the reference and the reviewed reason (``<key>  <reason>``; ``#``
   starts a comment). Listed mutants are still run: they are excluded from the score when they survive,
   and reported as wrongly listed when they are killed; a listed key that no longer exists is reported
   as stale.

The score of an exercise is killed / (mutants - equivalent ones); an exercise that no test cell judges
scores 0 (its mutants are not run: nothing can kill them).
"""

import concurrent.futures
import copy
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from dlcourse.instructor import cellflow
from dlcourse.instructor.config import DEFAULT_LIMITS, log as default_log, source_notebooks
from dlcourse.instructor.mutation import OPERATORS, cell_mutants
from dlcourse.instructor.variants import cell_by_id, run_cells

EQUIVALENTS_FILE = "equivalent_mutants.txt"
TIMEOUT_FACTOR = 10
MIN_TIMEOUT = 60.0  # seconds
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+:(%s):[0-9a-f]{8}$" % "|".join(OPERATORS))
MEMORY_PRELUDE = ("import resource as _dl_resource\n"
                  "_dl_resource.setrlimit(_dl_resource.RLIMIT_AS, ({limit}, {limit}))\n"
                  "del _dl_resource")


@dataclass
class Verdict:
    """What happened to one mutant."""
    mutant: object  # a mutation.Mutant
    status: str  # "killed", "survived", or "not judged" (no test cell judges its exercise)
    killed_by: str = ""  # the grade id of the first judging cell that failed, or "timeout in <cell> (...)"
    message: str = ""  # the first line of that cell's error
    seconds: float = 0.0
    equivalent: str = ""  # the reason given in the equivalents file, when listed there


@dataclass
class ExerciseReport:
    notebook: str
    exercise: str
    judging: list
    planned: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    plan_note: str = ""
    generated: int = 0  # mutants made (before sampling), discarded ones not included
    discarded: int = 0  # mutants that did not compile
    verdicts: list = field(default_factory=list)
    keys: set = field(default_factory=set)  # the keys of every mutant made (sampled or not)

    def counted(self):
        """The verdicts in the score: all but the equivalent mutants that survived."""
        return [v for v in self.verdicts if not (v.equivalent and v.status != "killed")]

    def killed(self):
        return [v for v in self.counted() if v.status == "killed"]

    def survivors(self):
        return [v for v in self.counted() if v.status != "killed"]

    def equivalents(self):
        return [v for v in self.verdicts if v.equivalent and v.status != "killed"]

    def wrongly_equivalent(self):
        return [v for v in self.verdicts if v.equivalent and v.status == "killed"]

    def score(self):
        counted = self.counted()
        return len(self.killed()) / len(counted) if counted else None


@dataclass
class AssignmentReport:
    assignment: str
    exercises: list = field(default_factory=list)
    reference_failures: dict = field(default_factory=dict)  # grade id -> error, on the reference solution
    stale_equivalents: list = field(default_factory=list)
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    def totals(self):
        killed = sum(len(e.killed()) for e in self.exercises)
        counted = sum(len(e.counted()) for e in self.exercises)
        return killed, counted


# ----------------------------------------------------------------------------------------------
# The equivalent-mutants file
# ----------------------------------------------------------------------------------------------

def read_equivalents(path):
    """{mutant key: reason} of an equivalents file ({} when it does not exist).

    Each line is ``<mutant key>  <reason>``; blank lines and lines starting with ``#`` are ignored.
    Raises ValueError (file and line) on a malformed key, a missing reason or a key listed twice.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    listed = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, _, reason = text.partition(" ")
        where = f"{path}:{number}"
        if not KEY_PATTERN.match(key):
            raise ValueError(f"{where}: {key!r} is not a mutant key (<cell id>:<operator>:<8 hex digits>)")
        if not reason.strip():
            raise ValueError(f"{where}: {key} has no reason: say why this mutant means the same as the reference")
        if key in listed:
            raise ValueError(f"{where}: {key} is listed twice")
        listed[key] = reason.strip()
    return listed


# ----------------------------------------------------------------------------------------------
# Running one plan
# ----------------------------------------------------------------------------------------------

def judging_failed(scored):
    """A judging cell fails when it loses points, or raises (a bonus cell has no points to lose)."""
    return scored.score < scored.max_score or bool(scored.error)


@dataclass
class RunSettings:
    """What every run of an assignment shares."""
    folder: Path  # the source folder (copied into each run's working directory)
    scratch: Path
    memory_limit_gb: float = DEFAULT_LIMITS.memory_limit_gb
    cell_timeout: float = DEFAULT_LIMITS.cell_timeout
    whole: bool = False  # every mutant runs the whole notebook, no early stop (as slow as real grading)
    seconds: dict = field(default_factory=dict)  # cell id -> seconds in the reference run

    def prelude(self):
        if not self.memory_limit_gb:
            return []
        return [MEMORY_PRELUDE.format(limit=int(self.memory_limit_gb * 2**30))]

    def timeout_of(self, reference):
        if reference:
            return lambda cell: self.cell_timeout
        return lambda cell: min(self.cell_timeout,
                                max(MIN_TIMEOUT, TIMEOUT_FACTOR * self.seconds.get(cell.get("id"), 0.0)))


def run_plan_once(notebook, planned, judging, settings, replacements=None, reference=False):
    """Execute the planned cells of ``notebook`` (some replaced) and judge the judging cells.

    Returns:
    - (killed_by, outcome): killed_by is "" when every judging cell ran and passed, else the grade id of
      the first that failed, or why it did not run (the outcome's failure: a timeout, a dead kernel).
    """
    variant = copy.deepcopy(notebook)
    keep = set(planned)
    variant.cells = [cell for cell in variant.cells if cell.get("id") in keep]
    for cell_id, source in (replacements or {}).items():
        cell_by_id(variant, cell_id).source = source
    judges = set(judging)
    stop = (lambda cell, scored: False) if settings.whole else \
        (lambda cell, scored: scored is not None and scored.grade_id in judges and judging_failed(scored))
    cwd = Path(tempfile.mkdtemp(prefix="run-", dir=settings.scratch))
    try:
        shutil.copytree(settings.folder, cwd, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb"))
        outcome = run_cells(variant, cwd, settings.prelude(), settings.timeout_of(reference), stop)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    for gid in [cid for cid in planned if cid in judges]:
        scored = outcome.result.cells.get(gid)
        if scored is None:
            return outcome.failure or f"{gid} did not run", outcome
        if judging_failed(scored):
            return gid, outcome
    return "", outcome


# ----------------------------------------------------------------------------------------------
# One notebook: exercises, the reference run, the plans, the mutants
# ----------------------------------------------------------------------------------------------

def sample(mutants, max_mutants, seed, label):
    """At most ``max_mutants`` of ``mutants`` (all when None), the same ones for the same seed, in order."""
    if max_mutants is None or len(mutants) <= max_mutants:
        return list(mutants)
    chosen = random.Random(f"{seed}:{label}").sample(range(len(mutants)), max_mutants)
    return [mutants[i] for i in sorted(chosen)]


def prepare_exercises(notebook, name, selected=None, max_mutants=None, seed=0, operators=OPERATORS):
    """The ExerciseReports of a notebook (judging cells, sampled mutants as pending verdicts)."""
    names = cellflow.notebook_names(notebook)
    reports = []
    for exercise in cellflow.exercises(notebook):
        if selected and exercise not in selected:
            continue
        made = cell_mutants(exercise, cell_by_id(notebook, exercise).source, operators)
        report = ExerciseReport(name, exercise, cellflow.judging_cells(notebook, exercise, names),
                                generated=len(made.mutants), discarded=made.discarded)
        report.keys = {mutant.key for mutant in made.mutants}
        chosen = sample(made.mutants, max_mutants, seed, f"{name}:{exercise}")
        report.verdicts = [Verdict(mutant, "pending") for mutant in chosen]
        reports.append(report)
    return reports


def reference_run(notebook, reports, settings):
    """Run the reference up to the last judging cell of ``reports``; time its cells into ``settings``.

    Returns:
    - {grade id: error} of the test cells that failed on the reference (they cannot judge a mutant).
    """
    ids = [cell.get("id") for cell in notebook.cells]
    lasts = [ids.index(r.judging[-1]) for r in reports if r.judging]
    if not lasts:
        return {}
    planned = ids if settings.whole else ids[:max(lasts) + 1]
    _, outcome = run_plan_once(notebook, planned, (), settings, reference=True)
    settings.seconds.update(outcome.seconds)
    if outcome.failure:
        raise RuntimeError(f"the reference solution itself failed: {outcome.failure}")
    failures = {gid: cell.error or f"scored {cell.score}/{cell.max_score}"
                for gid, cell in outcome.result.cells.items() if judging_failed(cell)}
    for gid in {gid for report in reports for gid in report.judging} - set(outcome.result.cells):
        failures[gid] = "did not run"
    return failures


def plan_exercises(notebook, reports, settings, failures):
    """Set each report's judging cells (minus those failing on the reference) and its plan."""
    names = cellflow.notebook_names(notebook)
    for report in reports:
        report.judging = [gid for gid in report.judging if gid not in failures]
        report.planned, report.left_out = cellflow.run_plan(notebook, report.exercise, report.judging,
                                                            settings.seconds, names)
        if settings.whole and report.judging:
            report.planned, report.left_out = [c.get("id") for c in notebook.cells if c.cell_type == "code"], []


def full_prefix(notebook, last):
    ids = [cell.get("id") for cell in notebook.cells if cell.cell_type == "code"]
    return ids[:ids.index(last) + 1]


def prove_plan(notebook, report, settings):
    """Run the reference through a plan that leaves cells out; fall back to the full prefix if it fails."""
    killed_by, _ = run_plan_once(notebook, report.planned, report.judging, settings, reference=True)
    if killed_by:
        report.plan_note = (f"the reduced run failed the reference ({killed_by}): every cell up to "
                            f"{report.judging[-1]} runs instead")
        report.planned, report.left_out = full_prefix(notebook, report.judging[-1]), []
    return report


def judge_mutant(notebook, report, verdict, settings):
    """Run one mutant through its exercise's plan; fill in its verdict."""
    start = time.perf_counter()
    killed_by, outcome = run_plan_once(notebook, report.planned, report.judging, settings,
                                       {report.exercise: verdict.mutant.source})
    verdict.status, verdict.killed_by = ("killed", killed_by) if killed_by else ("survived", "")
    failed = outcome.result.cells.get(killed_by)
    if failed is not None:
        verdict.message = (failed.error or f"scored {failed.score}/{failed.max_score}").splitlines()[0][:300]
    verdict.seconds = time.perf_counter() - start
    return verdict


def run_in_parallel(tasks, workers, log=None, what="runs"):
    """Call every zero-argument function of ``tasks`` on ``workers`` threads; log progress; return results."""
    results = [None] * len(tasks)
    if not tasks:
        return results
    step = max(1, len(tasks) // 10)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(task): index for index, task in enumerate(tasks)}
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if log and (done % step == 0 or done == len(tasks)):
                    log(f"{done}/{len(tasks)} {what} done")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def notebook_mutants(notebook, name, settings, workers, selected=None, max_mutants=None, seed=0,
                  operators=OPERATORS, log=default_log):
    """Mutation-test one notebook: the ExerciseReports of its (selected) exercises and the reference's failures."""
    reports = prepare_exercises(notebook, name, selected, max_mutants, seed, operators)
    total = sum(len(r.verdicts) for r in reports)
    log(f"{name}: {len(reports)} exercise(s), {total} mutant(s); running the reference solution")
    failures = reference_run(notebook, reports, settings)
    for gid, error in failures.items():
        log(f"{name}: {gid} fails on the reference solution, so it judges no mutant: {error.splitlines()[0][:200]}")
    plan_exercises(notebook, reports, settings, failures)
    to_prove = [r for r in reports if r.left_out and r.verdicts]
    run_in_parallel([lambda r=r: prove_plan(notebook, r, settings) for r in to_prove], workers, log,
                    "reduced runs proven on the reference")
    tasks = []
    for report in reports:
        for verdict in report.verdicts:
            if not report.judging:
                verdict.status = "not judged"
            else:
                tasks.append(lambda r=report, v=verdict: judge_mutant(notebook, r, v, settings))
    run_in_parallel(tasks, workers, log, "mutants")
    return reports, failures


def apply_equivalents(report, listed):
    """Mark the listed equivalent mutants; collect the listed keys that match no mutant (stale)."""
    verdicts = {v.mutant.key: v for e in report.exercises for v in e.verdicts}
    keys = {key for e in report.exercises for key in e.keys}
    tested = {e.exercise for e in report.exercises}
    for key, reason in listed.items():
        if key in verdicts:
            verdicts[key].equivalent = reason
        elif key.split(":")[0] in tested and key not in keys:
            report.stale_equivalents.append(key)


def available_exercises(root, assignment):
    """{notebook name: its exercise ids} of an assignment's source notebooks."""
    folder = Path(root) / "source" / assignment
    return {name: cellflow.exercises(nbformat.read(folder / name, as_version=4))
            for name in source_notebooks(root, assignment)}


def mutation_test(root, assignment, workers=None, exercises=None, max_mutants=None, seed=0, operators=OPERATORS,
                  limits=DEFAULT_LIMITS, scratch=None, log=default_log, whole=False):
    """Mutation-test an assignment's hidden tests (the module docstring says how).

    Inputs:
    - root: the course root; assignment: e.g. "03_tensorflow"; workers: kernels at once (default: cores).
    - exercises: solution cell ids to test (default: all); max_mutants: per exercise (default: all); seed.
    - limits: the grading limits (memory per kernel; the cell timeout caps every mutant's cell timeout).
    - whole: run every mutant through the whole notebook without stopping early (slow; for comparison).
    Returns:
    - an AssignmentReport.
    """
    import os

    available = available_exercises(root, assignment)
    if not available:
        raise ValueError(f"no notebook in {Path(root) / 'source' / assignment}")
    unknown = sorted(set(exercises or ()) - {e for ids in available.values() for e in ids})
    if unknown:
        raise ValueError(f"{assignment} has no exercise {', '.join(unknown)}; its exercises are: "
                         + ", ".join(e for ids in available.values() for e in ids))
    workers = workers or os.cpu_count() or 1
    start = time.perf_counter()
    report = AssignmentReport(assignment, settings={"seed": seed, "max_mutants": max_mutants, "workers": workers,
                                                    "operators": list(operators), "exercises": list(exercises or []),
                                                    "whole": whole})
    scratch_dir = Path(tempfile.mkdtemp(prefix=f"mutants-{assignment}-", dir=scratch))
    folder = Path(root) / "source" / assignment
    try:
        for name in available:
            settings = RunSettings(folder, scratch_dir, limits.memory_limit_gb, limits.cell_timeout, whole)
            notebook = nbformat.read(folder / name, as_version=4)
            reports, failures = notebook_mutants(notebook, Path(name).stem, settings, workers, exercises, max_mutants,
                                              seed, operators, log)
            report.exercises += reports
            report.reference_failures.update(failures)
        apply_equivalents(report, read_equivalents(Path(root) / "samples" / assignment / EQUIVALENTS_FILE))
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
    report.seconds = time.perf_counter() - start
    return report


# ----------------------------------------------------------------------------------------------
# The report: a Markdown table per assignment, the survivors, and the same as JSON
# ----------------------------------------------------------------------------------------------

def duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def score_text(killed, counted):
    return f"{killed / counted:.2f}" if counted else "n/a"


def table_rows(report):
    """The Markdown rows of the score table: one per exercise, then the assignment's."""
    several = len({e.notebook for e in report.exercises}) > 1
    rows = ["| exercise | killed / mutants | score | survived | equivalent | discarded | judging test cells |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for e in report.exercises:
        label = f"{e.notebook}/{e.exercise}" if several else e.exercise
        judges = ", ".join(f"`{gid}`" for gid in e.judging) or "none: no test cell judges it"
        killed, counted = len(e.killed()), len(e.counted())
        sampled = "" if len(e.verdicts) == e.generated else f" (sample of {e.generated})"
        rows.append(f"| `{label}` | {killed} / {counted}{sampled} | {score_text(killed, counted)}"
                    f" | {len(e.survivors())} | {len(e.equivalents())} | {e.discarded} | {judges} |")
    killed, counted = report.totals()
    rows.append(f"| **{report.assignment}** | {killed} / {counted} | **{score_text(killed, counted)}** | "
                f"{sum(len(e.survivors()) for e in report.exercises)} | "
                f"{sum(len(e.equivalents()) for e in report.exercises)} | "
                f"{sum(e.discarded for e in report.exercises)} | |")
    return rows


def mutant_lines(verdict, indent="    "):
    mutant = verdict.mutant
    head = f"{indent}{mutant.key}  line {mutant.line} ({mutant.operator})"
    if verdict.killed_by:
        head += f": killed by {verdict.killed_by}"
    elif verdict.equivalent:
        head += f": equivalent: {verdict.equivalent}"
    return [head] + [f"{indent}    {line}" for line in mutant.diff().splitlines()]


def notes(report):
    """Lines about the runs: reference failures, reduced plans, stale or wrong equivalents."""
    lines = [f"- `{gid}` fails on the reference solution, so it judges nothing: {error.splitlines()[0][:160]}"
             for gid, error in report.reference_failures.items()]
    for e in report.exercises:
        if e.plan_note:
            lines.append(f"- `{e.exercise}`: {e.plan_note}")
        elif e.left_out and e.verdicts:
            lines.append(f"- `{e.exercise}`: its mutants skip {', '.join(e.left_out)} (expensive, read by no judging "
                         "cell; the reference passes without them)")
    lines += [f"- `{e.exercise}`: no test cell judges it, so none of its {len(e.verdicts)} mutant(s) can be killed"
              for e in report.exercises if not e.judging]
    lines += [f"- listed as equivalent but no such mutant (stale): {key}" for key in report.stale_equivalents]
    return lines


def format_report(report):
    """The whole report as text (Markdown): settings, the table, survivors, equivalents, notes."""
    settings = report.settings
    made = sum(e.generated for e in report.exercises)
    run = sum(len(e.verdicts) for e in report.exercises)
    chosen = "all" if settings.get("max_mutants") is None else f"at most {settings['max_mutants']} per exercise"
    runs = "each through the whole notebook" if settings.get("whole") else "reduced runs, stopped at the first failing judge"
    lines = [f"## Mutation score of {report.assignment}", "",
             f"{run} mutant(s) of {made} made ({chosen}, seed {settings.get('seed')}; {runs}), "
             f"{settings.get('workers')} worker(s), {duration(report.seconds)}.", ""]
    lines += table_rows(report)
    for title, pick in (("Surviving mutants (what the tests miss)", ExerciseReport.survivors),
                        ("Listed as equivalent but killed (remove them from the list)", ExerciseReport.wrongly_equivalent),
                        ("Equivalent mutants (listed, not counted)", ExerciseReport.equivalents)):
        groups = [(e, pick(e)) for e in report.exercises if pick(e) and e.judging]
        if groups:
            lines += ["", f"### {title}", ""]
            for e, verdicts in groups:
                lines.append(f"`{e.exercise}` ({len(verdicts)}):")
                for verdict in verdicts:
                    lines += mutant_lines(verdict)
    extra = notes(report)
    if extra:
        lines += ["", "### Notes", ""] + extra
    return "\n".join(lines) + "\n"


def report_json(report):
    """The report as JSON-ready data: settings, per-exercise counts, plans and every mutant's verdict."""
    exercises = []
    for e in report.exercises:
        killed, counted = len(e.killed()), len(e.counted())
        exercises.append({
            "notebook": e.notebook, "exercise": e.exercise, "judging": e.judging, "planned": e.planned,
            "left_out": e.left_out, "plan_note": e.plan_note, "made": e.generated, "discarded": e.discarded,
            "killed": killed, "counted": counted, "score": killed / counted if counted and e.judging else 0.0,
            "mutants": [{"key": v.mutant.key, "operator": v.mutant.operator, "line": v.mutant.line,
                         "diff": v.mutant.diff(), "status": v.status, "killed_by": v.killed_by,
                         "message": v.message,
                         "equivalent": v.equivalent, "seconds": round(v.seconds, 2)} for v in e.verdicts]})
    killed, counted = report.totals()
    return {"assignment": report.assignment, "settings": report.settings, "seconds": round(report.seconds, 1),
            "killed": killed, "counted": counted, "score": killed / counted if counted else None,
            "reference_failures": report.reference_failures, "stale_equivalents": report.stale_equivalents,
            "exercises": exercises}
