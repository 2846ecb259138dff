r"""Is a difference real? Intervals over seeds, for the book's comparisons.

A chapter that says "L2 is more accurate than the baseline" has trained both on the same seeds
(so a seed's luck is shared), and the claim is about the mean of the paired differences
:math:`d_s = a_s - b_s`. With :math:`n` seeds, mean :math:`\bar d` and standard deviation
:math:`s_d`, the Student-t interval

.. math::

    \bar d \pm t_{n-1,\,1-\alpha/2}\, \frac{s_d}{\sqrt n}

covers the mean difference with probability :math:`1 - \alpha` if the differences are
roughly normal. Where it excludes zero, the text may order the two; where it does not, the
text says "not distinguishable here". The interval counts the noise of the seeds only, not
that of the images scored on (a fixed validation set) or of the split.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from regutils._checks import check_float


class Interval(NamedTuple):
    """A mean with its confidence interval, over ``n`` values."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly above or wholly below zero."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.mean:+.4g} [{self.low:+.4g}, {self.high:+.4g}] (n = {self.n})"


def _values(name: str, x: object) -> np.ndarray:
    try:
        array = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers, one per seed, but got {x!r}") from err
    if array.size < 2:
        raise ValueError(f"{name} must hold at least 2 values, but got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, but got {array.tolist()}")
    return array


def mean_interval(x: object, *, confidence: float = 0.95) -> Interval:
    r"""The Student-t confidence interval of the mean of ``x`` (one value per seed).

    Args:
        x: at least two numbers (array, list or tensor).
        confidence (float): the interval's coverage, in (0, 1). Default: 0.95.

    Returns:
        Interval: ``(mean, low, high, n)``.

    Raises:
        TypeError: if ``x`` is not numbers.
        ValueError: if ``x`` holds fewer than 2 values or a non-finite one, or ``confidence``
            is not in (0, 1).

    Example::

        >>> print(mean_interval([1.0, 2.0, 3.0]))
        +2 [-0.4841, +4.484] (n = 3)
    """
    from scipy import stats

    x = _values("x", x)
    confidence = check_float(
        "confidence", confidence, minimum=0, maximum=1, strict_min=True, strict_max=True
    )
    n = x.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return Interval(float(x.mean()), float(x.mean() - half), float(x.mean() + half), n)


def paired_interval(a: object, b: object, *, confidence: float = 0.95) -> Interval:
    r"""The confidence interval of the mean paired difference ``a - b`` over seeds.

    ``a[s]`` and ``b[s]`` must come from the same seed ``s`` (the same initial weights where
    the models allow it, the same mini-batch order), so that what the seed does to both
    cancels in the difference.

    Args:
        a, b: one number per seed each, the same number of seeds.
        confidence (float): the interval's coverage, in (0, 1). Default: 0.95.

    Returns:
        Interval: of ``a - b``.

    Raises:
        TypeError, ValueError: as :func:`mean_interval`, or if ``a`` and ``b`` differ in length.

    Example::

        >>> l2 = [0.93, 0.94, 0.93, 0.95]
        >>> baseline = [0.92, 0.92, 0.92, 0.93]
        >>> gain = paired_interval(l2, baseline)
        >>> round(gain.mean, 4), gain.excludes_zero
        (0.015, True)
    """
    a, b = _values("a", a), _values("b", b)
    if a.size != b.size:
        raise ValueError(
            f"a and b must hold one value per seed each, but got {a.size} and {b.size}"
        )
    return mean_interval(a - b, confidence=confidence)


def holm(p_values: object) -> np.ndarray:
    r"""Holm's step-down adjustment of p-values for several comparisons (Holm 1979).

    Sort the :math:`m` p-values, multiply the :math:`k`-th smallest by :math:`m - k + 1`, make
    the sequence non-decreasing and cap it at 1. Rejecting where the adjusted value is below
    :math:`\alpha` keeps the chance of *any* false rejection among the :math:`m` at most
    :math:`\alpha`.

    Args:
        p_values: one or more p-values in [0, 1].

    Returns:
        ndarray: the adjusted p-values, in the order given.

    Example::

        >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0 or np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(f"p_values must be numbers in [0, 1], but got {p.tolist()}")
    order = np.argsort(p)
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


__all__ = ["Interval", "holm", "mean_interval", "paired_interval"]
