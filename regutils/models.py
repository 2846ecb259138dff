"""Models for the chapters: an MLP and a small CNN, each one ``nn.Sequential``.

The switches (``dropout``, ``batch_norm``, ``input_noise``) are what the technique
chapters turn on; with all of them off, :func:`mlp` is the reference model of the
Overfitting chapter. Printing a model shows every layer.

:class:`regutils.LocallyConnected2d` is a convolution without weight sharing (its own filter at
every position); ``small_cnn(connectivity=...)`` builds the Weight sharing chapter's
three matched networks from it, a convolution, or a fully connected layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from regutils._checks import check_choice, check_float, check_int
from regutils.noise import GaussianNoise

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def _check_hidden(hidden: object) -> tuple[int, ...]:
    if isinstance(hidden, int) or not isinstance(hidden, Sequence):
        raise TypeError(
            f"hidden must be a sequence of layer widths such as (256, 256), but got {hidden!r}"
        )
    return tuple(check_int("hidden[i]", h, minimum=1) for h in hidden)


def mlp(
    in_features: int = 64,
    hidden: Sequence[int] = (256, 256),
    out_features: int = 10,
    *,
    dropout: float = 0.0,
    batch_norm: bool = False,
    input_noise: float = 0.0,
    activation: str = "relu",
) -> nn.Sequential:
    r"""A multi-layer perceptron with the regularization switches of the book.

    Each hidden block is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``;
    ``input_noise`` puts a :class:`regutils.GaussianNoise` layer in front. The last
    layer is a plain ``Linear`` producing logits.

    Args:
        in_features (int): input size. Default: 64 (an 8x8 digit).
        hidden (sequence of int): widths of the hidden layers. Default: ``(256, 256)``,
            the reference model: about 85,000 weights for 200 training images.
        out_features (int): output size (classes). Default: 10.
        dropout (float): drop probability after each hidden activation, in [0, 1).
            Default: 0.0 (off).
        batch_norm (bool): ``BatchNorm1d`` after each hidden linear layer.
            Default: ``False``.
        input_noise (float): standard deviation of Gaussian noise added to the
            input while training. Default: 0.0 (off).
        activation (str): ``"relu"``, ``"tanh"`` or ``"gelu"``. Default: ``"relu"``.

    Returns:
        nn.Sequential: the model, with freshly initialized weights.

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range.

    Example::

        >>> model = mlp(64, (32,), 10, dropout=0.5)
        >>> model
        Sequential(
          (0): Linear(in_features=64, out_features=32, bias=True)
          (1): ReLU()
          (2): Dropout(p=0.5, inplace=False)
          (3): Linear(in_features=32, out_features=10, bias=True)
        )
        >>> model(torch.zeros(4, 64)).shape
        torch.Size([4, 10])
    """
    in_features = check_int("in_features", in_features, minimum=1)
    out_features = check_int("out_features", out_features, minimum=1)
    hidden = _check_hidden(hidden)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0, strict_max=True)
    input_noise = check_float("input_noise", input_noise, minimum=0.0)
    check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be a bool, but got {type(batch_norm).__name__}")

    layers: list[nn.Module] = []
    if input_noise > 0:
        layers.append(GaussianNoise(input_noise))
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def _check_size(name: str, value: object) -> tuple[int, int]:
    """An image size given as one int (a square) or a pair (height, width)."""
    if not isinstance(value, (tuple, list)):
        side = check_int(name, value, minimum=1)
        return side, side
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, but got {value!r}")
    height, width = (check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(value))
    return height, width


class LocallyConnected2d(nn.Module):
    r"""A convolution without weight sharing: its own filter at every output position.

    With :math:`P_l(x)` the flattened :math:`C_{in} k^2` input patch that output
    position :math:`l` sees (the patches ``F.unfold`` extracts, zero-padded like
    ``nn.Conv2d``),

    .. math::

        y_{o, l} = \sum_{j} W_{l, o, j} \, P_l(x)_j + b_{o, l},

    where a convolution would use the same :math:`W_{o, j}` and :math:`b_o` at every
    :math:`l`. The layer has :math:`L` times the weights of the matching
    ``nn.Conv2d``, :math:`L` the number of output positions. Weights and biases are
    initialized like ``nn.Conv2d``'s, uniform in :math:`\pm 1/\sqrt{C_{in} k^2}`.

    Args:
        in_channels (int): input channels :math:`C_{in}`.
        out_channels (int): output channels.
        in_size (int or pair of int): input height and width (fixed: each position has
            its own weights).
        kernel_size (int): side :math:`k` of the square receptive field.
        padding (int): zeros added on each side, as in ``nn.Conv2d``. Default: 0.
        stride (int): step between positions. Default: 1.
        bias (bool): a learned bias per output channel *and position*. Default: ``True``.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` with ``(H, W) == in_size``.
        - Output: :math:`(N, C_{out}, H_{out}, W_{out})`,
          :math:`H_{out} = \lfloor (H + 2 \cdot \text{padding} - k) / \text{stride} \rfloor + 1`.

    Attributes:
        weight: the filters, a parameter of shape :math:`(L, C_{out}, C_{in} k^2)`, one
            bank per position.
        bias: a parameter of shape :math:`(C_{out}, H_{out}, W_{out})`, or ``None``.

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range, or a
            kernel larger than the padded input.

    Example::

        >>> layer = LocallyConnected2d(1, 4, 8, 3, padding=1)
        >>> layer
        LocallyConnected2d(1, 4, in_size=(8, 8), kernel_size=3, padding=1, stride=1, bias=True)
        >>> layer.weight.shape, layer(torch.zeros(2, 1, 8, 8)).shape
        (torch.Size([64, 4, 9]), torch.Size([2, 4, 8, 8]))
        >>> sum(p.numel() for p in layer.parameters())  # 64 x (4 x 9 + 4)
        2560
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        in_size: int | tuple[int, int],
        kernel_size: int,
        *,
        padding: int = 0,
        stride: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.in_size = _check_size("in_size", in_size)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.padding = check_int("padding", padding, minimum=0)
        self.stride = check_int("stride", stride, minimum=1)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, but got {type(bias).__name__}")
        h, w = (s + 2 * self.padding - self.kernel_size for s in self.in_size)
        if min(h, w) < 0:
            raise ValueError(
                f"kernel_size must fit in the padded input {self.in_size} + 2 * padding, "
                f"but got kernel_size={self.kernel_size}, padding={self.padding}"
            )
        self.out_size = (h // self.stride + 1, w // self.stride + 1)
        n_positions = self.out_size[0] * self.out_size[1]
        fan_in = self.in_channels * self.kernel_size**2
        bound = 1 / math.sqrt(fan_in)  # nn.Conv2d's default range, for weights and biases
        self.weight = nn.Parameter(
            torch.empty(n_positions, self.out_channels, fan_in).uniform_(-bound, bound)
        )
        self.bias = (
            nn.Parameter(torch.empty(self.out_channels, *self.out_size).uniform_(-bound, bound))
            if bias
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.in_channels, *self.in_size):
            raise ValueError(
                f"input must have shape (N, {self.in_channels}, {self.in_size[0]}, "
                f"{self.in_size[1]}), but got {tuple(x.shape)}"
            )
        patches = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)
        # (N, C_in k^2, L) with (L, C_out, C_in k^2) -> (N, C_out, L): a filter per position
        out = torch.einsum("njl,loj->nol", patches, self.weight)
        out = out.reshape(len(x), self.out_channels, *self.out_size)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, in_size={self.in_size}, "
            f"kernel_size={self.kernel_size}, padding={self.padding}, stride={self.stride}, "
            f"bias={self.bias is not None}"
        )


CONNECTIVITY = ("conv", "local", "full")
POOLS = ("flatten", "global")


def _image_layer(connectivity: str, c_in: int, c_out: int, side: int) -> list[nn.Module]:
    """A 3x3 layer of the given connectivity, (N, c_in, side, side) -> (N, c_out, side, side)."""
    if connectivity == "conv":
        return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)]
    if connectivity == "local":
        return [LocallyConnected2d(c_in, c_out, side, 3, padding=1)]
    # every output unit sees every input unit: an MLP layer on the same shapes
    return [
        nn.Flatten(),
        nn.Linear(c_in * side * side, c_out * side * side),
        nn.Unflatten(1, (c_out, side, side)),
    ]


def small_cnn(
    in_channels: int = 1,
    n_classes: int = 10,
    *,
    channels: Sequence[int] = (16, 32),
    image_size: int = 8,
    dropout: float = 0.0,
    batch_norm: bool = False,
    connectivity: str = "conv",
    pool: str = "flatten",
) -> nn.Sequential:
    r"""A small convolutional network: weight sharing for 8x8 (or larger) images.

    Each block is ``Conv2d(3x3, padding 1) -> [BatchNorm2d] -> ReLU -> MaxPool2d(2)``,
    so each block halves the image side; then ``Flatten -> [Dropout] -> Linear``.
    Every 3x3 filter is applied at every position: the same few weights are
    shared across the whole image.

    With ``pool="global"`` the head first averages each channel over all positions
    (``AdaptiveAvgPool2d(1)``, global average pooling; Lin et al. 2014): the last layer then
    sees *how much* of each feature the image holds, not *where*, so a shifted image gives
    nearly the same answer. ``pool="flatten"`` keeps every position's features, as an MLP
    head does.

    ``connectivity`` swaps the convolution for a layer with the same input and output
    shapes: ``"local"``, a :class:`regutils.LocallyConnected2d` with the same 3x3 receptive
    fields but its own filter at every position (no sharing); ``"full"``, a fully
    connected layer from every input unit to every output unit (an MLP layer,
    ``Flatten -> Linear -> Unflatten``). Channels, pooling and the head stay the
    same: the three networks differ only in how their layers are wired.

    Args:
        in_channels (int): image channels. Default: 1.
        n_classes (int): output classes. Default: 10.
        channels (sequence of int): output channels of each block.
            Default: ``(16, 32)``.
        image_size (int): side of the square input image; must be divisible by
            ``2 ** len(channels)``. Default: 8.
        dropout (float): drop probability before the last layer, in [0, 1).
            Default: 0.0.
        batch_norm (bool): ``BatchNorm2d`` after each convolution. Default: ``False``.
        connectivity (str): ``"conv"`` (shared 3x3 filters), ``"local"`` (3x3 filters,
            not shared) or ``"full"`` (fully connected). Default: ``"conv"``.
        pool (str): the head: ``"flatten"`` (every position's features) or ``"global"``
            (their average over positions). Default: ``"flatten"``.

    Returns:
        nn.Sequential: the model.

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range.

    Example::

        >>> model = small_cnn()
        >>> model(torch.zeros(5, 1, 8, 8)).shape
        torch.Size([5, 10])
        >>> [sum(p.numel() for p in small_cnn(connectivity=c).parameters())
        ...  for c in ("conv", "local", "full")]
        [6090, 85770, 199434]
        >>> small_cnn(pool="global", image_size=12)(torch.zeros(5, 1, 12, 12)).shape
        torch.Size([5, 10])
    """
    in_channels = check_int("in_channels", in_channels, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    channels = _check_hidden(channels)
    image_size = check_int("image_size", image_size, minimum=1)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0, strict_max=True)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be a bool, but got {type(batch_norm).__name__}")
    check_choice("connectivity", connectivity, CONNECTIVITY)
    check_choice("pool", pool, POOLS)
    factor = 2 ** len(channels)
    if image_size % factor:
        raise ValueError(
            f"image_size must be divisible by 2 ** len(channels) = {factor}, but got {image_size}"
        )

    layers: list[nn.Module] = []
    c_in, side = in_channels, image_size
    for c_out in channels:
        layers += _image_layer(connectivity, c_in, c_out, side)
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        c_in, side = c_out, side // 2
    if pool == "global":
        layers.append(nn.AdaptiveAvgPool2d(1))  # (N, C, 1, 1): each feature's mean over positions
        side = 1
    layers.append(nn.Flatten())  # (N, C * side * side)
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(c_in * side * side, n_classes))
    return nn.Sequential(*layers)
