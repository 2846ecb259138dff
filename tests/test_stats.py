"""Intervals over seeds and Holm's correction, against scipy and hand computations."""

import numpy as np
import pytest
from scipy import stats

from regutils import (
    holm,
    mean_interval,
    paired_image_interval,
    paired_interval,
    resampled_interval,
)


def test_mean_interval_matches_scipy():
    x = np.array([0.91, 0.93, 0.90, 0.94, 0.92, 0.95])
    got = mean_interval(x, confidence=0.9)
    low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert got.mean == pytest.approx(x.mean())
    assert (got.low, got.high) == pytest.approx((low, high))
    assert got.n == 6


def test_paired_interval_is_the_interval_of_the_differences():
    a, b = [3.0, 5.0, 4.0, 6.0], [1.0, 2.0, 2.0, 2.0]
    assert paired_interval(a, b) == mean_interval([2.0, 3.0, 2.0, 4.0])
    assert paired_interval(a, b).excludes_zero
    assert not paired_interval([1.0, 2.0, 3.0], [2.0, 1.0, 3.0]).excludes_zero


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04 -> monotone 0.03, 0.06, 0.06
    assert holm([0.04, 0.01, 0.03]).tolist() == pytest.approx([0.06, 0.03, 0.06])
    assert holm([0.5, 0.9]).tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: mean_interval([1.0]), ValueError, "at least 2"),
        (lambda: mean_interval([1.0, float("nan")]), ValueError, "finite"),
        (lambda: mean_interval(["a", "b"]), TypeError, "numbers"),
        (lambda: mean_interval([1.0, 2.0], confidence=1.0), ValueError, "confidence"),
        (lambda: paired_interval([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "one value per seed"),
        (lambda: holm([0.5, 1.5]), ValueError, r"\[0, 1\]"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_paired_image_interval_by_hand():
    # Oracle: the two-way analysis of variance written out with explicit loops.
    rng = np.random.default_rng(0)
    a = (rng.random((4, 30)) < 0.9).astype(float)
    b = (rng.random((4, 30)) < 0.8).astype(float)
    d = a - b
    n, m = d.shape
    grand = sum(d[s, i] for s in range(n) for i in range(m)) / (n * m)
    seed_means = [sum(d[s]) / m for s in range(n)]
    image_means = [sum(d[:, i]) / n for i in range(m)]
    ms_s = m * sum((x - grand) ** 2 for x in seed_means) / (n - 1)
    ms_i = n * sum((x - grand) ** 2 for x in image_means) / (m - 1)
    ms_r = sum(
        (d[s, i] - seed_means[s] - image_means[i] + grand) ** 2 for s in range(n) for i in range(m)
    ) / ((n - 1) * (m - 1))
    half = stats.t.ppf(0.975, n - 1) * np.sqrt((ms_s + max(ms_i - ms_r, 0)) / (n * m))
    got = paired_image_interval(a, b)
    assert (got.mean, got.low, got.high, got.n) == pytest.approx(
        (grand, grand - half, grand + half, 4)
    )


def test_paired_image_interval_is_wider_than_the_seeds_only_interval():
    # every seed gains on the same one image of six: certain over seeds, not over images
    a = np.array([[1, 1, 1, 0, 1, 1], [1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 0, 1]])
    b = a.copy()
    b[:, 1] = 0
    seeds_only = paired_interval(a.mean(axis=1), b.mean(axis=1))
    both = paired_image_interval(a, b)
    assert seeds_only.low == pytest.approx(seeds_only.high)
    assert both.low < 0 < both.high and both.mean == pytest.approx(seeds_only.mean)


@pytest.mark.parametrize(
    "a, b, error, match",
    [
        (np.ones(5), np.ones(5), ValueError, r"shape \(seeds, images\)"),
        (np.ones((1, 5)), np.ones((1, 5)), ValueError, "at least 2"),
        (np.ones((2, 5)), np.ones((2, 4)), ValueError, "same shape"),
        (np.full((2, 2), np.nan), np.ones((2, 2)), ValueError, "finite"),
        ([["a", "b"], ["c", "d"]], np.ones((2, 2)), TypeError, "numbers"),
    ],
)
def test_paired_image_interval_rejects_bad_input(a, b, error, match):
    with pytest.raises(error, match=match):
        paired_image_interval(a, b)


def test_resampled_interval_by_hand():
    d = np.array([0.02, -0.01, 0.03, 0.015])
    interval, p = resampled_interval(d, n_train=200, n_test=500)
    se = np.sqrt((1 / 4 + 500 / 200) * d.var(ddof=1))  # Nadeau and Bengio's correction
    half = stats.t.ppf(0.975, 3) * se
    assert interval.n == 4
    assert interval.mean == pytest.approx(d.mean())
    assert interval.high - interval.mean == pytest.approx(half)
    assert p == pytest.approx(2 * stats.t.sf(d.mean() / se, 3))


def test_resampled_interval_is_wider_than_the_plain_t_test():
    d = [0.02, -0.01, 0.03, 0.015, 0.01]
    corrected, p = resampled_interval(d, n_train=200, n_test=500)
    plain = mean_interval(d)
    assert corrected.low < plain.low and corrected.high > plain.high
    assert p > stats.ttest_1samp(d, 0.0).pvalue
    # with a tiny test set the correction vanishes: the plain t-test
    nearly_plain, _ = resampled_interval(d, n_train=10**9, n_test=1)
    assert nearly_plain.low == pytest.approx(plain.low)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"differences": [0.1], "n_train": 2, "n_test": 2}, ValueError, "at least 2"),
        ({"differences": [0.1, 0.2], "n_train": 0, "n_test": 2}, ValueError, "n_train"),
        ({"differences": [0.1, 0.2], "n_train": 2, "n_test": 1.5}, TypeError, "n_test"),
        ({"differences": "ab", "n_train": 2, "n_test": 2}, TypeError, "differences"),
    ],
)
def test_resampled_interval_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        resampled_interval(**kwargs)
