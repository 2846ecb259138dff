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
that of the images scored on (a fixed validation set) or of the split:
:func:`paired_image_interval` adds the images, :func:`resampled_interval` the split.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from regutils._checks import check_float, check_int


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


def paired_image_interval(a: object, b: object, *, confidence: float = 0.95) -> Interval:
    r"""The interval of the mean paired difference ``a - b`` counting the seeds *and* the images.

    :func:`paired_interval` treats the scored images as fixed: it says how much the mean
    would move with other seeds on *these* images. A claim about the technique is about
    other images too. Given per-image scores of both (1 for right and 0 for wrong, or each
    image's loss), ``a[s, i]`` and ``b[s, i]`` for seed :math:`s` of :math:`n` and image
    :math:`i` of :math:`m`, the differences :math:`d_{si} = a_{si} - b_{si}` get a two-way
    analysis of variance: mean squares :math:`M_s` over the seeds, :math:`M_i` over the
    images and :math:`M_r` for the rest, and the variance of the mean difference is

    .. math::

        \frac{M_s + \max(M_i - M_r, 0)}{n m},

    the seeds' share plus the images' share (a negative estimate of the latter counted as
    zero; adding the plain variances over seeds and over images would count the
    seed-by-image noise twice). The half-width is :math:`t_{n-1,\,1-\alpha/2}` times its
    square root: :math:`n - 1` degrees of freedom, conservative, as the images bring more.

    Args:
        a, b: arrays of shape ``(seeds, images)``, the same shape, at least 2 seeds and 2
            images; row ``s`` of both from the same seed, column ``i`` the same image.
        confidence (float): the interval's coverage, in (0, 1). Default: 0.95.

    Returns:
        Interval: of the mean of ``a - b``; ``n`` is the number of seeds.

    Raises:
        TypeError: if ``a`` or ``b`` is not numbers.
        ValueError: if they are not 2-D of one shape with at least 2 seeds and 2 images,
            hold a non-finite value, or ``confidence`` is not in (0, 1).

    Example::

        >>> a = np.array([[1, 1, 1, 0, 1, 1], [1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 0, 1]])
        >>> b = np.array([[1, 0, 1, 0, 1, 1], [1, 0, 0, 1, 1, 1], [1, 0, 1, 1, 0, 1]])
        >>> print(paired_interval(a.mean(axis=1), b.mean(axis=1)))  # every seed: +1 image
        +0.1667 [+0.1667, +0.1667] (n = 3)
        >>> print(paired_image_interval(a, b))  # but always the same image of six
        +0.1667 [-0.5504, +0.8838] (n = 3)
    """
    from scipy import stats

    arrays = []
    for name, x in (("a", a), ("b", b)):
        try:
            x = x.detach().cpu() if hasattr(x, "detach") else x
            array = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be numbers of shape (seeds, images), but got {x!r}"
            ) from err
        if array.ndim != 2 or min(array.shape) < 2:
            raise ValueError(
                f"{name} must have shape (seeds, images) with at least 2 of each, but got "
                f"shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite")
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(
            f"a and b must have the same shape (seeds, images), but got {arrays[0].shape} "
            f"and {arrays[1].shape}"
        )
    confidence = check_float(
        "confidence", confidence, minimum=0, maximum=1, strict_min=True, strict_max=True
    )
    d = arrays[0] - arrays[1]
    n, m = d.shape
    per_seed, per_image = d.mean(axis=1), d.mean(axis=0)
    ms_seeds = m * per_seed.var(ddof=1)
    ms_images = n * per_image.var(ddof=1)
    residual = d - per_seed[:, None] - per_image[None, :] + d.mean()
    ms_residual = (residual**2).sum() / ((n - 1) * (m - 1))
    variance = (ms_seeds + max(ms_images - ms_residual, 0.0)) / (n * m)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * math.sqrt(variance)
    mean = float(d.mean())
    return Interval(mean, mean - half, mean + half, n)


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


def resampled_interval(
    differences: object, *, n_train: int, n_test: int, confidence: float = 0.95
) -> tuple[Interval, float]:
    r"""The corrected resampled t-test: a difference measured on several random splits.

    Train and score both methods on each of :math:`J` random splits of the data into
    :math:`n_1` training and :math:`n_2` test examples, and let :math:`d_j` be the difference
    of their scores on split :math:`j`. Each :math:`d_j` carries all the noise there is: the
    seeds, the images scored and which images were drawn to train on. But the splits share
    images, so the :math:`d_j` are positively correlated, and the plain t-test over them is
    too confident (Dietterich 1998). Nadeau and Bengio (2003) correct the variance of the
    mean by a factor that assumes a correlation of :math:`n_2 / (n_1 + n_2)`:

    .. math::

        \operatorname{Var}(\bar d) \approx \Bigl(\frac1J + \frac{n_2}{n_1}\Bigr) s_d^2,

    with :math:`s_d` the standard deviation of the :math:`d_j`, and :math:`J - 1` degrees of
    freedom. The correction assumes that every split divides one fixed set of
    :math:`n_1 + n_2` examples; where each split draws its images from a larger pool, the
    splits overlap less and the corrected interval is conservative.

    Args:
        differences: one difference per split, at least 2 (array, list or tensor).
        n_train (int): training examples per split, :math:`n_1 \ge 1`.
        n_test (int): examples each difference was scored on, :math:`n_2 \ge 1`.
        confidence (float): the interval's coverage, in (0, 1). Default: 0.95.

    Returns:
        tuple: the :class:`Interval` of the mean difference (``n``: the number of splits)
        and the two-sided p-value of "the mean difference is zero".

    Raises:
        TypeError: if ``differences`` is not numbers, or ``n_train``/``n_test`` not ints.
        ValueError: if there are fewer than 2 differences or a non-finite one, a size is
            below 1, or ``confidence`` is not in (0, 1).

    Example::

        >>> interval, p = resampled_interval([0.02, 0.01, 0.03], n_train=200, n_test=500)
        >>> print(interval)
        +0.02 [-0.05242, +0.09242] (n = 3)
        >>> round(p, 3)
        0.357
    """
    from scipy import stats

    d = _values("differences", differences)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    confidence = check_float(
        "confidence", confidence, minimum=0, maximum=1, strict_min=True, strict_max=True
    )
    J = d.size
    se = math.sqrt((1 / J + n_test / n_train) * d.var(ddof=1))
    mean = float(d.mean())
    if se == 0:
        return Interval(mean, mean, mean, J), (1.0 if mean == 0 else 0.0)
    half = stats.t.ppf(0.5 + confidence / 2, J - 1) * se
    p = float(2 * stats.t.sf(abs(mean) / se, J - 1))
    return Interval(mean, mean - half, mean + half, J), p


__all__ = [
    "Interval",
    "holm",
    "mean_interval",
    "paired_image_interval",
    "paired_interval",
    "resampled_interval",
]
