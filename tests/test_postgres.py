"""The gradebook on PostgreSQL: a real server (Debian's postgresql 15, started here on a temporary data folder,
127.0.0.1 and a free port), `./course grade --db-url postgresql+psycopg://...` (the real command line) on
practical 1's sample submissions, the grades tables built from it, and formgrader's own backend
(nbgrader's NbGraderAPI and Gradebook on that URL) listing the submissions with their scores. Also
`$DLCOURSE_DB_URL`: read by `./course grades` and, through nbgrader_config.py, by nbgrader's own commands.

Skipped, with the reason, only where PostgreSQL's server binaries are absent (.ci/run installs them).
"""

import csv
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dlcourse.instructor.config import GRADEBOOK_URL_VARIABLE, ROOT
from dlcourse.instructor.nbgrader_course import generate_releases
from test_distributed import ASSIGNMENT, SAMPLES, course_command, environment, free_port, records_of

pytestmark = pytest.mark.slow


def postgres_bin():
    """The folder of Debian's newest PostgreSQL server binaries (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def server_user():
    """initdb and postgres refuse root: run them as Debian's `postgres` account (created here if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


@pytest.fixture(scope="module")
def postgres_url():
    """A running PostgreSQL server with an empty database `gradebook`; yields its SQLAlchemy URL."""
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql (.ci/run does)")
    import psycopg

    user = server_user()
    as_user = ["runuser", "-u", user, "--"] if user else []
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    data, port = folder / "data", free_port()
    if user:
        shutil.chown(folder, user)
    subprocess.run(as_user + [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                              "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run(as_user + [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                              str(folder / "server.log"), "-w", "-t", "60", "start"], check=True, capture_output=True)
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE gradebook")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(as_user + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_grading_tables_and_formgrader_on_a_postgresql_gradebook(postgres_url, tmp_path):
    import psycopg
    from nbgrader.api import Grade, Gradebook
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root = tmp_path / "course"
    shutil.copytree(ROOT / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    submitted = root / "submitted"  # where formgrader looks for submissions
    for sample in SAMPLES:
        shutil.copytree(ROOT / "samples" / "submitted" / sample / ASSIGNMENT, submitted / sample / ASSIGNMENT)
    scratch = Path(tempfile.mkdtemp(prefix="pgg-"))  # short: the kernels' ipc sockets
    try:
        done = subprocess.run(course_command(root, submitted, "--workers", 2, "--db-url", postgres_url), cwd=ROOT,
                              text=True, capture_output=True, env=environment(scratch), timeout=300)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not (root / "gradebook.db").exists(), "--db-url given, yet the SQLite gradebook was written"
    records = records_of(root)
    assert sorted(records) == SAMPLES
    full = records["sample-correct"]["max_score"]
    expected = {s: records[s]["score"] for s in SAMPLES}
    assert expected["sample-correct"] == full and expected["sample-untouched"] == 0.0
    assert 0 < expected["sample-partial"] < full

    # the rows are in PostgreSQL itself
    port = int(postgres_url.rsplit(":", 1)[1].split("/")[0])
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="gradebook") as connection:
        rows = connection.execute("SELECT s.student_id FROM submitted_assignment s JOIN assignment a "
                                  "ON s.assignment_id = a.id WHERE a.name = %s ORDER BY 1", (ASSIGNMENT,)).fetchall()
    assert [row[0] for row in rows] == SAMPLES

    # nbgrader's Gradebook API and formgrader's backend read it: the submissions with their scores
    with Gradebook(postgres_url) as gradebook:
        scores = {s.student.id: s.code_score for s in gradebook.assignment_submissions(ASSIGNMENT)}
        cells = sum(len(n.grade_cells) for n in gradebook.find_assignment(ASSIGNMENT).notebooks)
        assert gradebook.db.query(Grade).count() == len(SAMPLES) * cells
    assert scores == expected
    api = NbGraderAPI(CourseDirectory(root=str(root), db_url=postgres_url))
    listed = {s["student"]: (s["code_score"], s["max_code_score"], s["autograded"])
              for s in api.get_submissions(ASSIGNMENT)}
    assert listed == {s: (expected[s], full, True) for s in SAMPLES}, listed

    # the tables written by ./course grade come from that gradebook
    table = {row["student"]: row for row in csv.DictReader(open(root / "grades" / f"{ASSIGNMENT}.csv"))}
    assert {s: float(table[s]["autograded"]) for s in SAMPLES} == expected

    # $DLCOURSE_DB_URL instead of --db-url: ./course grades, and nbgrader's own command through nbgrader_config.py
    env = environment(tmp_path)
    env[GRADEBOOK_URL_VARIABLE] = postgres_url
    (root / "grades").rename(root / "grades-first")
    tables = subprocess.run([sys.executable, "-m", "dlcourse.instructor.cli", "grades", str(submitted),
                             "--root", str(root)], cwd=ROOT, env=env, text=True, capture_output=True, timeout=120)
    assert tables.returncode == 0, tables.stdout[-2000:] + tables.stderr[-2000:]
    again = {row["student"]: row for row in csv.DictReader(open(root / "grades" / f"{ASSIGNMENT}.csv"))}
    assert {s: float(again[s]["autograded"]) for s in SAMPLES} == expected
    listing = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "db", "student", "list"], cwd=root,
                             env=env, text=True, capture_output=True, timeout=120)
    assert listing.returncode == 0, listing.stderr[-2000:]
    assert all(s in listing.stdout + listing.stderr for s in SAMPLES), listing.stdout + listing.stderr
    assert not (root / "gradebook.db").exists(), "nbgrader did not read $DLCOURSE_DB_URL from nbgrader_config.py"

    # ./course release's generate_assignment records the cells in the same database (--db-url -> nbgrader --db)
    generate_releases(root, postgres_url)
    assert (root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert not (root / "gradebook.db").exists(), "generate_assignment wrote a SQLite gradebook despite --db-url"
    with Gradebook(postgres_url) as gradebook:
        assert {s.student.id: s.code_score for s in gradebook.assignment_submissions(ASSIGNMENT)} == expected
