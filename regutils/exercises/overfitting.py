"""Exercises of the Overfitting chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def polynomial_features(x, degree):
    # Column k holds x**k: shape (N, degree + 1), lowest power first.
    return torch.stack([x**k for k in range(degree + 1)], dim=1)


def least_squares_fit(x, y, degree):
    # Minimize ||A c - y||^2 over the coefficients c, A the polynomial features.
    A = torch.stack([x**k for k in range(degree + 1)], dim=1)  # (N, degree + 1)
    return torch.linalg.lstsq(A, y.unsqueeze(1)).solution.squeeze(1)  # (degree + 1,)


_x = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64)
_grid = torch.linspace(-1, 1, 9, dtype=torch.float64)

register(
    Exercise(
        name="overfitting.polynomial_features",
        entry_point="polynomial_features",
        reference=polynomial_features,
        cases=[
            Case((_x, 1)),
            Case((_x, 3)),
            Case((_x, 0)),
            Case((_grid, 5)),
        ],
        hint="column k is x**k, starting with a column of ones (k = 0); "
        "torch.stack([...], dim=1) puts columns side by side.",
    )
)

register(
    Exercise(
        name="overfitting.least_squares_fit",
        entry_point="least_squares_fit",
        reference=least_squares_fit,
        cases=[
            Case((_grid, 1.0 + 2.0 * _grid, 1)),
            Case((_grid, _grid**3 - _grid, 3)),
            Case((_grid, torch.cos(3 * _grid), 4)),
            Case((_grid, torch.sin(3 * _grid), 0)),
        ],
        rtol=1e-6,
        atol=1e-8,
        hint="build A = polynomial_features(x, degree), then solve the least-squares "
        "problem A c = y, e.g. with torch.linalg.lstsq(A, y.unsqueeze(1)).",
    )
)
