"""Plots shared by the practicals (matplotlib only; every function returns its Figure)."""

import matplotlib.pyplot as plt
import numpy as np


def plot_learning_curves(histories, metrics=("loss",), title=None, xlabel="epoch"):
    """Plot per-epoch curves of one or more training runs, one panel per metric.

    Inputs:
    - histories: a dict run name -> {metric name: sequence of per-epoch values}; a metric missing
      from a run is skipped for that run.
    - metrics: the metric names to plot, one panel each (e.g. ("loss", "test_error")).
    - title: the figure's title; xlabel: what one step of the curves is ("epoch", "step"...).
    Returns:
    - the matplotlib Figure.
    """
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for run, history in histories.items():
            values = history.get(metric)
            if values is None:
                continue
            axis.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=run)
        axis.set_xlabel(xlabel)
        axis.set_title(metric.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_digits(images, labels=None, predictions=None, columns=10):
    """Show MNIST digits in a grid, with their labels (and predictions, red where wrong).

    Inputs:
    - images: (N, 784) or (N, 28, 28[, 1]) array; labels, predictions: optional (N,) int arrays.
    Returns:
    - the matplotlib Figure.
    """
    images = np.asarray(images).reshape(len(images), 28, 28)
    rows = int(np.ceil(len(images) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 1.0), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        axis.imshow(images[index], cmap="gray_r")
        if labels is not None:
            text = str(labels[index])
            color = "black"
            if predictions is not None:
                text += f"/{predictions[index]}"
                color = "red" if predictions[index] != labels[index] else "black"
            axis.set_title(text, fontsize=8, color=color)
    figure.tight_layout()
    return figure
