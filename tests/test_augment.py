import math

import pytest
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from regutils import fit, mlp, set_seed
from regutils.augment import (
    affine,
    augmenter,
    chain,
    half_turn,
    hflip,
    mixup,
    random_affine,
)

TOL = 1e-5  # float32 rounding: the two compute the same sampling grid in different orders


def _params(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    angle = torch.empty(n).uniform_(-40, 40, generator=g)
    shift = torch.empty(n, 2).uniform_(-2.5, 2.5, generator=g)
    scale = torch.empty(n).uniform_(0.7, 1.3, generator=g)
    return angle, shift, scale


def _torchvision(x, angle, shift, scale, interpolation):
    """The oracle: torchvision's affine, one image at a time."""
    return torch.stack(
        [
            TF.affine(
                x[i],
                angle=angle[i].item(),
                translate=shift[i].tolist(),
                scale=scale[i].item(),
                shear=[0.0, 0.0],
                interpolation=interpolation,
            )
            for i in range(len(x))
        ]
    )


@pytest.mark.parametrize(
    ("mode", "interpolation"),
    [("bilinear", InterpolationMode.BILINEAR), ("nearest", InterpolationMode.NEAREST)],
)
@pytest.mark.parametrize("shape", [(40, 1, 8, 8), (6, 3, 6, 10)])
def test_affine_matches_torchvision_image_by_image(mode, interpolation, shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1))
    angle, shift, scale = _params(len(x))
    ours = affine(x, angle, shift, scale, mode=mode)
    expected = _torchvision(x, angle, shift, scale, interpolation)
    assert ours.shape == x.shape
    assert (ours - expected).abs().max().item() <= TOL


def test_affine_flattened_input_matches_image_input():
    x = torch.rand(10, 1, 8, 8)
    angle, shift, scale = _params(10)
    flat = affine(x.reshape(10, 64), angle, shift, scale)
    assert flat.shape == (10, 64)
    assert torch.equal(flat, affine(x, angle, shift, scale).reshape(10, 64))


def test_affine_directions_and_identity():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 7] = 1.0  # right of the center
    turned = affine(x, 90.0)  # clockwise as displayed: right goes to the bottom
    assert (turned[0, 0] > 0.5).nonzero().tolist() == [[7, 4]]
    moved = affine(x, translate=(-2.0, 1.0))  # 2 left, 1 down
    assert (moved[0, 0] > 0.5).nonzero().tolist() == [[4, 5]]
    assert torch.allclose(affine(x), x, atol=1e-6)


def test_random_affine_draws_fresh_parameters_per_image_and_per_call():
    one = torch.rand(1, 1, 8, 8)
    batch = one.expand(16, 1, 8, 8).contiguous()  # 16 copies of the same image
    set_seed(0)
    a = random_affine(batch, max_shift=1.0, max_rotation=15.0, max_scale=0.1)
    b = random_affine(batch, max_shift=1.0, max_rotation=15.0, max_scale=0.1)
    assert len({tuple(img.flatten().tolist()) for img in a}) == 16  # each image its own
    assert not torch.equal(a, b)  # each call its own
    set_seed(0)
    assert torch.equal(a, random_affine(batch, max_shift=1.0, max_rotation=15.0, max_scale=0.1))


def test_random_affine_stays_in_its_range():
    # A single bright pixel at the center moves by at most max_shift along each axis.
    x = torch.zeros(200, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0
    out = random_affine(
        x, max_shift=2.0, mode="nearest", generator=torch.Generator().manual_seed(0)
    )
    rows, cols = (out[:, 0] > 0).nonzero()[:, 1:].T
    assert rows.min() == 2 and rows.max() == 6 and cols.min() == 2 and cols.max() == 6


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("shape", [(32, 64), (7, 1, 8, 8), (5, 3, 9, 9), (4, 2, 6, 10)])
def test_random_shifts_are_affine_bit_for_bit_from_the_same_draws(mode, shape):
    # Shifts alone take a shorter path (no rotation or scaling to compute); it must give
    # affine's output from the same four draws per image, and leave the stream as affine's.
    x = torch.rand(shape, generator=torch.Generator().manual_seed(2))
    for seed in range(20):
        set_seed(seed)
        fast = random_affine(x, max_shift=1.3, mode=mode)
        after_fast = torch.rand(3)
        set_seed(seed)
        n = len(x)
        angle, tx, ty, scale = ((2 * torch.rand(n) - 1) * h for h in (0.0, 1.3, 1.3, 0.0))
        general = affine(x, angle, torch.stack([tx, ty], dim=1), 1 + scale, mode=mode)
        assert torch.equal(fast, general)
        assert torch.equal(after_fast, torch.rand(3))


def test_flips():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert torch.equal(hflip(x)[0, 0, 0], torch.tensor([3.0, 2.0, 1.0, 0.0]))
    assert torch.equal(half_turn(x), torch.rot90(x, 2, dims=(-2, -1)))
    assert torch.equal(half_turn(x.reshape(1, 16)), half_turn(x).reshape(1, 16))
    assert torch.equal(hflip(hflip(x)), x)


def test_augmenter_keeps_labels_and_flips_with_probability():
    x, y = torch.rand(2000, 64), torch.arange(2000) % 10
    out, labels = augmenter(p_hflip=0.3, generator=torch.Generator().manual_seed(0))(x, y)
    assert labels is y
    flipped = (out == hflip(x)).all(dim=1) & ~(out == x).all(dim=1)
    assert 0.27 <= flipped.float().mean().item() <= 0.33  # 0.3 within 3 standard deviations
    out, _ = augmenter(p_half_turn=1.0)(x, y)
    assert torch.equal(out, half_turn(x))
    out, _ = augmenter()(x, y)
    assert torch.equal(out, x)


def test_mixup_mixes_inputs_and_labels_with_one_lambda():
    x, y = torch.rand(32, 64), torch.arange(32) % 10
    # The oracle: the same draws, in the same order, done by hand.
    set_seed(0)
    lam = torch.distributions.Beta(torch.tensor(1.0), torch.tensor(1.0)).sample().item()
    j = torch.randperm(32, generator=torch.Generator().manual_seed(1))
    set_seed(0)
    mixed, soft = mixup(1.0, generator=torch.Generator().manual_seed(1))(x, y)
    one_hot = torch.nn.functional.one_hot(y, 10).float()
    assert 0 < lam < 1 and not torch.equal(j, torch.arange(32))
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[j], atol=1e-6)
    assert torch.allclose(soft, lam * one_hot + (1 - lam) * one_hot[j], atol=1e-6)
    assert torch.allclose(soft.sum(dim=1), torch.ones(32))
    # soft targets pass through a second mixup and still sum to one
    _, again = mixup(0.5)(mixed, soft)
    assert torch.allclose(again.sum(dim=1), torch.ones(32))
    # fresh randomness: another call, another mix
    assert not torch.equal(mixup(1.0)(x, y)[0], mixup(1.0)(x, y)[0])


def test_mixup_lambda_follows_beta():
    set_seed(0)
    x, y = torch.tensor([[1.0], [0.0]]), torch.tensor([0, 1])
    lams = []
    for _ in range(2000):
        swap = torch.Generator().manual_seed(1)  # its randperm(2) is [1, 0]
        mixed, _ = mixup(0.2, n_classes=2, generator=swap)(x, y)
        lams.append(mixed[0, 0].item())  # lam * 1 + (1 - lam) * 0
    lams = torch.tensor(lams)
    # Beta(0.2, 0.2): mean 1/2, most draws near 0 or 1: P(0.1 < lam < 0.9) is 0.327
    assert 0.45 <= lams.mean().item() <= 0.55
    assert 0.29 <= ((lams > 0.1) & (lams < 0.9)).float().mean().item() <= 0.36


def test_fit_with_augmenter_and_mixup_runs_and_leaves_validation_alone():
    set_seed(0)
    X, y = torch.rand(40, 64), torch.arange(40) % 10
    val = (X.clone(), y.clone())
    for augment in (
        augmenter(max_shift=1.0),
        mixup(0.2),
        chain(augmenter(max_shift=1.0), mixup(0.2)),
    ):
        history = fit(mlp(64, (8,), 10), (X, y), val, epochs=2, batch_size=16, augment=augment)
        assert len(history) == 2 and math.isfinite(history.final["train_loss"])
    assert torch.equal(val[0], X)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: affine(torch.rand(2, 63)), ValueError, "x must be .*got shape \\(2, 63\\)"),
        (lambda: affine(torch.zeros(2, 64, dtype=torch.long)), TypeError, "x must be a floating"),
        (lambda: affine(torch.rand(2, 64), scale=0.0), ValueError, "scale must be > 0"),
        (lambda: affine(torch.rand(2, 64), angle=torch.zeros(3)), ValueError, "angle must hold"),
        (lambda: affine(torch.rand(2, 64), translate=1.0), TypeError, "translate must be a pair"),
        (lambda: affine(torch.rand(2, 64), mode="cubic"), ValueError, "mode must be one of"),
        (lambda: random_affine(torch.rand(2, 64), max_shift=-1), ValueError, "max_shift"),
        (lambda: random_affine(torch.rand(2, 64), max_rotation=200), ValueError, "max_rotation"),
        (lambda: random_affine(torch.rand(2, 64), max_scale=1.0), ValueError, "max_scale"),
        (lambda: augmenter(p_hflip=1.5), ValueError, "p_hflip must be in \\[0, 1\\]"),
        (lambda: augmenter(p_half_turn="a"), TypeError, "p_half_turn must be a real"),
        (lambda: mixup(0.0), ValueError, "alpha must be in \\(0, inf\\]"),
        (lambda: mixup(0.2, n_classes=1), ValueError, "n_classes must be an int >= 2"),
        (lambda: chain(), TypeError, "augments must be one or more"),
    ],
)
def test_bad_arguments_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
