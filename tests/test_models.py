import pytest
import torch
from torch import nn

from regutils import GaussianNoise, gaussian_noise, mlp, small_cnn


def test_mlp_switches_add_their_layers():
    model = mlp(64, (32, 16), 10, dropout=0.5, batch_norm=True, input_noise=0.1)
    kinds = [type(m) for m in model]
    assert kinds == [
        GaussianNoise,
        nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
        nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
        nn.Linear,
    ]  # fmt: skip
    assert model(torch.randn(5, 64)).shape == (5, 10)


def test_plain_mlp_has_only_linear_and_activation():
    assert [type(m) for m in mlp(4, (8,), 2, activation="tanh")] == [nn.Linear, nn.Tanh, nn.Linear]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"dropout": 1.0}, ValueError, "dropout must be in \\[0, 1\\), but got 1"),
        ({"hidden": 256}, TypeError, "hidden must be a sequence"),
        ({"hidden": (0,)}, ValueError, "hidden"),
        ({"activation": "sigmoid"}, ValueError, "'relu', 'tanh', 'gelu'"),
        ({"batch_norm": "yes"}, TypeError, "batch_norm"),
    ],
)
def test_mlp_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        mlp(**kwargs)


def test_noise_only_in_training_mode():
    layer = GaussianNoise(0.5)
    x = torch.zeros(10_000)
    torch.manual_seed(0)
    noisy = layer.train()(x)
    assert abs(noisy.std().item() - 0.5) < 0.02
    assert torch.equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(x, -0.1)


def test_small_cnn_shares_weights_and_checks_sizes():
    model = small_cnn(dropout=0.25, batch_norm=True)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params < sum(p.numel() for p in mlp().parameters()) / 2
    with pytest.raises(ValueError, match="image_size"):
        small_cnn(image_size=6)
