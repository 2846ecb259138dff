"""Tests of regutils.adversarial: the attacks against direct computations."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from regutils import evaluate, set_seed
from regutils.adversarial import (
    Quantize,
    adversarial_augment,
    attack,
    fgsm,
    input_gradient,
    pgd,
    project,
    robust_accuracy,
    sign_noise,
)


@pytest.fixture
def problem():
    set_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    x = torch.rand(20, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (20,))
    return model, x, y


def test_input_gradient_matches_closed_form_of_softmax_regression():
    set_seed(1)
    linear = nn.Linear(5, 4).double()
    x, y = torch.rand(8, 5, dtype=torch.float64), torch.randint(0, 4, (8,))
    p = F.softmax(linear(x), dim=1)
    expected = (p - F.one_hot(y, 4)) @ linear.weight / len(y)
    torch.testing.assert_close(input_gradient(linear, x, y), expected, rtol=0, atol=1e-14)
    assert all(q.grad is None for q in linear.parameters())  # parameters untouched


def test_fgsm_is_eps_sign_of_gradient_where_not_clipped(problem):
    model, x, y = problem
    grad = input_gradient(model, x, y)
    step = fgsm(model, x, y, 0.1) - x
    free = ((x + 0.1 * grad.sign()) > 0) & ((x + 0.1 * grad.sign()) < 1)
    torch.testing.assert_close(step[free], 0.1 * grad.sign()[free])


def test_one_pgd_step_of_size_eps_equals_fgsm(problem):
    model, x, y = problem
    assert torch.equal(pgd(model, x, y, 0.2, steps=1, step_size=0.2), fgsm(model, x, y, 0.2))


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3])
def test_attacks_stay_in_ball_and_range(problem, eps):
    model, x, y = problem
    for x_adv in (
        fgsm(model, x, y, eps),
        pgd(model, x, y, eps, steps=5),
        pgd(model, x, y, eps, random_start=True, restarts=3),
    ):
        assert (x_adv - x).abs().max() <= eps + 1e-12
        assert x_adv.min() >= 0 and x_adv.max() <= 1


def test_pgd_restarts_keep_the_worst_loss_per_image(problem):
    model, x, y = problem
    g = torch.Generator().manual_seed(3)
    best = pgd(model, x, y, 0.2, random_start=True, restarts=4, generator=g)
    g = torch.Generator().manual_seed(3)
    singles = [pgd(model, x, y, 0.2, random_start=True, generator=g) for _ in range(4)]
    with torch.no_grad():
        losses = torch.stack([F.cross_entropy(model(s), y, reduction="none") for s in singles])
        torch.testing.assert_close(
            F.cross_entropy(model(best), y, reduction="none"), losses.max(0).values
        )


def test_pgd_is_stronger_than_no_attack(problem):
    model, x, y = problem
    with torch.no_grad():
        clean = F.cross_entropy(model(x), y)
        attacked = F.cross_entropy(model(pgd(model, x, y, 0.2)), y)
    assert attacked > clean


def test_project_clips_to_ball_then_range():
    x = torch.tensor([0.2, 0.9, 0.05])
    out = project(torch.tensor([0.5, 1.3, -0.2]), x, 0.1)
    torch.testing.assert_close(out, torch.tensor([0.3, 1.0, 0.0]))


def test_robust_accuracy_at_zero_is_clean_accuracy(problem):
    model, x, y = problem
    assert robust_accuracy(model, (x, y), 0.0) == pytest.approx(evaluate(model, (x, y))["acc"])
    assert robust_accuracy(model, (x, y), 0.3, method="pgd") <= robust_accuracy(model, (x, y), 0.0)


def test_adversarial_augment_doubles_batch_and_leaves_grads(problem):
    model, x, y = problem
    xb, yb = adversarial_augment(model, 0.1)(x, y)
    assert xb.shape == (40, 6) and torch.equal(yb, torch.cat([y, y]))
    assert torch.equal(xb[:20], x) and torch.equal(xb[20:], fgsm(model, x, y, 0.1))
    assert all(q.grad is None for q in model.parameters())
    xa, ya = adversarial_augment(model, 0.1, clean=False, method="pgd", steps=2)(x, y)
    assert xa.shape == x.shape and torch.equal(ya, y)


def test_sign_noise_has_the_size_of_fgsm():
    set_seed(0)
    x = torch.full((50, 4), 0.5)
    noisy, _ = sign_noise(0.1, clean=False)(x, torch.zeros(50).long())
    torch.testing.assert_close((noisy - x).abs(), torch.full_like(x, 0.1))
    assert 0.3 < (noisy > x).float().mean() < 0.7


def test_quantize_masks_the_gradient_and_straight_through_restores_it(problem):
    model, x, y = problem
    masked = nn.Sequential(Quantize(16), model)
    assert torch.equal(input_gradient(masked, x, y), torch.zeros_like(x))
    assert torch.equal(fgsm(masked, x, y, 0.1), x)  # the attack does not move
    stand_in = nn.Sequential(Quantize(16, straight_through=True), model)
    z = torch.round(16 * x) / 16
    torch.testing.assert_close(input_gradient(stand_in, x, y), input_gradient(model, z, y))
    torch.testing.assert_close(stand_in(x), masked(x))
    grid = torch.arange(17, dtype=torch.float64) / 16
    assert torch.equal(Quantize(16)(grid), grid)


def test_bad_arguments():
    model = nn.Linear(2, 2)
    x, y = torch.rand(3, 2), torch.tensor([0, 1, 0])
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, x, y, -0.1)
    with pytest.raises(ValueError, match="random_start"):
        pgd(model, x, y, 0.1, restarts=2)
    with pytest.raises(ValueError, match="steps"):
        pgd(model, x, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="method"):
        attack(model, x, y, 0.1, method="cw")
    with pytest.raises(TypeError, match="options"):
        attack(model, x, y, 0.1, steps=3)
    with pytest.raises(TypeError, match="model"):
        adversarial_augment("model", 0.1)
    with pytest.raises(ValueError, match="levels"):
        Quantize(0)
    with pytest.raises(ValueError, match="shape"):
        project(torch.zeros(2), torch.zeros(3), 0.1)
