r"""Data augmentation on whole mini-batches: per-image random affine transforms and mixup.

Everything here works on a batch at once, with **different random parameters for
every image**, in one call per batch:

* ``affine`` moves, rotates and scales each image by its own parameters with ONE
  ``F.affine_grid`` plus ``F.grid_sample`` call, and agrees with
  ``torchvision.transforms.v2.functional.affine`` applied image by image;
* ``random_affine`` draws those parameters uniformly at random and calls it;
* ``hflip`` and ``half_turn`` are the transforms that can change a digit's label;
* ``augmenter`` returns an ``augment(x, y)`` callable for ``fit(augment=...)``;
* ``mixup`` (Zhang et al., 2018) mixes pairs of images and their labels.

torchvision's random transforms, applied to a batched tensor, draw one set of
parameters for the whole batch (pytorch/vision#2929); per-image randomness is what
the vectorized version adds. Images are ``(N, C, H, W)``; a flattened batch
``(N, H * W)`` of square one-channel images (the MLP's ``(N, 64)`` digits) is also
accepted and returned flattened.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from regutils._checks import check_choice, check_float, check_int

Pair = tuple[torch.Tensor, torch.Tensor]
Augment = Callable[[torch.Tensor, torch.Tensor], Pair]
MODES = ("bilinear", "nearest")


def _as_images(x: object) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``x`` as ``(N, C, H, W)`` floats, and the shape to give the result back in."""
    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        kind = f"{x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be a floating-point tensor of images, but got {kind}")
    if x.dim() == 4:
        return x, tuple(x.shape)
    if x.dim() == 2:
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1] and side > 0:
            return x.reshape(len(x), 1, side, side), tuple(x.shape)
    raise ValueError(
        "x must be a batch of images (N, C, H, W), or of flattened square one-channel "
        f"images (N, side * side), but got shape {tuple(x.shape)}"
    )


def _per_image(name: str, value: object, n: int, x: torch.Tensor, width: int = 1) -> torch.Tensor:
    """A number (or pair) for every image: a float, a sequence or a tensor, broadcast to n."""
    if isinstance(value, torch.Tensor):
        t = value.to(dtype=x.dtype, device=x.device)
    elif width == 1:
        t = torch.tensor(check_float(name, value), dtype=x.dtype, device=x.device)
    else:
        if not isinstance(value, (tuple, list)) or len(value) != width:
            raise TypeError(f"{name} must be a pair of numbers or a tensor, but got {value!r}")
        t = torch.tensor([check_float(f"{name}[i]", v) for v in value], dtype=x.dtype)
        t = t.to(x.device)
    shape = (n,) if width == 1 else (n, width)
    try:
        return t.expand(shape)
    except RuntimeError:
        raise ValueError(
            f"{name} must hold one value per image, shape {shape}, but got {tuple(t.shape)}"
        ) from None


def affine(
    x: torch.Tensor,
    angle: float | torch.Tensor = 0.0,
    translate: tuple[float, float] | torch.Tensor = (0.0, 0.0),
    scale: float | torch.Tensor = 1.0,
    *,
    mode: str = "bilinear",
) -> torch.Tensor:
    r"""Rotate, scale and shift every image by its own parameters, in one ``grid_sample`` call.

    Each output pixel :math:`p` (in pixels, from the image's center, :math:`y` pointing
    down) is read from the input at

    .. math::

        q = \frac{1}{s} R(-\theta) \, (p - t),

    the inverse of "scale by :math:`s` and rotate by :math:`\theta` about the center,
    then shift by :math:`t`"; the value there is interpolated (``mode``) and pixels read
    from outside the image are 0. This is ``torchvision.transforms.v2.functional.affine``
    with ``shear=0`` and ``center=None``, applied image by image: a positive ``angle``
    turns the digit clockwise as displayed, ``translate=(tx, ty)`` moves it ``tx`` pixels
    right and ``ty`` down.

    Args:
        x (Tensor): images ``(N, C, H, W)``, or flattened square one-channel images
            ``(N, side * side)``.
        angle (float or Tensor): degrees, one number or one per image ``(N,)``.
            Default: 0.
        translate (pair or Tensor): ``(tx, ty)`` in pixels, or one pair per image
            ``(N, 2)``. Default: ``(0, 0)``.
        scale (float or Tensor): zoom factor > 0, one or one per image ``(N,)``.
            Default: 1.
        mode (str): ``"bilinear"`` or ``"nearest"`` interpolation. Default: ``"bilinear"``.

    Returns:
        Tensor: the transformed images, with the shape of ``x``.

    Raises:
        TypeError, ValueError: naming the argument that is of the wrong type, shape or range.

    Example::

        >>> x = torch.zeros(2, 1, 8, 8)
        >>> x[:, 0, 3, 3] = 1.0
        >>> y = affine(x, translate=torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        >>> [tuple(img[0].nonzero()[0].tolist()) for img in y]  # (row, column)
        [(3, 4), (5, 3)]
    """
    check_choice("mode", mode, MODES)
    images, shape = _as_images(x)
    n, _, h, w = images.shape
    angle = _per_image("angle", angle, n, images)
    translate = _per_image("translate", translate, n, images, width=2)
    scale = _per_image("scale", scale, n, images)
    if not bool((scale > 0).all()):
        raise ValueError(f"scale must be > 0, but got {scale.min().item():g}")
    rad = torch.deg2rad(angle)
    cos, sin = torch.cos(rad) / scale, torch.sin(rad) / scale
    tx, ty = translate[:, 0], translate[:, 1]
    # The inverse map in pixels from the center, then in grid_sample's units
    # (-1..1 across the image, align_corners=False): x / (w/2), y / (h/2).
    theta = torch.stack(
        [
            torch.stack([cos, sin * h / w, -(cos * tx + sin * ty) / (w / 2)], dim=1),
            torch.stack([-sin * w / h, cos, (sin * tx - cos * ty) / (h / 2)], dim=1),
        ],
        dim=1,
    )  # (N, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # (N, H, W, 2)
    out = F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=False)
    return out.reshape(shape)


def _uniform(n: int, half_width: float, x: torch.Tensor, generator) -> torch.Tensor:
    """n draws from U(-half_width, half_width)."""
    u = torch.rand(n, generator=generator, dtype=x.dtype, device=x.device)
    return (2 * u - 1) * half_width


def random_affine(
    x: torch.Tensor,
    *,
    max_shift: float = 0.0,
    max_rotation: float = 0.0,
    max_scale: float = 0.0,
    mode: str = "bilinear",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Shift, rotate and scale every image by its own random amount.

    For every image independently,

    .. math::

        t_x, t_y \sim \mathcal U(-\text{max\_shift}, \text{max\_shift}), \quad
        \theta \sim \mathcal U(-\text{max\_rotation}, \text{max\_rotation}), \quad
        s \sim \mathcal U(1 - \text{max\_scale}, 1 + \text{max\_scale}),

    then ``affine`` with those parameters (one ``grid_sample`` call for the batch).
    Every call draws fresh parameters.

    Args:
        x (Tensor): images ``(N, C, H, W)`` or ``(N, side * side)``.
        max_shift (float): largest shift in pixels along each axis, >= 0. Default: 0.
        max_rotation (float): largest rotation in degrees, in [0, 180]. Default: 0.
        max_scale (float): largest relative change of size, in [0, 1). Default: 0.
        mode (str): ``"bilinear"`` or ``"nearest"``. Default: ``"bilinear"``.
        generator (torch.Generator, optional): source of randomness. Default: torch's
            global generator (seeded by ``regutils.set_seed``).

    Returns:
        Tensor: the transformed images, with the shape of ``x``.

    Raises:
        TypeError, ValueError: naming the argument that is of the wrong type or range.

    Example::

        >>> x = torch.rand(5, 64)
        >>> random_affine(x, max_shift=1.0, max_rotation=10.0).shape
        torch.Size([5, 64])
        >>> torch.equal(random_affine(x), x)  # all maxima 0: the identity
        True
    """
    max_shift = check_float("max_shift", max_shift, minimum=0.0)
    max_rotation = check_float("max_rotation", max_rotation, minimum=0.0, maximum=180.0)
    max_scale = check_float("max_scale", max_scale, minimum=0.0, maximum=1.0, strict_max=True)
    check_choice("mode", mode, MODES)
    _as_images(x)
    return _random_affine(x, max_shift, max_rotation, max_scale, mode, generator)


def _random_affine(
    x: torch.Tensor,
    max_shift: float,
    max_rotation: float,
    max_scale: float,
    mode: str,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """:func:`random_affine` with its arguments already checked (once per ``augmenter``)."""
    if max_shift == max_rotation == max_scale == 0.0:
        return x
    images, shape = _as_images(x)
    n = len(images)
    if max_rotation == 0.0 and max_scale == 0.0:  # shifts only: the same draws, fewer steps
        torch.rand(n, generator=generator, dtype=images.dtype, device=images.device)  # angle
        shift = torch.stack([_uniform(n, max_shift, images, generator) for _ in range(2)], dim=1)
        torch.rand(n, generator=generator, dtype=images.dtype, device=images.device)  # scale
        return _translate(images, shift, mode).reshape(shape)
    angle = _uniform(n, max_rotation, images, generator)
    shift = torch.stack([_uniform(n, max_shift, images, generator) for _ in range(2)], dim=1)
    scale = 1 + _uniform(n, max_scale, images, generator)
    return affine(x, angle, shift, scale, mode=mode)


def _translate(images: torch.Tensor, shift: torch.Tensor, mode: str) -> torch.Tensor:
    r"""``affine`` with angle 0 and scale 1, in fewer steps: the same sampling grid.

    With :math:`\theta = 0` and :math:`s = 1` the map of ``affine`` is
    :math:`q = p - t`, whose matrix in ``grid_sample``'s units has 1 on the diagonal, 0
    off it (``affine`` computes them as :math:`\pm 0`, which changes no sum) and
    :math:`-t_x / (w/2)`, :math:`-t_y / (h/2)` in its last column, computed by the same
    float operations: the output is bit for bit ``affine``'s (``tests/test_augment.py``).
    """
    n, _, h, w = images.shape
    eye = torch.eye(2, dtype=images.dtype, device=images.device).expand(n, 2, 2)
    halves = torch.tensor([w / 2, h / 2], dtype=images.dtype, device=images.device)
    theta = torch.cat([eye, (-shift / halves).unsqueeze(2)], dim=2)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=False)


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror every image left to right (``(N, C, H, W)`` or ``(N, side * side)``).

    Example::

        >>> hflip(torch.arange(4.0).reshape(1, 4)).tolist()  # a 2x2 image, flattened
        [[1.0, 0.0, 3.0, 2.0]]
    """
    images, shape = _as_images(x)
    return images.flip(-1).reshape(shape)


def half_turn(x: torch.Tensor) -> torch.Tensor:
    """Turn every image by 180 degrees: a 6 becomes a 9 (``(N, C, H, W)`` or flattened).

    Example::

        >>> half_turn(torch.arange(4.0).reshape(1, 4)).tolist()
        [[3.0, 2.0, 1.0, 0.0]]
    """
    images, shape = _as_images(x)
    return images.flip(-2, -1).reshape(shape)


def _apply_to_some(
    x: torch.Tensor, transform: Callable, p: float, generator: torch.Generator | None
) -> torch.Tensor:
    """``transform`` applied to each image with probability p, independently."""
    chosen = torch.rand(len(x), generator=generator, device=x.device) < p  # (N,)
    return torch.where(chosen.reshape(-1, *[1] * (x.dim() - 1)), transform(x), x)


def augmenter(
    *,
    max_shift: float = 0.0,
    max_rotation: float = 0.0,
    max_scale: float = 0.0,
    p_hflip: float = 0.0,
    p_half_turn: float = 0.0,
    generator: torch.Generator | None = None,
) -> Augment:
    """An ``augment(x, y)`` for ``fit(augment=...)``: random per-image transforms, labels kept.

    Every call transforms each image of the mini-batch independently: a random
    ``affine`` transform (as ``random_affine``), then a mirror with
    probability ``p_hflip`` and a half turn with probability ``p_half_turn``, the two
    transforms that can change what a digit is. The targets are returned unchanged.

    Args:
        max_shift (float): largest shift in pixels, >= 0. Default: 0.
        max_rotation (float): largest rotation in degrees, in [0, 180]. Default: 0.
        max_scale (float): largest relative change of size, in [0, 1). Default: 0.
        p_hflip (float): probability of mirroring an image, in [0, 1]. Default: 0.
        p_half_turn (float): probability of turning an image by 180 degrees, in [0, 1].
            Default: 0.
        generator (torch.Generator, optional): source of randomness. Default: torch's
            global generator.

    Returns:
        callable: ``augment(x, y) -> (x_augmented, y)``.

    Raises:
        TypeError, ValueError: naming the argument that is of the wrong type or range.

    Example::

        >>> augment = augmenter(max_shift=1.0, max_rotation=15.0)
        >>> x, y = torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])
        >>> x2, y2 = augment(x, y)
        >>> x2.shape, y2 is y
        (torch.Size([4, 1, 8, 8]), True)
    """
    max_shift = check_float("max_shift", max_shift, minimum=0.0)
    max_rotation = check_float("max_rotation", max_rotation, minimum=0.0, maximum=180.0)
    max_scale = check_float("max_scale", max_scale, minimum=0.0, maximum=1.0, strict_max=True)
    p_hflip = check_float("p_hflip", p_hflip, minimum=0.0, maximum=1.0)
    p_half_turn = check_float("p_half_turn", p_half_turn, minimum=0.0, maximum=1.0)

    def augment(x: torch.Tensor, y: torch.Tensor) -> Pair:
        x = _random_affine(x, max_shift, max_rotation, max_scale, "bilinear", generator)
        if p_hflip > 0:
            x = _apply_to_some(x, hflip, p_hflip, generator)
        if p_half_turn > 0:
            x = _apply_to_some(x, half_turn, p_half_turn, generator)
        return x, y

    return augment


def mixup(
    alpha: float,
    *,
    n_classes: int = 10,
    generator: torch.Generator | None = None,
) -> Augment:
    r"""An ``augment(x, y)`` for ``fit(augment=...)`` that mixes pairs of examples (mixup).

    Zhang et al. (2018) train on convex combinations of two examples and of their
    one-hot labels:

    .. math::

        \lambda \sim \mathrm{Beta}(\alpha, \alpha), \qquad
        \tilde x = \lambda x_i + (1 - \lambda) x_j, \qquad
        \tilde y = \lambda e_{y_i} + (1 - \lambda) e_{y_j},

    with :math:`j` a random permutation of the mini-batch and one :math:`\lambda`
    per mini-batch. The paper's figure 1 mixes the batches of two shuffled loaders;
    mixing a mini-batch with a shuffled copy of itself is the cheaper variant its
    text describes (section 2), used here. The soft targets
    :math:`\tilde y` have shape ``(B, n_classes)``, which ``F.cross_entropy``
    accepts; targets that are already soft are mixed as they are, so mixup can
    follow another augmentation. Small :math:`\alpha` keeps most mixes close to one
    of the two examples; :math:`\alpha = 1` draws :math:`\lambda` uniformly.

    Args:
        alpha (float): the Beta distribution's parameter, > 0.
        n_classes (int): classes of the one-hot labels, >= 2. Default: 10.
        generator (torch.Generator, optional): source of randomness for the pairing
            only. Default: torch's global generator. :math:`\lambda` is always drawn
            from torch's global generator (``torch.distributions.Beta`` takes no
            generator), so seed that one (``regutils.set_seed``) for a repeatable run.

    Returns:
        callable: ``augment(x, y) -> (x_mixed, soft_targets)``.

    Raises:
        TypeError, ValueError: naming the argument that is of the wrong type or range.

    Example::

        >>> augment = mixup(0.2, n_classes=3)
        >>> x, soft = augment(torch.rand(4, 5), torch.tensor([0, 1, 2, 0]))
        >>> soft.shape, torch.allclose(soft.sum(dim=1), torch.ones(4))
        (torch.Size([4, 3]), True)
    """
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    beta = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))

    def augment(x: torch.Tensor, y: torch.Tensor) -> Pair:
        if torch.is_floating_point(y):
            soft = y
        else:
            soft = F.one_hot(y, n_classes).to(x.dtype)  # (B, n_classes)
        lam = beta.sample().item()
        j = torch.randperm(len(x), generator=generator, device=x.device)
        return lam * x + (1 - lam) * x[j], lam * soft + (1 - lam) * soft[j]

    return augment


def chain(*augments: Augment) -> Augment:
    """One ``augment(x, y)`` that applies several in turn, e.g. shifts, then mixup.

    Example::

        >>> both = chain(augmenter(max_shift=1.0), mixup(0.2))
        >>> x, soft = both(torch.rand(4, 64), torch.tensor([0, 1, 2, 3]))
        >>> x.shape, soft.shape
        (torch.Size([4, 64]), torch.Size([4, 10]))
    """
    if not augments or not all(callable(a) for a in augments):
        raise TypeError(f"augments must be one or more callables augment(x, y), got {augments!r}")

    def augment(x: torch.Tensor, y: torch.Tensor) -> Pair:
        for a in augments:
            x, y = a(x, y)
        return x, y

    return augment


__all__ = ["affine", "augmenter", "chain", "half_turn", "hflip", "mixup", "random_affine"]
