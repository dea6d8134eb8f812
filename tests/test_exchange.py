"""The exchange end to end on one machine (dlcourse/instructor/exchange.py and the ./course steps).

On the demo assignment of tests/test_grading.py, in a course folder other users can reach:
``./course exchange-setup`` (exchange/ beside the course, the students' nbgrader config), ``./course
publish``; then a second Unix user, created by the test, runs nbgrader's own ``fetch_assignment`` and
``submit`` (it can neither list the inbound folder nor write to the outbound one); ``./course collect``,
``./course grade submitted/``, ``./course return-feedback``, and the student's ``fetch_feedback`` receives
the course's feedback page, byte for byte.

The student runs as that user (setpriv). This machine's Python lives under /root (mode 0700), which other
users cannot traverse; the student's commands therefore run in a private mount namespace where the
Python installation is bound under a traversable /root (nothing changes outside that process). Where the
user cannot be created (not root, no useradd/setpriv/unshare), the test is skipped and says why.
"""

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from dlcourse.instructor import cli, exchange
from test_grading import CORRECT, DEMO, _release, _with, grade, make_demo_root

COURSE_ID = "deep-learning-practicals"


def _blocked_ancestor(path):
    """(the top-most ancestor other users cannot traverse, its child on the way to ``path``), or None."""
    path = Path(path).resolve()
    for parent in reversed(path.parents):  # "/" first
        if parent != Path("/") and not parent.stat().st_mode & stat.S_IXOTH:
            return parent, parent / path.relative_to(parent).parts[0]
    return None


def _namespace_script(needed, mount_points):
    """Shell lines that make each needed path reachable inside a private mount namespace: every child is
    bound aside, its blocked parent covered by a traversable tmpfs, and the child bound back into it."""
    lines = [f"mount --bind '{child}' '{point}'" for (_, child), point in zip(needed, mount_points)]
    lines += [f"mount -t tmpfs -o mode=0755 tmpfs '{blocked}'" for blocked in sorted({b for b, _ in needed})]
    for (_, child), point in zip(needed, mount_points):
        lines += [f"mkdir -p '{child}'", f"mount --bind '{point}' '{child}'"]
    return lines


class Student:
    """A Unix user created for the test, who runs commands in its home with the course's environment."""

    def __init__(self, name):
        self.name = name
        self.home = Path(pwd.getpwnam(name).pw_dir)
        interpreter = Path(sys.executable).resolve()
        self.needed = sorted({pair for pair in map(_blocked_ancestor, (interpreter, Path(sys.prefix))) if pair})
        self.points = [Path(tempfile.mkdtemp(prefix="dlcourse-mount-")) for _ in self.needed]

    def run(self, *command, check=True):
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "LANG": "C.UTF-8",
               "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
        inner = ["setpriv", "--reuid", self.name, "--regid", self.name, "--init-groups", "env", "-i",
                 *[f"{k}={v}" for k, v in env.items()], *command]
        if self.needed:
            script = " && ".join(_namespace_script(self.needed, self.points) + ['exec "$@"'])
            inner = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *inner]
        result = subprocess.run(inner, cwd=self.home, capture_output=True, text=True, timeout=900)
        if check:
            assert result.returncode == 0, (f"{' '.join(command)} as {self.name} failed:\n"
                                            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def nbgrader(self, *args):
        return self.run(str(Path(sys.executable).parent / "nbgrader"), *args)

    def write(self, path, text):
        path = self.home / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for part in [path] + [p for p in path.parents if p.is_relative_to(self.home)]:
            os.chown(part, pwd.getpwnam(self.name).pw_uid, pwd.getpwnam(self.name).pw_gid)
        return path


@pytest.fixture
def student():
    missing = [tool for tool in ("useradd", "userdel", "setpriv", "unshare") if not shutil.which(tool)]
    if os.geteuid() != 0 or missing:
        pytest.skip(f"SKIPPED: a second Unix user cannot be created here (needs root and {missing or 'useradd'}): "
                    "the exchange's permissions between users are not exercised")
    name = f"dlcstu{os.getpid() % 100000}"
    created = subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], capture_output=True,
                             text=True)
    if created.returncode != 0:
        pytest.skip(f"SKIPPED: useradd {name} failed ({created.stderr.strip()}): the exchange between users is "
                    "not exercised")
    user = Student(name)
    try:
        probe = user.run(sys.executable, "-c", "import nbgrader", check=False)
        if probe.returncode != 0:
            pytest.skip(f"SKIPPED: the course's environment cannot run as another user: {probe.stderr[-500:]}")
        yield user
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True)
        for point in user.points:
            shutil.rmtree(point, ignore_errors=True)


@pytest.fixture
def course():
    """The demo course in a folder other users can traverse (the exchange lives beside it)."""
    base = Path(tempfile.mkdtemp(prefix="dlcourse-exchange-"))
    os.chmod(base, 0o755)
    root = make_demo_root(base / "course")
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_release_fetch_submit_collect_grade_feedback_between_two_users(course, student, monkeypatch):
    monkeypatch.delenv(exchange.EXCHANGE_ENV, raising=False)
    config = student.home / ".jupyter" / "nbgrader_config.py"
    cli.main(["exchange-setup", "--root", str(course), "--student-config", str(config)])
    os.chown(config.parent, pwd.getpwnam(student.name).pw_uid, -1)
    os.chown(config, pwd.getpwnam(student.name).pw_uid, -1)
    root = course / "exchange"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [root, *sorted((root / COURSE_ID).iterdir())]}
    assert modes == {"exchange": 0o1777, "feedback": 0o711, "inbound": 0o3733, "outbound": 0o755}
    assert f"c.Exchange.root = {str(root)!r}" in config.read_text()

    cli.main(["publish", DEMO, "--root", str(course)])
    student.nbgrader("fetch_assignment", DEMO)
    fetched = student.home / DEMO / "demo.ipynb"
    assert fetched.stat().st_uid == pwd.getpwnam(student.name).pw_uid
    student.write(Path(DEMO) / "demo.ipynb", nbformat.writes(_with(_release(course), CORRECT)))
    inbound, outbound = root / COURSE_ID / "inbound", root / COURSE_ID / "outbound"
    assert student.run("ls", str(inbound), check=False).returncode != 0, "a student must not list submissions"
    assert student.run("touch", str(outbound / DEMO / "x"), check=False).returncode != 0, \
        "a student must not write into a released assignment"
    student.nbgrader("submit", DEMO)

    cli.main(["collect", DEMO, "--root", str(course)])
    submitted = course / "submitted" / student.name / DEMO
    assert (submitted / "demo.ipynb").is_file() and (submitted / "timestamp.txt").is_file()
    records = grade(course, course / "submitted", "--workers", 1)
    assert [(r["student"], r["score"], r["max_score"]) for r in records] == [(student.name, 5.0, 5.0)]

    cli.main(["return-feedback", DEMO, "--root", str(course)])
    student.nbgrader("fetch_feedback", DEMO)
    received = list((student.home / DEMO / "feedback").glob("*/demo.html"))
    assert len(received) == 1, list((student.home / DEMO).rglob("*"))
    page = course / "feedback" / student.name / DEMO / "demo.html"
    assert received[0].read_bytes() == page.read_bytes(), "the student must receive the course's feedback page"
    assert "Feedback: demo / demo.ipynb" in page.read_text(encoding="utf-8")
