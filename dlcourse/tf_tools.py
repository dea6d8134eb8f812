"""TensorFlow helpers of practical 03_tensorflow: TensorBoard logs (scalars and the model's graph),
reading them back, and a confusion-matrix plot.

Why a logger of our own rather than ``keras.callbacks.TensorBoard``: the lesson reads its logs back
in the notebook (``read_scalars``, ``read_graphs``), so it writes exactly the events it reads, one file
per split, and nothing else (no profiler trace, no weight histograms). Scalars are written by
``tf.summary.write`` with the "scalars" plugin metadata and the graph by ``tf.summary.graph``: the
events TensorBoard's Scalars and Graphs dashboards read, so ``tensorboard --logdir <runs folder>``
(tensorboard is in requirements.txt) shows both.
TensorFlow is imported lazily: importing this module costs nothing until a function is called.
"""

import time
from pathlib import Path

import numpy as np


def default_runs_root():
    """Where the practicals' TensorBoard runs go: ``$DLCOURSE_RUNS`` or ``<temp dir>/dlcourse-runs``
    (never next to the notebook: the course folders must not collect log files)."""
    import os
    import tempfile

    return Path(os.environ.get("DLCOURSE_RUNS") or Path(tempfile.gettempdir()) / "dlcourse-runs")


def new_run_dir(name="run", root=None):
    """A fresh run folder ``<root>/<name>-<YYYYmmdd-HHMMSS>[-k]`` (created), one per training run.

    Inputs:
    - name: the run's name; root: the runs folder (``default_runs_root()`` when None).

    Returns:
    - the folder as a Path.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root or default_runs_root()) / f"{name}-{stamp}"
    folder, k = base, 1
    while folder.exists():
        folder = Path(f"{base}-{k}")
        k += 1
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def _scalar_metadata():
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    return metadata.SerializeToString()


def write_model_graph(log_dir, model):
    """Write the graph of a built Keras model's forward pass to ``log_dir`` for TensorBoard's Graphs tab.

    The forward pass is traced by ``tf.function`` on a batch of any size (the graph's first dimension is
    None) and written with ``tf.summary.graph``.
    Inputs:
    - log_dir: the folder of the events file (created); model: a built keras.Model with one input.
    Returns:
    - the number of operations of the written graph.
    """
    import tensorflow as tf

    shape = (None,) + tuple(model.inputs[0].shape[1:])
    forward = tf.function(lambda inputs: model(inputs, training=False))
    graph = forward.get_concrete_function(tf.TensorSpec(shape, tf.float32, name="inputs")).graph
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        tf.summary.graph(graph)
    writer.close()
    return len(graph.get_operations())


def read_graphs(log_dir):
    """Read the graphs written under ``log_dir`` (every subfolder), as TensorBoard's Graphs tab would.

    Returns:
    - a dict "<subfolder>" -> list of GraphDef protocol buffers (``.node`` lists the operations).
    """
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    graphs = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        run = path.parent.relative_to(log_dir).as_posix()
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            if event.graph_def:
                graphs.setdefault(run, []).append(tf.compat.v1.GraphDef.FromString(event.graph_def))
    return graphs


def scalar_logger(log_dir, write_graph=False):
    """A Keras callback writing every epoch's logs (loss, accuracy, val_...) to ``log_dir``.

    Training metrics go to ``<log_dir>/train`` and validation ones to ``<log_dir>/validation``, under
    the tags ``epoch_<metric>``, as Keras's own TensorBoard callback names them. With
    ``write_graph=True`` the model's forward graph goes to ``<log_dir>/train`` when training begins (after
    the first batch for a model given no ``keras.Input``, which fit builds then).
    Returns:
    - a ``keras.callbacks.Callback``.
    """
    import keras

    log_dir = Path(log_dir)

    class ScalarLogger(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.writers = {}

        def _write(self, run, step, values):
            import tensorflow as tf

            if run not in self.writers:
                self.writers[run] = tf.summary.create_file_writer(str(log_dir / run))
            with self.writers[run].as_default():
                for tag, value in values.items():
                    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=int(step),
                                     metadata=_scalar_metadata())
            self.writers[run].flush()

        def _write_graph(self):
            if write_graph and not self.graph_written:
                try:
                    self.model.inputs  # a Sequential model without keras.Input has none until fit builds it
                except (AttributeError, ValueError):
                    return
                write_model_graph(log_dir / "train", self.model)
                self.graph_written = True

        def on_train_begin(self, logs=None):
            self.graph_written = False
            self._write_graph()

        def on_train_batch_end(self, batch, logs=None):
            if write_graph and not self.graph_written:  # the model is built after its first batch
                self._write_graph()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
            validation = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
            if train:
                self._write("train", epoch, train)
            if validation:
                self._write("validation", epoch, validation)

        def on_train_end(self, logs=None):
            for writer in self.writers.values():
                writer.close()
            self.writers = {}

    return ScalarLogger()


def read_scalars(log_dir):
    """Read the scalar events under ``log_dir`` (every subfolder), as TensorBoard would.

    Returns:
    - a dict "<subfolder>/<tag>" -> list of (step, value), sorted by step.
    """
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    scalars = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        run = path.parent.relative_to(log_dir).as_posix()
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                scalars.setdefault(f"{run}/{value.tag}", []).append((int(event.step), number))
    return {key: sorted(points) for key, points in scalars.items()}


def plot_confusion_matrix(y_true, y_pred, classes, title=None):
    """Plot the confusion matrix (rows: true class, columns: predicted), counts in the cells.

    Inputs:
    - y_true, y_pred: (N,) int arrays of class indices; classes: the class names.
    Returns:
    - the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    k = len(classes)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    figure, axis = plt.subplots(figsize=(1.1 * k + 2, 1.1 * k + 1))
    axis.imshow(matrix, cmap="Blues")
    for i in range(k):
        for j in range(k):
            axis.text(j, i, str(matrix[i, j]), ha="center", va="center",
                      color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    axis.set_xticks(range(k), classes, rotation=45, ha="right")
    axis.set_yticks(range(k), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    accuracy = np.trace(matrix) / max(1, matrix.sum())
    axis.set_title(title or f"accuracy {accuracy:.3f}")
    figure.tight_layout()
    return figure
