"""Exercises of the Choosing regularizers chapter, with their reference solutions."""

from __future__ import annotations

import math

import torch

from regutils.exercises.core import Case, Exercise, register


def one_standard_error_pick(accuracies, costs):
    # accuracies: (configurations, seeds) validation accuracies; costs: one per
    # configuration. The one-standard-error rule: every configuration whose mean is within
    # one standard error (std over seeds with ddof=1, divided by sqrt(seeds)) of the best
    # mean is as good as the best; among them, return the index of the cheapest (the first
    # on a tie). This standard error counts the seeds only, not the validation images.
    means = accuracies.mean(dim=1)
    best = int(means.argmax())
    se = accuracies[best].std() / math.sqrt(accuracies.shape[1])  # torch's std: ddof=1
    good = [i for i in range(len(means)) if means[i] >= means[best] - se]
    return min(good, key=lambda i: (costs[i], i))


def mcnemar_p_value(correct_a, correct_b):
    # correct_a, correct_b: bool tensors, one entry per test image. Only the images the two
    # classifiers disagree on carry information: b = A right and B wrong, c = the reverse.
    # If both are equally good, b ~ Binomial(b + c, 1/2); the exact two-sided p-value is
    # twice the smaller tail, capped at 1 (and 1 when they never disagree).
    b = int((correct_a & ~correct_b).sum())
    c = int((~correct_a & correct_b).sum())
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


_scores = torch.tensor(  # (configurations, seeds): means 0.927, 0.939, 0.940, 0.930
    [
        [0.926, 0.930, 0.924, 0.928, 0.927],
        [0.936, 0.942, 0.938, 0.940, 0.939],
        [0.936, 0.944, 0.940, 0.942, 0.938],
        [0.930, 0.932, 0.928, 0.931, 0.929],
    ],
    dtype=torch.float64,
)
_tight = torch.tensor(  # the runner-up is within one std of the best, not one standard error
    [[0.930, 0.931, 0.929], [0.940, 0.941, 0.939], [0.9393, 0.9403, 0.9383]], dtype=torch.float64
)


def _pairs(both: int, only_a: int, only_b: int, neither: int) -> tuple[torch.Tensor, ...]:
    """Two classifiers' right/wrong answers on a test set, from the four counts."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return torch.tensor(a), torch.tensor(b)


register(
    Exercise(
        name="choosing.one_standard_error_pick",
        entry_point="one_standard_error_pick",
        reference=one_standard_error_pick,
        cases=[
            Case((_scores, [4.0, 1.0, 3.0, 0.5])),
            Case((_scores, [4.0, 3.0, 1.0, 0.5])),
            Case((_tight, [1.0, 2.0, 1.5])),
            Case((_scores, [1.0, 1.0, 1.0, 1.0])),
        ],
        hint="the mean of each row is its configuration's accuracy; the standard error is "
        "the best row's std (ddof=1) divided by the square root of the number of seeds. "
        "Keep every row whose mean is at least best mean - standard error, and return the "
        "index of the cheapest of them (the smallest index on a tie).",
    )
)

register(
    Exercise(
        name="choosing.mcnemar_p_value",
        entry_point="mcnemar_p_value",
        reference=mcnemar_p_value,
        cases=[
            Case(_pairs(30, 7, 2, 1)),
            Case(_pairs(2, 2, 7, 30)),
            Case(_pairs(1000, 25, 10, 62)),
            Case(_pairs(5, 0, 0, 2)),
            Case(_pairs(3, 1, 1, 0)),
        ],
        rtol=1e-9,
        hint="count b = images A gets right and B wrong, c = the reverse; with n = b + c, "
        "the p-value is min(1, 2 * sum over k = 0..min(b, c) of comb(n, k) / 2**n), and 1.0 "
        "when n = 0.",
    )
)
