"""The nbgrader exchange of the course: where released assignments, submissions and feedback meet.

nbgrader's default exchange is a folder that the instructor's and every student's Unix account reach
(one machine, or a JupyterHub whose users share a filesystem). The course's ``nbgrader_config.py`` sets
``c.Exchange.root`` from ``exchange_root``: ``$DLCOURSE_EXCHANGE`` when set (a JupyterHub course:
``/srv/nbgrader/exchange``), else ``exchange/`` beside the course's ``nbgrader_config.py``.

``./course exchange-setup`` (``setup_exchange``) creates it with the permissions nbgrader needs for several
users, stricter where nbgrader allows it:

    <root>/                      1777  anyone may create a course folder; nobody removes another's (sticky)
    <root>/<course>/             755   the instructor's
    <root>/<course>/outbound/    755   released assignments: everyone reads, only the instructor writes
    <root>/<course>/inbound/     3733  submissions: everyone writes, nobody lists or reads another's;
                                       setgid: they take the course's group; sticky: nobody removes another's
    <root>/<course>/feedback/    711   feedback pages, named by a secret hash only their student knows

and writes the students' nbgrader configuration (``student_config``: the course id and the exchange root),
for ``/etc/jupyter/nbgrader_config.py`` or a student's ``~/.jupyter/``. The instructor's steps are
``./course publish`` (release_assignment), ``./course collect`` (collect into submitted/),
``./course grade submitted/``, ``./course return-feedback`` (``stage_feedback`` then release_feedback).
docs/exchange.md says who runs what.
"""

import os
import shutil
import stat
from pathlib import Path

EXCHANGE_ENV = "DLCOURSE_EXCHANGE"
DEFAULT_FOLDER = "exchange"
ROOT_MODE = 0o1777
COURSE_MODE = 0o755
OUTBOUND_MODE = 0o755
INBOUND_MODE = 0o3733
FEEDBACK_MODE = 0o711
# What nbgrader's release_feedback needs beside each feedback page (copied from the collected submission).
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def exchange_root(course_root):
    """The exchange folder of a course: $DLCOURSE_EXCHANGE, else <course_root>/exchange (absolute)."""
    return Path(os.environ.get(EXCHANGE_ENV) or Path(course_root) / DEFAULT_FOLDER).expanduser().resolve()


def course_config(course_root):
    """(course id, exchange root) as the course's nbgrader_config.py sets them."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    return str(config.CourseDirectory.course_id), Path(str(config.Exchange.root))


def _make(path, mode):
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


def setup_exchange(course_root):
    """Create the exchange of the course with its permissions (idempotent; run as the instructor).

    Returns:
    - ({folder: its mode}, [folders above the exchange that other users cannot traverse]).
    """
    course_id, root = course_config(course_root)
    if not course_id:
        raise ValueError("nbgrader_config.py sets no CourseDirectory.course_id: the exchange needs one")
    course = root / course_id
    if root.exists() and not os.access(root, os.W_OK):
        raise PermissionError(f"{root} exists but is not writable by this user: ask an administrator for "
                              f"'install -d -m 1777 {root}'")
    folders = {root: ROOT_MODE, course: COURSE_MODE, course / "outbound": OUTBOUND_MODE,
               course / "inbound": INBOUND_MODE, course / "feedback": FEEDBACK_MODE}
    for folder, mode in folders.items():
        if folder == root and root.exists() and root.stat().st_uid != os.getuid():
            continue  # an administrator's shared root: leave its owner and mode alone
        _make(folder, mode)
    # every folder on the way to the exchange must be traversable by the students' accounts
    blocked = [str(p) for p in root.parents if not p.stat().st_mode & stat.S_IXOTH]
    return {folder: stat.S_IMODE(folder.stat().st_mode) for folder in folders}, blocked


def student_config(course_root):
    """The nbgrader configuration students need (their commands do not read the course's own)."""
    course_id, root = course_config(course_root)
    return (f"# nbgrader configuration for the students of {course_id} (written by ./course exchange-setup).\n"
            "# Put it in /etc/jupyter/nbgrader_config.py (every user of the machine or JupyterHub image),\n"
            "# or in a student's ~/.jupyter/nbgrader_config.py.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {course_id!r}\n"
            f"c.Exchange.root = {str(root)!r}\n")


def stage_feedback(course_root, submitted, assignment):
    """Copy each collected submission's timestamp.txt and submission_secret.txt next to its feedback pages.

    nbgrader's release_feedback names the released page by a hash of the submission's secret and needs
    both files in feedback/<student>/<assignment>/; the course writes the pages themselves.
    Returns:
    - (students staged, students with feedback but no collected submission files).
    """
    staged, missing = [], []
    for folder in sorted((Path(course_root) / "feedback").glob(f"*/{assignment}")):
        student = folder.parent.name
        source = Path(submitted) / student / assignment
        if not all((source / name).is_file() for name in SUBMISSION_FILES):
            missing.append(student)
            continue
        for name in SUBMISSION_FILES:
            shutil.copy(source / name, folder / name)
        staged.append(student)
    return staged, missing
