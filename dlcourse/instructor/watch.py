"""``./course watch``: grading on submission. It watches the exchange's inbound folder and, for each new
submission: ``nbgrader collect`` (into submitted/), ``./course grade`` of what changed (the records keep it
from regrading anything already graded), the grades tables, and ``nbgrader release_feedback`` of the new
feedback pages, so the student's ``fetch_feedback`` gets them minutes after ``submit``.

It survives a restart without regrading or re-releasing: what was graded is in the records, what was
released is in ``feedback/.released.json`` ({"<student>/<assignment>": the graded_at it released}); a
submission graded but not released when the watcher stopped is released on the next round.
"""

import json
import time
from pathlib import Path

from dlcourse.instructor.config import log as course_log
from dlcourse.instructor.exchange import course_config, stage_feedback
from dlcourse.instructor.grading import grade_folder
from dlcourse.instructor.notebooks import run_nbgrader
from dlcourse.instructor.records import all_records

RELEASED = Path("feedback") / ".released.json"


def inbound_entries(root):
    """{(student, assignment)} of the submissions in the exchange's inbound folder (``student+assignment+...``)."""
    course_id, exchange = course_config(root)
    inbound = exchange / course_id / "inbound"
    found = set()
    for entry in inbound.iterdir() if inbound.is_dir() else []:
        parts = entry.name.split("+")
        if len(parts) >= 3 and entry.is_dir():
            found.add((parts[0], parts[1]))
    return found


def _released(root):
    try:
        return json.loads((Path(root) / RELEASED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def release_new_feedback(root, submitted, log):
    """Release every graded submission's feedback not released since it was graded; returns the keys."""
    released, due, done = _released(root), {}, []
    for record in all_records(root):
        collected = (Path(submitted) / record["student"] / record["assignment"]).is_dir()
        if collected and released.get(f"{record['student']}/{record['assignment']}") != record["graded_at"]:
            due.setdefault(record["assignment"], []).append(record)
    for assignment, records in sorted(due.items()):
        staged, _ = stage_feedback(root, submitted, assignment)
        for record in (r for r in records if r["student"] in staged):
            run_nbgrader(["release_feedback", assignment, "--student", record["student"]], cwd=root)
            released[f"{record['student']}/{assignment}"] = record["graded_at"]
            done.append(f"{record['student']}/{assignment}")
        log(f"[watch] feedback of {assignment} released: {', '.join(done) or 'none'}")
    path = Path(root) / RELEASED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(released, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return done


def one_round(root, seen, grade_options, write_tables, log):
    """Collect the assignments with new inbound entries, grade, write the tables, release the feedback.

    Returns:
    - the inbound entries seen now.
    """
    submitted = Path(root) / "submitted"
    now = inbound_entries(root)
    for assignment in sorted({assignment for _, assignment in now - seen}):
        run_nbgrader(["collect", assignment, "--update"], cwd=root)
        log(f"[watch] collected {assignment}")
    if now - seen or not seen:
        records = grade_folder(submitted, root=root, log=log, progress=False, **grade_options)
        if records:
            write_tables(root, submitted)
    release_new_feedback(root, submitted, log)
    return now


def watch(root, grade_options, write_tables, interval=10.0, rounds=None, log=course_log):
    """Watch the exchange until interrupted (or for ``rounds`` rounds), ``interval`` seconds apart.

    Inputs:
    - grade_options: grading.grade_folder's keyword arguments (workers, limits, sandboxed, scheduler, db_url);
      write_tables: callable(root, submitted) writing the grades tables.
    """
    seen, done = set(), 0
    log(f"[watch] watching the exchange of {root} every {interval:g} s (Ctrl-C stops)")
    while rounds is None or done < rounds:
        seen = one_round(root, seen, grade_options, write_tables, log)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
