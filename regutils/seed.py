"""Reproducibility: one call seeds every random number generator a chapter uses."""

from __future__ import annotations

import random

import numpy as np
import torch

from regutils._checks import check_int


def set_seed(seed: int) -> None:
    r"""Seed Python's ``random``, NumPy and PyTorch (CPU and every GPU).

    With the same seed, the same call to :func:`regutils.fit` on the CPU gives an
    identical :class:`regutils.History`: weight initialization, mini-batch order,
    dropout masks and noise all come from these generators.

    Args:
        seed (int): a non-negative integer.

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``seed`` is negative.

    Example::

        >>> set_seed(0)
        >>> a = torch.rand(2)
        >>> set_seed(0)
        >>> torch.equal(a, torch.rand(2))
        True
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
