"""Intervals over seeds and Holm's correction, against scipy and hand computations."""

import numpy as np
import pytest
from scipy import stats

from regutils import holm, mean_interval, paired_interval


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
