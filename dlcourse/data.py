"""The course's datasets, loaded offline from ``data/`` and verified by their md5 checksums.

MNIST, graded split (the default, used by every graded run): the 5,000 official training digits
bundled in ``data/mnist`` (500 per class) and the 10,000 official test digits. No network, ever.

MNIST, full (opt-in, ``load_mnist(dataset="full")``): the official 60,000 training digits, downloaded
once into a user cache (``~/.cache/dlcourse/mnist`` or ``$DLCOURSE_CACHE/mnist``) from the standard
mirrors and checked against the official md5s; the test digits are the bundled official ones.

California housing: ``data/housing/housing.csv`` (20,640 districts, 207 missing ``total_bedrooms``).
See ``data/README.md`` for provenance and licences.
"""

import gzip
import hashlib
import os
import shutil
import struct
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("DLCOURSE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))

# file name -> md5, as in data/README.md
BUNDLED_MD5 = {
    "mnist/train-5k-images-idx3-ubyte.gz": "81edc6ee08338daf429913bd1a71a8ff",
    "mnist/train-5k-labels-idx1-ubyte.gz": "12a57e01969d72ff608d06fba11a36a0",
    "mnist/t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "mnist/t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "housing/housing.csv": "d1c47305887e2252bf1ccbd74ff159a6",
}
FULL_TRAIN_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# The validation split is drawn with its own generator, so it never depends on the notebook's seed.
VALIDATION_SEED = 20240917
TRAIN_ORDER_SEED = 7


class DataError(RuntimeError):
    """A dataset is missing, corrupted or cannot be downloaded; the message says what to do."""


def md5sum(path):
    """Return the hex md5 of a file."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def verify_file(path, expected_md5):
    """Fail with a DataError unless ``path`` exists and has the expected md5."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing data file {path}")
    actual = md5sum(path)
    if actual != expected_md5:
        raise DataError(f"{path} is corrupted or truncated: md5 {actual}, expected {expected_md5}. "
                        "Delete it and restore it (git checkout, or download it again).")


def read_idx(path):
    """Read a gzipped IDX file (the MNIST format) into a uint8 array of its declared shape."""
    with gzip.open(path, "rb") as handle:
        zero, dtype_code, n_dims = struct.unpack(">HBB", handle.read(4))
        if zero != 0 or dtype_code != 0x08:
            raise DataError(f"{path} is not an IDX file of unsigned bytes")
        shape = struct.unpack(">" + "I" * n_dims, handle.read(4 * n_dims))
        data = np.frombuffer(handle.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {data.size} values, its header declares {shape}")
    return data.reshape(shape)


@dataclass
class MnistSplits:
    """MNIST arrays; images are float32 in [0, 1], labels int64 (or float32 one-hot).

    x_train: (N_train, 784) or (N_train, 28, 28, 1); y_train: (N_train,) or (N_train, 10)
    x_val, y_val: the validation digits carved from the training digits (empty when not asked for)
    x_test: (10000, ...); y_test: (10000,) or (10000, 10)
    dataset: "graded" or "full".
    """
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    dataset: str


def _bundled(name):
    path = DATA_DIR / name
    verify_file(path, BUNDLED_MD5[name])
    return path


def mnist_cache_dir():
    """Where the full training set is cached: ``$DLCOURSE_CACHE/mnist`` or ``~/.cache/dlcourse/mnist``."""
    root = os.environ.get("DLCOURSE_CACHE") or Path.home() / ".cache" / "dlcourse"
    return Path(root) / "mnist"


def download_verified(file_name, expected_md5, target_dir, mirrors=MNIST_MIRRORS, progress=True):
    """Download ``file_name`` from the first mirror that serves it with the right md5.

    The file is written to a temporary name and moved into place only once its md5 matches, so an
    interrupted or corrupted download is never used.
    Inputs:
    - file_name: the file's name on the mirrors; expected_md5: its md5.
    - target_dir: where to put it; mirrors: base URLs ending in '/'; progress: show a tqdm bar.
    Returns:
    - the path of the verified file.
    """
    target_dir = Path(target_dir)
    target = target_dir / file_name
    if target.is_file() and md5sum(target) == expected_md5:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    problems = []
    for mirror in mirrors:
        url = mirror + file_name
        handle, temporary = tempfile.mkstemp(dir=target_dir, suffix=".part")
        os.close(handle)
        try:
            _fetch(url, temporary, progress)
            actual = md5sum(temporary)
            if actual != expected_md5:
                problems.append(f"{url}: md5 {actual}, expected {expected_md5} (corrupted or truncated)")
                continue
            shutil.move(temporary, target)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problems.append(f"{url}: {exc}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise DataError(
        f"could not download {file_name}:\n  " + "\n  ".join(problems) +
        f"\nWithout network access, copy the official files {', '.join(sorted(FULL_TRAIN_MD5))} into "
        f"{target_dir} (md5s: {FULL_TRAIN_MD5}), or use the bundled graded split: load_mnist().")


def _fetch(url, destination, progress):
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=30) as response, open(destination, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  disable=not progress, file=sys.stdout) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def _stratified_validation(labels, size):
    if size % 10:
        raise ValueError(f"validation_size must be a multiple of 10 (one tenth per class), got {size}")
    per_class = size // 10
    rng = np.random.default_rng(VALIDATION_SEED)
    chosen = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if per_class > len(members):
            raise ValueError(f"validation_size {size} asks for {per_class} digits of class {digit}, "
                             f"only {len(members)} exist")
        chosen.append(rng.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)


def load_mnist(dataset="graded", layout="flat", one_hot=False, validation_size=0,
               mirrors=MNIST_MIRRORS, cache_dir=None, verbose=True):
    """Load MNIST as float32 images in [0, 1] and integer labels.

    Inputs:
    - dataset: "graded" (default; 5,000 bundled training digits, no network) or "full" (60,000
      official training digits, downloaded once into the cache).
    - layout: "flat" for (N, 784) or "image" for (N, 28, 28, 1).
    - one_hot: labels as float32 (N, 10) one-hot rows instead of int64 (N,).
    - validation_size: how many training digits to hold out as validation, a multiple of 10; the
      same digits every time (one tenth per class, drawn with a fixed generator), never in x_train.
    Returns:
    - an ``MnistSplits``; the training digits come in a fixed shuffled order (the bundled files are
      sorted by class, which would ruin plain minibatch SGD).
    """
    if layout not in ("flat", "image"):
        raise ValueError(f"layout must be 'flat' or 'image', got {layout!r}")
    if dataset == "graded":
        train_images = read_idx(_bundled("mnist/train-5k-images-idx3-ubyte.gz"))
        train_labels = read_idx(_bundled("mnist/train-5k-labels-idx1-ubyte.gz"))
    elif dataset == "full":
        folder = Path(cache_dir) if cache_dir else mnist_cache_dir()
        paths = {name: download_verified(name, md5, folder, mirrors) for name, md5 in FULL_TRAIN_MD5.items()}
        train_images = read_idx(paths["train-images-idx3-ubyte.gz"])
        train_labels = read_idx(paths["train-labels-idx1-ubyte.gz"])
    else:
        raise ValueError(f"dataset must be 'graded' or 'full', got {dataset!r}")
    test_images = read_idx(_bundled("mnist/t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx(_bundled("mnist/t10k-labels-idx1-ubyte.gz"))
    if verbose:
        print(f"MNIST ({dataset}): {len(train_labels)} training digits, {len(test_labels)} official "
              "test digits" + (f", {validation_size} held out for validation" if validation_size else ""))

    validation = _stratified_validation(train_labels, int(validation_size))
    keep = np.setdiff1d(np.arange(len(train_labels)), validation)
    keep = np.random.default_rng(TRAIN_ORDER_SEED).permutation(keep)

    def images(raw):
        scaled = raw.astype(np.float32) / np.float32(255.0)
        height, width = raw.shape[1:]
        return scaled.reshape(len(raw), height * width) if layout == "flat" else scaled.reshape(len(raw), height, width, 1)

    def labels(raw):
        raw = raw.astype(np.int64)
        return np.eye(10, dtype=np.float32)[raw] if one_hot else raw

    return MnistSplits(
        x_train=images(train_images[keep]), y_train=labels(train_labels[keep]),
        x_val=images(train_images[validation]), y_val=labels(train_labels[validation]),
        x_test=images(test_images), y_test=labels(test_labels), dataset=dataset)


def load_housing():
    """Load the California housing table as a pandas DataFrame (20,640 rows, 10 columns).

    The 207 missing ``total_bedrooms`` are left as NaN: imputing them is part of the exercise.
    """
    import pandas as pd

    return pd.read_csv(_bundled("housing/housing.csv"))
