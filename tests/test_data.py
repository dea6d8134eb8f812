"""dlcourse.data: checksums, shapes, dtypes, the fixed split, offline and corrupted-file errors."""

import gzip
import hashlib
import http.server
import shutil
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from dlcourse import data
from dlcourse.data import DataError, download_verified, load_housing, load_mnist, md5sum, read_idx, verify_file


def test_bundled_files_match_their_documented_checksums():
    readme = (data.DATA_DIR / "README.md").read_text()
    for name, md5 in data.BUNDLED_MD5.items():
        assert md5sum(data.DATA_DIR / name) == md5, f"{name} does not match its md5"
        assert md5 in readme, f"{name}'s md5 is not documented in data/README.md"


def test_graded_split_shapes_dtypes_and_ranges():
    mnist = load_mnist(verbose=False)
    assert mnist.dataset == "graded"
    assert mnist.x_train.shape == (5000, 784) and mnist.x_train.dtype == np.float32
    assert mnist.x_test.shape == (10000, 784)
    assert mnist.y_train.shape == (5000,) and mnist.y_train.dtype == np.int64
    assert 0.0 <= mnist.x_train.min() and mnist.x_train.max() == 1.0
    assert np.bincount(mnist.y_train).tolist() == [500] * 10
    assert np.bincount(mnist.y_test).sum() == 10000
    assert mnist.x_val.shape == (0, 784)
    # the files are sorted by class; the loader must not be
    assert len(set(mnist.y_train[:20].tolist())) > 3


def test_image_layout_and_one_hot():
    mnist = load_mnist(layout="image", one_hot=True, verbose=False)
    assert mnist.x_train.shape == (5000, 28, 28, 1)
    assert mnist.y_test.shape == (10000, 10) and mnist.y_test.dtype == np.float32
    np.testing.assert_array_equal(mnist.y_test.sum(axis=1), 1.0)
    flat = load_mnist(verbose=False)
    np.testing.assert_array_equal(mnist.x_train.reshape(5000, -1), flat.x_train)
    np.testing.assert_array_equal(mnist.y_train.argmax(axis=1), flat.y_train)


def test_validation_split_is_fixed_stratified_and_disjoint():
    a = load_mnist(validation_size=500, verbose=False)
    b = load_mnist(validation_size=500, verbose=False)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert a.x_train.shape == (4500, 784) and a.x_val.shape == (500, 784)
    assert np.bincount(a.y_val).tolist() == [50] * 10
    train_rows = {row.tobytes() for row in a.x_train}
    assert not any(row.tobytes() in train_rows for row in a.x_val)
    np.random.seed(123)  # the notebook's seed must not move the split
    np.testing.assert_array_equal(load_mnist(validation_size=500, verbose=False).y_val, a.y_val)
    with pytest.raises(ValueError, match="multiple of 10"):
        load_mnist(validation_size=55, verbose=False)


def test_loader_says_which_dataset_is_in_use(capsys):
    load_mnist()
    assert "MNIST (graded): 5000 training digits, 10000 official test digits" in capsys.readouterr().out


def test_test_digits_are_the_official_ones():
    # the first official test labels, as published
    assert load_mnist(verbose=False).y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_corrupted_or_truncated_file_is_caught(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, copy)
    target = copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-100])
    monkeypatch.setattr(data, "DATA_DIR", copy)
    with pytest.raises(DataError, match="corrupted or truncated"):
        load_mnist(verbose=False)
    target.unlink()
    with pytest.raises(DataError, match="missing data file"):
        load_mnist(verbose=False)


def test_read_idx_checks_the_header(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">HBBI", 0, 8, 1, 5) + bytes(3))
    with pytest.raises(DataError, match="declares"):
        read_idx(path)
    verify_file(data.DATA_DIR / "mnist/t10k-labels-idx1-ubyte.gz", data.BUNDLED_MD5["mnist/t10k-labels-idx1-ubyte.gz"])


def test_housing_keeps_its_missing_values():
    table = load_housing()
    assert table.shape == (20640, 10)
    assert int(table["total_bedrooms"].isna().sum()) == 207
    assert sorted(table["ocean_proximity"].unique()) == ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]


class _Server:
    """Serve a folder on the loopback interface (no outside network is touched)."""

    def __init__(self, folder):
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder), **k)  # noqa: E731
        handler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    server = _Server(folder)
    yield folder, server.url
    server.close()


def test_full_mode_offline_names_the_files_and_where_to_put_them(tmp_path):
    unreachable = ("http://127.0.0.1:9/",)  # the discard port: connection refused
    with pytest.raises(DataError) as raised:
        load_mnist(dataset="full", mirrors=unreachable, cache_dir=tmp_path / "cache", verbose=False)
    message = str(raised.value)
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "cache") in message and "load_mnist()" in message
    assert not list((tmp_path / "cache").glob("*")), "no partial file may be left behind"


def test_download_verifies_the_checksum_and_falls_back_to_the_next_mirror(mirror, tmp_path):
    folder, url = mirror
    payload = b"the real file"
    good_md5 = hashlib.md5(payload).hexdigest()
    (folder / "bad").mkdir()
    (folder / "bad" / "f.gz").write_bytes(b"the real f")  # truncated on the first mirror
    (folder / "good").mkdir()
    (folder / "good" / "f.gz").write_bytes(payload)
    cache = tmp_path / "cache"
    path = download_verified("f.gz", good_md5, cache, mirrors=(url + "bad/", url + "good/"), progress=False)
    assert path.read_bytes() == payload
    assert [p.name for p in cache.iterdir()] == ["f.gz"]
    # a second call uses the cache (the mirror is gone)
    assert download_verified("f.gz", good_md5, cache, mirrors=("http://127.0.0.1:9/",)) == path


def test_download_never_keeps_a_corrupted_file(mirror, tmp_path):
    folder, url = mirror
    (folder / "f.gz").write_bytes(b"corrupted")
    with pytest.raises(DataError, match="corrupted or truncated"):
        download_verified("f.gz", "0" * 32, tmp_path / "cache", mirrors=(url,), progress=False)
    assert not list((tmp_path / "cache").iterdir())


def test_full_mode_loads_a_cached_verified_training_set(tmp_path, monkeypatch):
    """The full mode reads the cached official files once their md5 matches (here: the test files
    stand in for the training files, with their md5s declared as the expected ones)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(data.DATA_DIR / "mnist/t10k-images-idx3-ubyte.gz", cache / "train-images-idx3-ubyte.gz")
    shutil.copy(data.DATA_DIR / "mnist/t10k-labels-idx1-ubyte.gz", cache / "train-labels-idx1-ubyte.gz")
    monkeypatch.setattr(data, "FULL_TRAIN_MD5", {
        "train-images-idx3-ubyte.gz": data.BUNDLED_MD5["mnist/t10k-images-idx3-ubyte.gz"],
        "train-labels-idx1-ubyte.gz": data.BUNDLED_MD5["mnist/t10k-labels-idx1-ubyte.gz"]})
    mnist = load_mnist(dataset="full", cache_dir=cache, mirrors=("http://127.0.0.1:9/",), verbose=False)
    assert mnist.dataset == "full" and mnist.x_train.shape == (10000, 784)
