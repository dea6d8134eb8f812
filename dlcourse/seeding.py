"""One call that makes a notebook's randomness repeatable."""

import os
import random
import sys

import numpy as np


def seed_everything(seed=0):
    """Seed Python's ``random``, NumPy's global generator, and torch and TensorFlow/Keras if imported.

    Call it after importing the frameworks the notebook uses: importing TensorFlow just to seed it
    would cost a practical that never uses it several seconds.
    Inputs:
    - seed: an int.
    Returns:
    - a ``numpy.random.Generator`` seeded with ``seed``, for code that prefers a local generator.
    """
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this process's hash seed is fixed
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch
        torch.manual_seed(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras  # seeds Python, NumPy and the backend (TensorFlow) in one call
        keras.utils.set_random_seed(seed)
    return np.random.default_rng(seed)
