"""Oracles for the Choosing regularizers chapter's reference solutions."""

import math

import pytest
import torch
from scipy.stats import binomtest

from regutils.exercises import REGISTRY
from regutils.exercises import choosing as ex


def test_mcnemar_p_value_agrees_with_scipys_exact_binomial_test():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        n = int(torch.randint(5, 200, (1,), generator=g))
        a = torch.rand(n, generator=g) < 0.9
        b = torch.rand(n, generator=g) < 0.8
        only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
        if only_a + only_b == 0:
            continue
        expected = binomtest(only_a, only_a + only_b, 0.5).pvalue
        assert ex.mcnemar_p_value(a, b) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_p_value_scripted():
    same = torch.tensor([True, False, True])
    assert ex.mcnemar_p_value(same, same) == 1.0, "no disagreement: no evidence"
    a = torch.tensor([True] * 6)
    b = torch.tensor([False] * 6)
    assert ex.mcnemar_p_value(a, b) == pytest.approx(2 / 2**6)  # 6 to 0: both tails
    assert ex.mcnemar_p_value(a, b) == ex.mcnemar_p_value(b, a), "symmetric"
    one_each = torch.tensor([True, False]), torch.tensor([False, True])
    assert ex.mcnemar_p_value(*one_each) == 1.0, "capped at 1"


def test_one_standard_error_pick_scripted():
    scores = torch.tensor([[0.90, 0.92], [0.94, 0.96], [0.95, 0.95]], dtype=torch.float64)
    # means 0.91, 0.95, 0.95; the best (index 1, first of the tie) has se = 0.01
    assert ex.one_standard_error_pick(scores, [0.1, 5.0, 1.0]) == 2, "cheaper, as good"
    assert ex.one_standard_error_pick(scores, [0.1, 1.0, 1.0]) == 1, "tie on cost: first"
    far = torch.tensor([[0.80, 0.80], [0.95, 0.97]], dtype=torch.float64)
    assert ex.one_standard_error_pick(far, [0.0, 9.0]) == 1, "too far below the best"
    se = scores[1].std().item() / math.sqrt(2)
    assert se == pytest.approx(0.01)


def test_the_registered_cases_pick_different_answers():
    picks = {
        ex.one_standard_error_pick(*case.args)
        for case in REGISTRY["choosing.one_standard_error_pick"].cases
    }
    assert len(picks) >= 2, "cases that all give one answer cannot catch a wrong rule"
