"""Fixtures shared by the test files that start real grading kernels."""

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def short_folder():
    """A work folder with a short path: a kernel's ipc socket path (under <folder>/k-XXXXXXXX/.sandbox/) must stay
    within 107 bytes, which pytest's tmp_path under xdist (/tmp/pytest-of-root/pytest-NN/popen-gwN/...) can exceed."""
    folder = Path(tempfile.mkdtemp(prefix="kw-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
