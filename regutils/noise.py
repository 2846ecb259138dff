r"""Noise injection: Gaussian noise on the inputs or on the weights, while training only.

Two places to put the noise, one rule: it is drawn afresh at every forward pass in
``model.train()`` and switched off in ``model.eval()``, like dropout.

* :func:`gaussian_noise` / :class:`GaussianNoise` -- on activations, e.g. the input
  (Bishop 1995: for small :math:`\sigma`, equivalent to a Tikhonov penalty).
* :func:`gaussian_dropout` / :class:`GaussianDropout` -- multiplicative noise of mean 1
  on activations, with the variance of dropout (Srivastava et al. 2014, section 10).
* :class:`WeightNoise` / :func:`add_weight_noise` -- on the weights (An 1996): the
  forward pass and the gradient use :math:`W + \sigma\xi`, and the optimizer
  updates the clean :math:`W`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from regutils._checks import check_float, check_module


def gaussian_noise(x: torch.Tensor, sigma: float, training: bool = True) -> torch.Tensor:
    r"""Add zero-mean Gaussian noise to ``x`` when ``training`` is true.

    .. math::

        \tilde{x} = x + \sigma \xi, \qquad \xi \sim \mathcal{N}(0, I)

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


def gaussian_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    r"""Multiply ``x`` by Gaussian noise of mean 1 and the variance of dropout with drop rate ``p``.

    .. math::

        \tilde{x} = x \odot m, \qquad m_j \sim \mathcal{N}\Big(1, \frac{p}{1-p}\Big)
        \text{ independently.}

    Inverted dropout (``nn.Dropout(p)``) multiplies by :math:`m_j \in \{0, 1/(1-p)\}`,
    which has the same mean, 1, and the same variance, :math:`p/(1-p)`; Gaussian
    dropout keeps those two moments and replaces the Bernoulli draw by a Gaussian one
    (Srivastava et al. 2014, section 10). At evaluation (``training=False``) it
    returns ``x`` unchanged, like ``nn.Dropout``.

    Args:
        x (Tensor): any shape.
        p (float): the drop rate of the Bernoulli dropout whose variance it matches,
            in [0, 1); ``p = 0`` is the identity.
        training (bool): multiply by noise only if true. Default: ``True``.

    Returns:
        Tensor: same shape as ``x``.

    Raises:
        TypeError, ValueError: if ``p`` is not a number in [0, 1).

    Example::

        >>> x = torch.ones(3)
        >>> torch.equal(gaussian_dropout(x, 0.5, training=False), x)
        True
        >>> gaussian_dropout(x, 0.0) is x
        True
    """
    p = check_float("p", p, minimum=0.0, maximum=1.0, strict_max=True)
    if not training or p == 0.0:
        return x
    return x * (1 + (p / (1 - p)) ** 0.5 * torch.randn_like(x))


class GaussianDropout(nn.Module):
    r"""Module form of :func:`gaussian_dropout`: active in ``model.train()`` only.

    A drop-in for ``nn.Dropout(p)`` with the same mean and variance of the noise
    (mean 1, variance :math:`p/(1-p)`), drawn from a Gaussian instead of a
    Bernoulli distribution (Srivastava et al. 2014, section 10). A
    :class:`regutils.Recipe` can stack it like ``nn.Dropout``.

    Args:
        p (float): the matched drop rate, in [0, 1).

    Shape:
        Input and output: any shape, the same.

    Example::

        >>> layer = GaussianDropout(0.5)
        >>> layer
        GaussianDropout(p=0.5)
        >>> layer.eval()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = check_float("p", p, minimum=0.0, maximum=1.0, strict_max=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


class WeightNoise(nn.Module):
    r"""A parametrization that perturbs a weight in training mode: :math:`W + \sigma\xi`.

    Registered with ``torch.nn.utils.parametrize`` on a layer's ``weight``, it
    draws fresh noise :math:`\xi \sim \mathcal{N}(0, I)` at every forward
    pass while the model is in ``train()`` mode, and returns :math:`W` unchanged in
    ``eval()`` mode. Because :math:`\partial (W + \sigma\xi)/\partial W = I`,
    the gradient computed at the noisy weights is applied to the clean ones: the
    scheme of An (1996). (Graves (2011) learns a separate :math:`\sigma` per
    weight; here it is fixed.) One draw per forward pass: the examples of a
    mini-batch share the same noisy weights. An drew new noise for every example;
    the expected loss is the same, the gradient of one step noisier.
    :class:`regutils.Recipe` stacks it (each seed draws from its own stream).

    Args:
        sigma (float): standard deviation of the noise, >= 0, in the units of the
            weights (compare it with their spread, e.g. ``weight.std()``).

    Example::

        >>> layer = nn.Linear(3, 2)
        >>> _ = parametrize.register_parametrization(layer, "weight", WeightNoise(0.1))
        >>> clean = layer.parametrizations.weight.original
        >>> torch.equal(layer.eval().weight, clean)
        True
        >>> torch.equal(layer.train().weight, clean)
        False
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = check_float("sigma", sigma, minimum=0.0)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return gaussian_noise(weight, self.sigma, self.training)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}"


NOISY_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def add_weight_noise(model: nn.Module, sigma: float) -> nn.Module:
    r"""Register :class:`WeightNoise` on the ``weight`` of every linear and convolution layer.

    Biases are left clean. The noise follows the model's mode: on in
    ``model.train()`` (so in every step of :func:`regutils.fit`), off in
    ``model.eval()`` (so in :func:`regutils.evaluate`). The clean weights live in
    ``layer.parametrizations.weight.original``; to take the noise off for good,
    call ``parametrize.remove_parametrizations(layer, "weight",
    leave_parametrized=False)`` on each layer.

    Registering does not consume the global random number generator, so a
    seeded run with weight noise draws the same initialization and the same
    mini-batch order as the same run without it.

    Args:
        model (nn.Module): the model, changed in place.
        sigma (float): standard deviation of the noise, >= 0.

    Returns:
        nn.Module: ``model`` itself.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module``.
        ValueError: if ``sigma`` is negative, or ``model`` has no linear or
            convolution layer, or already has a parametrization on one of
            their weights (noise would be added twice, or to a constraint).

    Notes:
        Side effects of the parametrization, all in place:

        * every read of ``layer.weight`` in training mode draws fresh noise
          (and consumes the global RNG), not only the read in ``forward``: a
          penalty or a norm computed from ``layer.weight`` sees a noisy weight;
        * the ``state_dict`` key ``"<layer>.weight"`` becomes
          ``"<layer>.parametrizations.weight.original"``, so a checkpoint of a
          clean model will not load into a noisy one (nor the reverse), and
          :func:`regutils.soft_tying_penalty` against a clean anchor model
          raises on the mismatched parameter names;
        * the order of ``model.named_parameters()`` changes (the weight now
          comes after the bias of its layer), which matters to code that pairs
          parameters by position.

    Example::

        >>> model = add_weight_noise(nn.Sequential(nn.Linear(4, 3)), 0.05)
        >>> model[0].parametrizations.weight
        ParametrizationList(
          (0): WeightNoise(sigma=0.05)
        )
        >>> x = torch.ones(1, 4)
        >>> torch.equal(model.eval()(x), model(x))  # evaluation: the clean weights
        True
        >>> torch.equal(model.train()(x), model(x))  # training: fresh noise every pass
        False
    """
    check_module("model", model)
    sigma = check_float("sigma", sigma, minimum=0.0)
    layers = [m for m in model.modules() if isinstance(m, NOISY_LAYERS)]
    if not layers:
        raise ValueError("model must contain an nn.Linear or nn.Conv*d layer, but has none")
    for layer in layers:
        if parametrize.is_parametrized(layer, "weight"):
            raise ValueError(
                f"model already has a parametrization on the weight of {layer}: "
                "remove it first, or add the noise once"
            )
    for layer in layers:
        # unsafe=True: skip the consistency check, which would call forward once
        # in training mode and so draw from the global RNG (changing, e.g., the
        # mini-batch order of a seeded run). WeightNoise keeps shape and dtype.
        parametrize.register_parametrization(layer, "weight", WeightNoise(sigma), unsafe=True)
    return model
