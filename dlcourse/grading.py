"""Grade a folder of submissions (nbgrader layout ``<submitted>/<student>/<assignment>/<notebook>.ipynb``).

Design (why it looks like this):

* Every submission is graded by the real ``nbgrader autograde`` in its **own private course folder**
  (a copy of the assignment's template gradebook, source and config, and a *copy* of the submission:
  nothing under the submitted folder is ever written). nbgrader's SQLite gradebook does not take
  concurrent writers, so no two processes ever share one: each private gradebook has one writer, and
  the results are merged into the course's gradebook (``gradebook.db`` at the course root, the one
  ``nbgrader formgrader`` reads) by a **single writer**, the main process.
* N submissions run at once (``--workers``, default: the number of cores). Each runs in its own
  process session with a **memory limit** (``RLIMIT_AS``, inherited by the kernel nbgrader starts) and
  a **wall-time limit**; on timeout every process of that submission is killed, kernel included (the
  kernel runs in a session of its own, so it is found by a token in its environment).
* Before grading, each notebook is **inspected**: invalid JSON, missing or renamed notebooks, deleted,
  retyped and duplicated cells are reported with their reason. What can be repaired in the private
  copy is repaired (duplicated cell ids renumbered; nbgrader restores deleted test cells and cell
  types from the source); a notebook that cannot be read scores 0. A dead kernel, a cell that loops
  ignoring SIGINT or a memory blow-up fails that submission only, with its reason.
* **Resumable**: a submission is graded once; its record ``autograded/<student>/<assignment>/grading.json``
  (written last, atomically) holds the sha256 of the submitted and source notebooks, so an interrupted
  run redoes only what has no record, and a changed submission or source is graded again.
  ``--force`` regrades everything.
* Feedback (``feedback/<student>/<assignment>/<notebook>.html``, see ``dlcourse.feedback``) is written
  for each graded submission; the grades tables (CSV) are written at the end (``write_grades``).
"""

import argparse
import csv
import hashlib
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlcourse.course import ROOT, assignments_present, nbgrader_command

RECORD_NAME = "grading.json"
DEFAULT_TIME_LIMIT = 1800  # seconds for one whole submission (all its notebooks)
DEFAULT_MEMORY_LIMIT_GB = 6.0  # address space of each process (nbgrader, kernel); TF + torch peak ~3 GB
FILE_SIZE_LIMIT = 2 * 2**30  # no file written by a submission may exceed this
TOKEN_VARIABLE = "DLCOURSE_GRADING_TOKEN"


def sha256_file(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def course_assignments(root):
    """The assignments with notebooks in root/source/: the course's five in course order, then any other."""
    present = assignments_present(root)
    others = sorted(p.name for p in (Path(root) / "source").glob("*") if p.is_dir() and p.name not in present
                    and any(p.glob("*.ipynb")))
    return present + others


def source_notebooks(root, assignment):
    """The notebook file names of an assignment, from source/<assignment>/."""
    return sorted(path.name for path in (Path(root) / "source" / assignment).glob("*.ipynb"))


def source_hashes(root, assignment):
    folder = Path(root) / "source" / assignment
    return {name: sha256_file(folder / name) for name in source_notebooks(root, assignment)}


def submission_hashes(folder, names):
    """sha256 of each expected notebook of a submission folder (None when missing)."""
    folder = Path(folder)
    return {name: (sha256_file(folder / name) if (folder / name).is_file() else None) for name in names}


# ----------------------------------------------------------------------------------------------
# Inspection of a submission (before nbgrader sees it)
# ----------------------------------------------------------------------------------------------

def _grade_cells(notebook):
    """[(grade_id, cell_type, is_test)] of the nbgrader cells of a notebook, in order."""
    found = []
    for cell in notebook.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if isinstance(meta, dict) and meta.get("grade_id"):
            is_test = bool(meta.get("grade")) and not meta.get("solution")
            found.append((meta["grade_id"], cell.get("cell_type"), is_test))
    return found


def inspect_submission(folder, source_folder):
    """Check a submitted assignment folder against the source notebooks, and prepare what nbgrader grades.

    Inputs:
    - folder: the submitted <student>/<assignment>/ folder (only read).
    - source_folder: source/<assignment>/.
    Returns:
    - (notebooks, problems): notebooks maps each gradable notebook file name to the (possibly repaired)
      NotebookNode to hand to nbgrader; problems is a list of messages, one per defect found.
    """
    folder, source_folder = Path(folder), Path(source_folder)
    expected = sorted(path.name for path in source_folder.glob("*.ipynb"))
    present = sorted(path.name for path in folder.glob("*.ipynb")) if folder.is_dir() else []
    notebooks, problems = {}, []
    unexpected = [name for name in present if name not in expected]
    for name in expected:
        path = folder / name
        if not path.is_file():
            hint = f"; found instead: {', '.join(unexpected)} (renamed?)" if unexpected else ""
            problems.append(f"{name}: missing notebook, scored 0{hint}")
            continue
        try:
            raw = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{name}: not valid JSON ({exc}), scored 0")
            continue
        try:
            if not isinstance(raw, dict) or raw.get("nbformat") != 4 or not isinstance(raw.get("cells"), list):
                raise ValueError("not an nbformat 4 notebook")
            notebook = nbformat.from_dict(raw)
            for cell in notebook.cells:
                if "source" not in cell or "cell_type" not in cell:
                    raise ValueError("a cell without source or cell_type")
                if isinstance(cell.source, list):
                    cell.source = "".join(cell.source)
        except Exception as exc:  # noqa: BLE001 - any unreadable notebook is reported, not fatal
            problems.append(f"{name}: not a readable notebook ({exc}), scored 0")
            continue
        source = nbformat.read(source_folder / name, as_version=4)
        problems += _compare_cells(name, notebook, source)
        # nbgrader grades the last copy of a duplicated cell (DeduplicateIds) but then trips over the
        # emptied metadata of the others: make the earlier copies plain cells ourselves.
        last = {}
        for index, cell in enumerate(notebook.cells):
            grade_id = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
            if grade_id:
                last[grade_id] = index
        for index, cell in enumerate(notebook.cells):
            grade_id = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
            if grade_id and last[grade_id] != index:
                del cell.metadata["nbgrader"]
        # Duplicated cell ids make nbformat (and nbgrader) refuse the notebook: renumber the later copies.
        seen = set()
        for index, cell in enumerate(notebook.cells):
            cell_id = cell.get("id")
            if cell_id is None or cell_id in seen:
                cell["id"] = f"dup-{index}-{uuid.uuid4().hex[:8]}" if cell_id is not None else f"cell-{index}"
            seen.add(cell["id"])
        notebook.nbformat_minor = max(int(notebook.get("nbformat_minor", 5)), 5)
        notebooks[name] = notebook
    for name in unexpected:
        problems.append(f"{name}: unexpected notebook, not graded")
    return notebooks, problems


def _compare_cells(name, notebook, source):
    problems = []
    wanted = {grade_id: (cell_type, is_test) for grade_id, cell_type, is_test in _grade_cells(source)}
    got = _grade_cells(notebook)
    ids = [grade_id for grade_id, _, _ in got]
    duplicated = sorted({grade_id for grade_id in ids if ids.count(grade_id) > 1})
    if duplicated:
        problems.append(f"{name}: duplicated cells {', '.join(duplicated)} (only the last copy is graded)")
    cell_ids = [cell.get("id") for cell in notebook.cells if cell.get("id")]
    duplicated_ids = sorted({i for i in cell_ids if cell_ids.count(i) > 1} - set(duplicated))
    if duplicated_ids:
        problems.append(f"{name}: duplicated cell ids {', '.join(duplicated_ids)} (renumbered)")
    deleted = [grade_id for grade_id in wanted if grade_id not in ids]
    tests = [grade_id for grade_id in deleted if wanted[grade_id][1]]
    others = [grade_id for grade_id in deleted if not wanted[grade_id][1]]
    if tests:
        problems.append(f"{name}: deleted test cells {', '.join(tests)} (restored from the source and run)")
    if others:
        problems.append(f"{name}: deleted cells {', '.join(others)}")
    retyped = sorted({f"{grade_id} ({wanted[grade_id][0]} -> {cell_type})" for grade_id, cell_type, _ in got
                      if grade_id in wanted and wanted[grade_id][0] != cell_type})
    if retyped:
        problems.append(f"{name}: cells of a changed type {', '.join(retyped)} (type restored)")
    unknown = sorted({grade_id for grade_id in ids if grade_id not in wanted})
    if unknown:
        problems.append(f"{name}: cells with unknown grade ids {', '.join(unknown)} (ignored)")
    return problems


# ----------------------------------------------------------------------------------------------
# One submission, in a private course folder
# ----------------------------------------------------------------------------------------------

def make_template(workdir, root, assignments):
    """A private course folder with the assignments released into its one gradebook (copied per
    submission; one gradebook for all of them, so nbgrader creates a database only once)."""
    from dlcourse.autograde import make_course

    return make_course(Path(workdir) / "template", list(assignments), root=root)


def _limits(memory_bytes):
    def apply():
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _processes_with_token(token):
    """Pids of the processes whose environment holds our token (nbgrader, its kernel, their children)."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def kill_submission_processes(process, token):
    """Kill every process of one submission: nbgrader's process group and anything carrying the token."""
    for _ in range(3):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pids = [pid for pid in _processes_with_token(token) if pid != os.getpid()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not pids:
            break
        time.sleep(0.2)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class Job:
    student: str
    assignment: str
    folder: Path  # the submitted folder (read only)


def _diagnose(log_text, memory_gb):
    """A short reason from nbgrader's log of a failed autograde."""
    text = log_text
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return (f"the kernel died while running the notebook (os._exit, a crash, or the memory limit "
                f"of {memory_gb:g} GB)")
    if "CellTimeoutError" in text or "TimeoutError" in text:
        return "a cell exceeded the cell time limit"
    if "MemoryError" in text:
        return f"out of memory (limit {memory_gb:g} GB)"
    if "ValidationError" in text or "failed to validate" in text:
        return "the notebook's grading metadata is corrupted"
    lines = [line.strip() for line in text.splitlines() if "[ERROR]" in line or "Error" in line]
    return lines[-1][:300] if lines else "nbgrader failed (see the log)"


def grade_one(job, template, root, workdir, time_limit=DEFAULT_TIME_LIMIT, memory_gb=DEFAULT_MEMORY_LIMIT_GB,
              register=None):
    """Grade one submission in a private copy of ``template``; return (record, private course folder).

    Inputs:
    - job: the submission; template: a course folder from make_template for job.assignment.
    - register: optional callable(process, token) told about the running nbgrader (for interruption).
    Returns:
    - the record dict (written later by the caller) and the private course Path holding autograded/.
    """
    start = time.perf_counter()
    root = Path(root)
    names = source_notebooks(root, job.assignment)
    course = Path(tempfile.mkdtemp(prefix=f"{job.student}-{job.assignment}-", dir=workdir))
    shutil.copy(template / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copy(template / "gradebook.db", course / "gradebook.db")
    shutil.copytree(template / "source" / job.assignment, course / "source" / job.assignment)
    record = {
        "student": job.student, "assignment": job.assignment,
        "source_sha256": source_hashes(root, job.assignment),
        "submission_sha256": submission_hashes(job.folder, names),
        "problems": [], "status": "graded", "reason": "",
    }
    notebooks, problems = inspect_submission(job.folder, course / "source" / job.assignment)
    record["problems"] = problems
    target = course / "submitted" / job.student / job.assignment
    target.mkdir(parents=True)
    for path in Path(job.folder).iterdir():  # data files a student added, next to the notebooks
        if path.is_file() and path.suffix != ".ipynb" and path.stat().st_size < 50 * 2**20:
            shutil.copy(path, target / path.name)
    for name, notebook in notebooks.items():
        nbformat.write(notebook, target / name, version=4)
    log_path = course / "nbgrader.log"
    if notebooks:
        token = uuid.uuid4().hex
        env = dict(os.environ)
        env[TOKEN_VARIABLE] = token
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env.setdefault("PYTHONHASHSEED", "0")
        command = nbgrader_command() + ["autograde", job.assignment, "--student", job.student, "--force",
                                        "--OverwriteCells.add_missing_cells=True"]
        memory = int(memory_gb * 2**30) if memory_gb else 0
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       preexec_fn=_limits(memory))
            if register:
                register(process, token)
            try:
                process.wait(timeout=time_limit)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_submission_processes(process, token)
                if register:
                    register(None, token)
        log_text = log_path.read_text(errors="replace")
        if timed_out:
            record["status"] = "failed"
            record["reason"] = (f"stopped at the wall-time limit of {time_limit:g} s (a cell that never "
                                "finishes, e.g. a loop that ignores interrupts)")
        elif process.returncode != 0:
            record["status"] = "failed"
            record["reason"] = _diagnose(log_text, memory_gb)
    else:
        record["status"] = "failed"
        record["reason"] = "no notebook could be graded (see the problems)"
    record["notebooks"] = _collect_scores(course, job, root, names, record)
    autograded = course / "autograded" / job.student / job.assignment
    for name in names:
        path = autograded / name
        if record["status"] == "graded" and path.is_file():
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error" and output.get("ename") == "MemoryError":
                        message = f"{name}: a cell ran out of memory (limit {memory_gb:g} GB)"
                        if message not in record["problems"]:
                            record["problems"].append(message)
    got = possible = 0.0
    for cells in record["notebooks"].values():
        for cell in cells.values():
            if cell["type"] == "test":
                got += cell["score"] or 0.0
                possible += cell["max_score"]
    record["score"], record["max_score"] = got, possible
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["graded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record, course


def _collect_scores(course, job, root, names, record):
    """Per notebook, per grade cell: {"type": "test"|"manual", "score", "max_score"} from the private gradebook.

    Cells of a notebook that was not graded (missing, unreadable, or the run failed) score 0.
    """
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    graded = record["status"] == "graded"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(job.assignment)
        submitted = {}
        if graded:
            try:
                submission = gradebook.find_submission(job.assignment, job.student)
                submitted = {nb.name: {g.name: (g.manual_score if g.manual_score is not None else g.auto_score)
                                         for g in nb.grades} for nb in submission.notebooks}
            except MissingEntry:
                submitted = {}
        for notebook in assignment.notebooks:
            cells = {}
            exists = (course / "autograded" / job.student / job.assignment / f"{notebook.name}.ipynb").is_file()
            for cell in notebook.grade_cells:
                kind = "test" if cell.cell_type == "code" else "manual"
                score = submitted.get(notebook.name, {}).get(cell.name) if (graded and exists) else None
                if kind == "test" and score is None:
                    score = 0.0
                cells[cell.name] = {"type": kind, "score": score, "max_score": cell.max_score}
            result[f"{notebook.name}.ipynb"] = cells
    return result


# ----------------------------------------------------------------------------------------------
# The course's gradebook: the single writer merges each private result into it
# ----------------------------------------------------------------------------------------------

def _ensure_assignment(gradebook, template_db, assignment):
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
    """Write one submission's scores into the course gradebook (called by one writer only)."""
    from nbgrader.api import Gradebook, MissingEntry

    import warnings

    from sqlalchemy.exc import SAWarning

    assignment, student = record["assignment"], record["student"]
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{gradebook_path}") as gradebook:
        # nbgrader's add_submission builds its objects in a way SQLAlchemy 2 warns about (harmless)
        warnings.simplefilter("ignore", SAWarning)
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            _ensure_assignment(gradebook, template_db, assignment)
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


# ----------------------------------------------------------------------------------------------
# A folder of submissions, in parallel
# ----------------------------------------------------------------------------------------------

def find_jobs(submitted, root, assignments=None, students=None):
    """The (student, assignment) folders under ``submitted`` for assignments present in source/."""
    known = assignments or course_assignments(root)
    jobs = []
    submitted = Path(submitted)
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []:
        if students and student_dir.name not in students:
            continue
        for assignment in known:
            folder = student_dir / assignment
            if folder.is_dir():
                jobs.append(Job(student_dir.name, assignment, folder))
    return jobs


def read_record(root, student, assignment):
    path = Path(root) / "autograded" / student / assignment / RECORD_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def is_up_to_date(job, root):
    """True when the job has a record for the current submission and source notebooks."""
    record = read_record(root, job.student, job.assignment)
    if not record or record.get("reason", "").startswith("internal error"):
        return False
    names = source_notebooks(root, job.assignment)
    return (record.get("source_sha256") == source_hashes(root, job.assignment)
            and record.get("submission_sha256") == submission_hashes(job.folder, names))


def _write_json_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _install_results(root, job, record, private_course):
    """Copy the private autograded folder and the feedback into the course, then write the record."""
    from dlcourse import feedback

    root = Path(root)
    destination = root / "autograded" / job.student / job.assignment
    if destination.exists():
        shutil.rmtree(destination)
    source = private_course / "autograded" / job.student / job.assignment
    if source.is_dir():
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("timestamp.txt"))
    destination.mkdir(parents=True, exist_ok=True)
    feedback.write_feedback(root, job.student, job.assignment, record)
    _write_json_atomic(destination / RECORD_NAME, record)


class Interrupted(Exception):
    pass


def grade_folder(submitted, root=ROOT, workers=None, force=False, time_limit=DEFAULT_TIME_LIMIT,
                 memory_gb=DEFAULT_MEMORY_LIMIT_GB, gradebook=None, assignments=None, students=None,
                 progress=True, log=print, scratch=None):
    """Grade every submission under ``submitted`` into root/autograded/ and root/feedback/.

    Inputs:
    - submitted: a folder <student>/<assignment>/<notebook>.ipynb (never modified).
    - workers: parallel submissions (default: the number of cores); force: regrade up-to-date ones.
    - time_limit: seconds per submission; memory_gb: address-space limit of each of its processes.
    - gradebook: the course gradebook to merge into (default root/gradebook.db).
    - scratch: where the private course folders go (default: the system's temporary folder).
    Returns:
    - the list of records of the submissions graded in this run (skipped ones are not included).
    """
    from tqdm import tqdm

    root = Path(root)
    submitted = Path(submitted).resolve()
    workers = max(1, int(workers or os.cpu_count() or 1))
    gradebook = Path(gradebook or root / "gradebook.db")
    jobs = find_jobs(submitted, root, assignments, students)
    todo = [job for job in jobs if force or not is_up_to_date(job, root)]
    log(f"[grade] {len(jobs)} submission(s) in {submitted}; {len(jobs) - len(todo)} already graded, "
        f"{len(todo)} to grade with {workers} worker(s)")
    if not todo:
        return []
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-grading-", dir=scratch))
    running = {}  # token -> process
    running_lock = threading.Lock()
    stop = threading.Event()

    def register(process, token):
        with running_lock:
            if process is None:
                running.pop(token, None)
            else:
                running[token] = process
                if stop.is_set():
                    kill_submission_processes(process, token)

    results = queue.Queue()
    templates = {}
    records = []
    try:
        needed = [a for a in course_assignments(root) if a in {job.assignment for job in todo}]
        template = make_template(workdir, root, needed)
        templates = {assignment: template for assignment in needed}

        def work(job):
            if stop.is_set():
                return
            try:
                record, private = grade_one(job, templates[job.assignment], root, workdir, time_limit,
                                            memory_gb, register)
                results.put((job, record, private, None))
            except BaseException as exc:  # noqa: BLE001 - reported by the writer
                results.put((job, None, None, exc))

        bar = tqdm(total=len(todo), unit="submission", disable=not progress, file=sys.stderr,
                   dynamic_ncols=True, smoothing=0.1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for job in todo:
                pool.submit(work, job)
            done = 0
            try:
                while done < len(todo):
                    try:
                        job, record, private, error = results.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    done += 1
                    bar.update(1)
                    if error is not None:
                        if stop.is_set():
                            continue
                        record = _crash_record(job, root, error)
                        private = workdir / "nothing"
                    # The single writer: results, feedback, record, then the course gradebook.
                    _install_results(root, job, record, private)
                    merge_into_gradebook(gradebook, templates[job.assignment] / "gradebook.db", record)
                    if private.exists():
                        shutil.rmtree(private, ignore_errors=True)
                    records.append(record)
                    line = (f"{job.student}/{job.assignment}: {record['score']:g}/{record['max_score']:g}"
                            f" ({record['seconds']:.0f} s)")
                    if record["status"] != "graded":
                        line += f" NOT GRADED: {record['reason']}"
                    for problem in record["problems"]:
                        line += f"\n    problem: {problem}"
                    bar.write(f"[grade] {line}", file=sys.stdout)
            except BaseException:
                stop.set()
                with running_lock:
                    for token, process in list(running.items()):
                        kill_submission_processes(process, token)
                raise
        bar.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [r for r in records if r["status"] != "graded"]
    log(f"[grade] graded {len(records)} submission(s); {len(failed)} could not be graded"
        + "".join(f"\n    {r['student']}/{r['assignment']}: {r['reason']}" for r in failed))
    return records


def _crash_record(job, root, error):
    names = source_notebooks(root, job.assignment)
    return {"student": job.student, "assignment": job.assignment, "status": "failed",
            "reason": f"internal error while grading: {type(error).__name__}: {error}", "problems": [],
            "source_sha256": source_hashes(root, job.assignment),
            "submission_sha256": submission_hashes(job.folder, names),
            "notebooks": {}, "score": 0.0, "max_score": 0.0, "seconds": 0.0,
            "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ----------------------------------------------------------------------------------------------
# Grades tables
# ----------------------------------------------------------------------------------------------

def all_records(root, students=None):
    """Every grading record under root/autograded/, optionally only for the given students."""
    found = []
    for path in sorted((Path(root) / "autograded").glob(f"*/*/{RECORD_NAME}")):
        if students is not None and path.parent.parent.name not in students:
            continue
        found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


def write_grades(root, out_dir, students=None):
    """Write <out_dir>/<assignment>.csv (one row per student) and <out_dir>/overall.csv.

    Returns:
    - the list of CSV paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = all_records(root, students)
    by_assignment = {}
    for record in records:
        by_assignment.setdefault(record["assignment"], []).append(record)
    written = []
    order = [a for a in course_assignments(root) if a in by_assignment] + sorted(
        set(by_assignment) - set(course_assignments(root)))
    for assignment in order:
        path = out_dir / f"{assignment}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", "score", "max_score", "percent", "manual_points_pending",
                             "status", "reason", "problems"])
            for record in sorted(by_assignment[assignment], key=lambda r: r["student"]):
                pending = sum(cell["max_score"] for cells in record["notebooks"].values()
                              for cell in cells.values() if cell["type"] == "manual" and cell["score"] is None)
                percent = 100.0 * record["score"] / record["max_score"] if record["max_score"] else 0.0
                writer.writerow([record["student"], f"{record['score']:g}", f"{record['max_score']:g}",
                                 f"{percent:.1f}", f"{pending:g}", record["status"], record["reason"],
                                 " | ".join(record["problems"])])
        written.append(path)
    students_all = sorted({record["student"] for record in records})
    path = out_dir / "overall.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student"] + [f"{a} ({_max_of(by_assignment[a]):g})" for a in order]
                        + ["total", "max_total", "percent"])
        for student in students_all:
            row, got, possible = [student], 0.0, 0.0
            for assignment in order:
                mine = [r for r in by_assignment[assignment] if r["student"] == student]
                maximum = _max_of(by_assignment[assignment])
                score = mine[0]["score"] if mine else 0.0
                row.append(f"{score:g}" if mine else "")
                got += score
                possible += maximum
            row += [f"{got:g}", f"{possible:g}", f"{100.0 * got / possible if possible else 0.0:.1f}"]
            writer.writerow(row)
    written.append(path)
    return written


def _max_of(records):
    return max((r["max_score"] for r in records), default=0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dlcourse.grading")
    parser.add_argument("submitted")
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT)
    parser.add_argument("--memory-limit-gb", type=float, default=DEFAULT_MEMORY_LIMIT_GB)
    parser.add_argument("--gradebook", default=None)
    parser.add_argument("--grades-dir", default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # terminate like Ctrl-C: stop the workers
    try:
        grade_folder(args.submitted, root=args.root, workers=args.workers, force=args.force,
                     time_limit=args.time_limit, memory_gb=args.memory_limit_gb, gradebook=args.gradebook,
                     progress=not args.no_progress)
    except KeyboardInterrupt:
        print("[grade] interrupted: graded submissions are kept; run again to resume", flush=True)
        sys.exit(130)
    if args.grades_dir:
        students = sorted(p.name for p in Path(args.submitted).iterdir() if p.is_dir())
        write_grades(args.root, args.grades_dir, students)


if __name__ == "__main__":
    main()
