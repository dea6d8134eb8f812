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
    if isinstance(metrics, str) or not all(isinstance(metric, str) for metric in metrics):
        raise TypeError(f"metrics should be a sequence of metric names, got {type(metrics).__name__}")
    if not isinstance(histories, dict):
        raise TypeError(f"histories should be a dict run name -> history, got {type(histories).__name__}")
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

