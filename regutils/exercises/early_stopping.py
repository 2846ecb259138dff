"""Exercises of the Early stopping chapter, with their reference solutions."""

from __future__ import annotations

import math

import numpy as np
import torch

from regutils.exercises.core import Case, Exercise, register


def stopping_epochs(values, patience, min_delta=0.0):
    # An epoch improves when its value beats the best so far by more than min_delta;
    # stop after `patience` epochs in a row without improvement. Epochs count from 1.
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, value in enumerate(values, start=1):
        if value < best - min_delta:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(values)


def matched_lambda(mu, eta, steps):
    # Gradient descent from zero leaves (1 - eta mu)^steps of the way to go along an
    # eigenvector; ridge leaves lam / (mu + lam). Equal when lam = mu r / (1 - r).
    remaining = (1 - eta * mu) ** steps
    return mu * remaining / (1 - remaining)


def score_on_other_half(losses, patience):
    # Choose the epoch on one half of the images, score it on the other half,
    # both ways; the rule is stopping_epochs' (a strict improvement resets it).
    losses = np.asarray(losses, dtype=float)  # (epochs, images)
    half = losses.shape[1] // 2
    halves = (np.arange(half), np.arange(half, losses.shape[1]))
    scores = []
    for choose, score in (halves, halves[::-1]):
        best, kept, wait = math.inf, 0, 0
        for epoch, value in enumerate(losses[:, choose].mean(axis=1), start=1):
            if value < best:
                best, kept, wait = value, epoch, 0
            else:
                wait += 1
                if wait >= patience:
                    break
        scores.append(losses[kept - 1, score].mean())
    return float(np.mean(scores))


_mu = torch.tensor([1e-4, 1e-3, 1e-2, 0.1, 1.0], dtype=torch.float64)

register(
    Exercise(
        name="early_stopping.stopping_epochs",
        entry_point="stopping_epochs",
        reference=stopping_epochs,
        cases=[
            Case(([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], 2)),
            # binary-exact values: 3.25 is exactly 3.5 - 0.25, a tie, no improvement
            Case(([4.0, 3.5, 3.25, 3.0, 2.75, 3.5, 3.75], 2, 0.25)),
            Case(([0.5, 0.5, 0.5, 0.4], 2)),
            Case(([0.9, 0.7, 0.5, 0.3], 1)),
            Case(([0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5], 3)),
            Case(([math.inf, math.inf, math.inf], 2)),  # no epoch improves
        ],
        hint="keep the best value, its epoch and a counter; a value improves only if it is "
        "below best - min_delta (a tie is no improvement). Return (best epoch, last epoch "
        "run), counting from 1; if it never stops, the last epoch is len(values); if no "
        "epoch improves, the best epoch is 0.",
    )
)

register(
    Exercise(
        name="early_stopping.matched_lambda",
        entry_point="matched_lambda",
        reference=matched_lambda,
        cases=[Case((_mu, 0.5, 10)), Case((_mu, 0.1, 1000)), Case((_mu[:3], 1.0, 1))],
        rtol=1e-8,
        hint="solve (1 - eta * mu) ** steps == lam / (mu + lam) for lam, elementwise on the "
        "tensor mu.",
    )
)


# (epochs, images) losses of four images: the first half's mean bumps at epoch 3 and is lowest
# at 7; the second half's is lowest at 4, ties it at 6, and dips lower at 9. The patience decides
# which epoch each half keeps.
_half_a = np.array([1.0, 0.8, 0.85, 0.6, 0.5, 0.45, 0.4, 0.5, 0.62, 0.7, 0.8, 0.9])
_half_b = np.array([1.2, 0.9, 0.7, 0.55, 0.6, 0.55, 0.65, 0.7, 0.5, 0.8, 0.9, 1.0])
_spread = np.linspace(0.05, 0.2, 12)
_losses = np.stack([_half_a - _spread, _half_a + _spread, _half_b + _spread, _half_b - _spread], 1)
_odd = np.concatenate([_losses, _losses[:, 3:] + 0.3], axis=1)  # five images: halves of 2 and 3

register(
    Exercise(
        name="early_stopping.score_on_other_half",
        entry_point="score_on_other_half",
        reference=score_on_other_half,
        cases=[
            Case((np.array([[1.0, 2.0], [0.5, 1.0], [0.8, 0.4], [0.9, 0.9]]), 1)),
            Case((_losses, 1)),
            Case((_losses, 2)),
            Case((_losses, 3)),
            Case((_losses, 5)),
            Case((_odd, 2)),  # an odd number of images
            Case((_losses, 20)),  # patience longer than the run
        ],
        hint="split the columns into losses[:, :n // 2] and losses[:, n // 2:]; replay the "
        "rule on one half's mean per epoch (as stopping_epochs does, min_delta 0), read the "
        "other half's mean at the kept epoch (epochs count from 1, rows from 0), then swap the "
        "halves and average the two scores.",
    )
)
