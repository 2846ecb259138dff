"""Oracles for the Early stopping chapter's reference solutions."""

import math
import random

import torch
from torch import nn

from regutils import EarlyStopping, TrainState
from regutils.exercises import early_stopping as ex


def replay(values, patience, min_delta):
    """(best epoch, last epoch run) of regutils.EarlyStopping fed the values one by one."""
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=False)
    state = TrainState(model=nn.Identity(), optimizer=None)
    stopper.on_fit_start(state)
    for epoch, value in enumerate(values, start=1):
        state.epoch, state.metrics = epoch, {"epoch": epoch, "val_loss": value}
        stopper.on_epoch_end(state)
        if state.stop:
            break
    return stopper.best_epoch, state.epoch


def test_stopping_epochs_agrees_with_early_stopping_on_random_curves():
    rng = random.Random(0)
    for _ in range(200):
        values = [round(rng.uniform(0, 1), 1) for _ in range(rng.randint(1, 30))]  # ties
        patience, min_delta = rng.randint(1, 5), rng.choice([0.0, 0.05, 0.2])
        assert ex.stopping_epochs(values, patience, min_delta) == replay(
            values, patience, min_delta
        )


def test_stopping_epochs_scripted():
    assert ex.stopping_epochs([1.0, 0.8, 0.9, 0.85, 0.95], 2) == (2, 4)
    assert ex.stopping_epochs([0.5, 0.5, 0.5], 2) == (1, 3), "a tie is no improvement"
    assert ex.stopping_epochs([0.9, 0.7, 0.5], 1) == (3, 3), "never stops"
    # binary-exact: 3.25 == 3.5 - 0.25 exactly, a tie with min_delta, no improvement
    assert ex.stopping_epochs([4.0, 3.5, 3.25, 3.0, 2.75, 3.5, 3.75], 2, 0.25) == (4, 6)
    assert ex.stopping_epochs([4.0, 3.5, 3.25, 3.0, 2.75, 3.5, 3.75], 2, 0.25) == replay(
        [4.0, 3.5, 3.25, 3.0, 2.75, 3.5, 3.75], 2, 0.25
    )
    assert ex.stopping_epochs([math.inf] * 3, 2) == (0, 2), "no epoch improves"


def test_matched_lambda_makes_ridge_shrink_like_gradient_descent():
    mu = torch.logspace(-5, 0, 11, dtype=torch.float64)
    for eta, steps in [(0.5, 10), (0.9, 300), (0.01, 5)]:
        lam = ex.matched_lambda(mu, eta, steps)
        gd = 1 - (1 - eta * mu) ** steps
        assert torch.allclose(mu / (mu + lam), gd, rtol=1e-10)
        # the first-order rule lam ~ 1/(steps * eta) holds where eta * mu * steps is small
        small = eta * mu * steps < 1e-3
        assert torch.allclose(
            lam[small] * steps * eta, torch.ones(int(small.sum()), dtype=mu.dtype), rtol=1e-2
        )
