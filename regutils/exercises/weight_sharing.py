"""Exercises of the Weight sharing chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def layer_parameters(kind, c_in, c_out, side, k):
    # Parameters (weights and biases) of a layer from (c_in, side, side) to
    # (c_out, side, side): "conv" shares one k x k filter bank and one bias per
    # channel; "local" has its own filters and biases at each of the side**2
    # positions; "full" connects every input unit to every output unit.
    positions = side * side
    if kind == "conv":
        return c_out * (c_in * k * k + 1)
    if kind == "local":
        return positions * c_out * (c_in * k * k + 1)
    if kind == "full":
        return (c_in * positions + 1) * c_out * positions
    raise ValueError(f"kind must be 'conv', 'local' or 'full', but got {kind!r}")


def shared_gradient(local_grad, in_channels, kernel_size):
    # A shared weight is used at every position, so its gradient is the sum of
    # the gradients of its L copies: sum over the position axis of (L, C_out,
    # C_in k^2), then lay the result out as a conv weight (C_out, C_in, k, k).
    total = local_grad.sum(dim=0)
    return total.reshape(len(total), in_channels, kernel_size, kernel_size)


_g = torch.Generator().manual_seed(10)
_grads = [
    (torch.randn(64, 4, 9, generator=_g, dtype=torch.float64), 1, 3),
    (torch.randn(16, 3, 2 * 25, generator=_g, dtype=torch.float64), 2, 5),
    (torch.randn(1, 2, 3, generator=_g, dtype=torch.float64), 3, 1),
]

register(
    Exercise(
        name="weight_sharing.layer_parameters",
        entry_point="layer_parameters",
        reference=layer_parameters,
        cases=[
            Case(("conv", 1, 16, 8, 3)),
            Case(("local", 1, 16, 8, 3)),
            Case(("full", 1, 16, 8, 3)),
            Case(("local", 16, 32, 4, 3)),
            Case(("full", 16, 32, 4, 3)),
            Case(("conv", 3, 8, 5, 5)),
        ],
        hint="count the biases too: a convolution has one per output channel, a locally "
        "connected layer one per output channel and position, a fully connected layer one "
        "per output unit (c_out * side * side of them).",
    )
)

register(
    Exercise(
        name="weight_sharing.shared_gradient",
        entry_point="shared_gradient",
        reference=shared_gradient,
        cases=[Case(args) for args in _grads],
        rtol=1e-10,
        hint="check your answer against autograd: build an nn.Conv2d and a "
        "LocallyConnected2d whose L filters are copies of its weight, backpropagate the "
        "same loss through both, and compare your function's output with conv.weight.grad.",
    )
)
