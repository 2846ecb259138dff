"""Noise injection: Gaussian noise added to activations while training only."""

from __future__ import annotations

import torch
from torch import nn

from regutils._checks import check_float


def gaussian_noise(x: torch.Tensor, sigma: float, training: bool = True) -> torch.Tensor:
    r"""Add zero-mean Gaussian noise to ``x`` when ``training`` is true.

    .. math::

        \tilde{x} = x + \sigma \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)

    At evaluation (``training=False``) it returns ``x`` unchanged, like dropout.
    Bishop (1995) showed that, for small :math:`\sigma`, training with input noise
    is equivalent to a Tikhonov (L2-like) penalty.

    Args:
        x (Tensor): any shape.
        sigma (float): standard deviation, >= 0.
        training (bool): add noise only if true. Default: ``True``.

    Returns:
        Tensor: same shape as ``x``.

    Example::

        >>> x = torch.zeros(3)
        >>> torch.equal(gaussian_noise(x, 0.5, training=False), x)
        True
    """
    sigma = check_float("sigma", sigma, minimum=0.0)
    if not training or sigma == 0.0:
        return x
    return x + sigma * torch.randn_like(x)


class GaussianNoise(nn.Module):
    r"""Module form of :func:`gaussian_noise`: active in ``model.train()`` only.

    Args:
        sigma (float): standard deviation of the noise, >= 0.

    Shape:
        Input and output: any shape, the same.

    Example::

        >>> layer = GaussianNoise(0.1)
        >>> layer
        GaussianNoise(sigma=0.1)
        >>> layer.eval()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = check_float("sigma", sigma, minimum=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_noise(x, self.sigma, self.training)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}"
