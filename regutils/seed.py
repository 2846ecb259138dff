"""Reproducibility: the one place where a chapter's seeds become random numbers.

Every random draw of a chapter starts from a seed given to :func:`regutils.set_seed`
(Python's, NumPy's and PyTorch's global generators: initial weights, mini-batch order, dropout
masks, noise and augmentation draws, the streams of a :class:`regutils.Recipe`), to
:func:`regutils.torch_generator` and :func:`regutils.numpy_generator` (a chapter's own torch
and NumPy generators), or to a data maker (:func:`regutils.make_polynomial_data`,
:func:`regutils.make_sparse_regression`). All of them add the **seed shift**, read from the
environment variable ``REGUTILS_SEED_SHIFT`` (unset: 0), to the seed they are given.

So ``REGUTILS_SEED_SHIFT=1000`` reruns a whole chapter on the seeds 1000, 1001, ... in place
of 0, 1, ...: other networks, other samples, the same code. The book's robustness run
(``make claims``) uses it to check that the text's claims are true of the technique, not of
one lucky draw. Unset, every chapter uses the seeds it names. The split of the digits into
training, validation and test images is data, not a seed of training: the shift leaves it
alone (:func:`regutils.load_digits` takes ``seed=`` to draw another split).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from regutils._checks import check_int

#: The environment variable that shifts every seed a chapter uses (see the module docstring).
SEED_SHIFT_VARIABLE = "REGUTILS_SEED_SHIFT"


def seed_shift() -> int:
    """The seed shift: the integer in ``REGUTILS_SEED_SHIFT``, or 0 when it is unset or empty.

    Raises:
        ValueError: if the variable holds anything but a non-negative integer.

    Example::

        >>> seed_shift() >= 0  # 0 unless REGUTILS_SEED_SHIFT is set
        True
    """
    text = os.environ.get(SEED_SHIFT_VARIABLE, "").strip()
    if not text:
        return 0
    try:
        shift = int(text)
    except ValueError:
        shift = -1
    if shift < 0:
        raise ValueError(
            f"the environment variable {SEED_SHIFT_VARIABLE} must be a non-negative integer "
            f"(the constant added to every seed), but got {text!r}"
        )
    return shift


def shifted(seed: int) -> int:
    """The seed a draw actually uses: ``seed`` plus :func:`seed_shift`.

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``seed`` is negative.

    Example::

        >>> shifted(3) == 3 + seed_shift()
        True
    """
    return check_int("seed", seed, minimum=0) + seed_shift()


def set_seed(seed: int) -> None:
    r"""Seed Python's ``random``, NumPy and PyTorch (CPU and every GPU) with ``seed`` + shift.

    With the same seed, the same call to :func:`regutils.fit` on the CPU gives an
    identical :class:`regutils.History`: weight initialization, mini-batch order,
    dropout masks and noise all come from these generators. The seed shift
    (``REGUTILS_SEED_SHIFT``, see the module docstring) is added first.

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
    seed = shifted(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def torch_generator(seed: int) -> torch.Generator:
    """A new CPU ``torch.Generator`` seeded with ``seed`` + shift, for a chapter's own draws.

    Use it where a draw must not disturb the global generator (a fixed batch of noise, a
    sample of images), as ``torch.Generator().manual_seed(seed)`` would, but shifted with
    every other seed of the chapter.

    Example::

        >>> a = torch.rand(3, generator=torch_generator(7))
        >>> torch.equal(a, torch.rand(3, generator=torch_generator(7)))
        True
    """
    return torch.Generator().manual_seed(shifted(seed))


def numpy_generator(seed: int) -> np.random.Generator:
    """A new NumPy ``Generator`` seeded with ``seed`` + shift, as ``np.random.default_rng``.

    Example::

        >>> bool(numpy_generator(7).integers(100) == numpy_generator(7).integers(100))
        True
    """
    return np.random.default_rng(shifted(seed))


def seeds(n: int, *, start: int = 0) -> list[int]:
    """The seeds a chapter names for ``n`` runs of one configuration: ``start, ..., start + n - 1``.

    They are the seeds before the shift: :func:`set_seed`, :func:`regutils.run_seeds` and a
    :class:`regutils.Recipe` add the shift when they draw. Disjoint ``start`` values give
    disjoint sets of runs (for fresh seeds that nothing was chosen on).

    Raises:
        TypeError, ValueError: if ``n`` is not an int >= 1 or ``start`` not an int >= 0.

    Example::

        >>> seeds(3), seeds(2, start=10)
        ([0, 1, 2], [10, 11])
    """
    n = check_int("n", n, minimum=1)
    start = check_int("start", start, minimum=0)
    return list(range(start, start + n))


__all__ = [
    "SEED_SHIFT_VARIABLE",
    "numpy_generator",
    "seed_shift",
    "seeds",
    "set_seed",
    "shifted",
    "torch_generator",
]
