"""Models for the chapters: an MLP and a small CNN, each one ``nn.Sequential``.

The switches (``dropout``, ``batch_norm``, ``input_noise``) are what the technique
chapters turn on; with all of them off, :func:`mlp` is the reference model of the
Overfitting chapter. Printing a model shows every layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

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


def small_cnn(
    in_channels: int = 1,
    n_classes: int = 10,
    *,
    channels: Sequence[int] = (16, 32),
    image_size: int = 8,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    r"""A small convolutional network: weight sharing for 8x8 (or larger) images.

    Each block is ``Conv2d(3x3, padding 1) -> [BatchNorm2d] -> ReLU -> MaxPool2d(2)``,
    so each block halves the image side; then ``Flatten -> [Dropout] -> Linear``.
    Every 3x3 filter is applied at every position: the same few weights are
    shared across the whole image.

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

    Returns:
        nn.Sequential: the model.

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range.

    Example::

        >>> model = small_cnn()
        >>> model(torch.zeros(5, 1, 8, 8)).shape
        torch.Size([5, 10])
    """
    in_channels = check_int("in_channels", in_channels, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    channels = _check_hidden(channels)
    image_size = check_int("image_size", image_size, minimum=1)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0, strict_max=True)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be a bool, but got {type(batch_norm).__name__}")
    factor = 2 ** len(channels)
    if image_size % factor:
        raise ValueError(
            f"image_size must be divisible by 2 ** len(channels) = {factor}, but got {image_size}"
        )

    layers: list[nn.Module] = []
    c_in = in_channels
    for c_out in channels:
        layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    side = image_size // factor
    layers.append(nn.Flatten())  # (N, C * side * side)
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(c_in * side * side, n_classes))
    return nn.Sequential(*layers)
