"""Exercises of chapter 15, "Implicit regularization: what the optimizer prefers".

Registered under names ``"implicit.<function>"``.
"""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def modified_loss(loss_fn, w, eta):
    # L(w) + eta/4 |grad L(w)|^2; create_graph=True keeps the gradient differentiable,
    # so that the modified loss can itself be minimized by gradient descent. A w that
    # already requires a gradient is used as is, so the graph reaches back to it.
    if not w.requires_grad:
        w = w.detach().requires_grad_(True)
    loss = loss_fn(w)
    (grad,) = torch.autograd.grad(loss, w, create_graph=True)
    return loss + eta / 4 * (grad**2).sum()


def largest_eigenvalue(A, iterations=1000):
    # Power iteration: v <- A v / |A v| from a vector of ones; the Rayleigh quotient
    # v^T A v of the last unit vector tends to the eigenvalue of largest magnitude.
    v = torch.ones(A.shape[0], dtype=A.dtype)
    v = v / v.norm()
    for _ in range(iterations):
        Av = A @ v
        v = Av / Av.norm()
    return v @ (A @ v)


def _product(w):  # L(a, b) = 1/2 (ab - 1)^2, the chapter's example
    return 0.5 * (w[0] * w[1] - 1) ** 2


def _quadratic(w):  # 1/2 w^T diag(1, 4, 9) w
    return 0.5 * (torch.tensor([1.0, 4.0, 9.0], dtype=w.dtype) * w**2).sum()


def _logistic(w):  # a logistic loss on three points
    X = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, -1.2]], dtype=w.dtype)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=w.dtype)
    return torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y)


register(
    Exercise(
        name="implicit.modified_loss",
        entry_point="modified_loss",
        reference=modified_loss,
        cases=[
            Case((_product, torch.tensor([2.5, 0.1], dtype=torch.float64), 0.1)),
            Case((_quadratic, torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64), 0.2)),
            Case((_logistic, torch.tensor([0.3, -0.7], dtype=torch.float64), 1.0)),
            Case((_product, torch.tensor([1.0, 1.0], dtype=torch.float64), 0.5)),  # a minimum
        ],
        hint="if w does not require a gradient, make a copy that does "
        "(w.detach().requires_grad_(True)); compute loss = loss_fn(w), then "
        "(g,) = torch.autograd.grad(loss, w, create_graph=True), and return "
        "loss + eta / 4 * (g ** 2).sum().",
    )
)


def _symmetric(eigenvalues, seed):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(
        torch.randn(len(eigenvalues), len(eigenvalues), generator=g, dtype=torch.float64)
    )
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T


register(
    Exercise(
        name="implicit.largest_eigenvalue",
        entry_point="largest_eigenvalue",
        reference=largest_eigenvalue,
        cases=[
            Case((torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64),)),
            Case((_symmetric([5.0, 1.0, 0.5, -0.2], seed=0),)),
            Case((_symmetric([0.3, -4.0, 1.0, 2.0, 0.1], seed=1),)),  # a negative one
            Case((_symmetric([3.0, 2.5, 1.0], seed=2),), {"iterations": 300}),
        ],
        rtol=1e-6,
        hint="v = torch.ones(n) / sqrt(n); repeat v = A @ v, v = v / v.norm(); then return "
        "v @ (A @ v). The sign comes from the Rayleigh quotient, not from the norm.",
    )
)
