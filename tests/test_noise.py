import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from regutils import (
    GaussianDropout,
    GaussianNoise,
    WeightNoise,
    add_weight_noise,
    evaluate,
    fit,
    gaussian_dropout,
    gaussian_noise,
    set_seed,
)


def test_gaussian_noise_has_the_stated_statistics():
    set_seed(0)
    x = torch.full((200_000,), 3.0)
    noise = gaussian_noise(x, 0.5) - x
    assert abs(noise.mean().item()) < 0.005
    assert abs(noise.std().item() - 0.5) < 0.005


def test_gaussian_noise_is_identity_at_evaluation_and_at_zero_sigma():
    x = torch.randn(5, 4)
    assert gaussian_noise(x, 0.5, training=False) is x
    assert gaussian_noise(x, 0.0) is x
    layer = GaussianNoise(0.3)
    assert torch.equal(layer.eval()(x), x)
    assert not torch.equal(layer.train()(x), x)


def test_weight_noise_gradient_is_the_gradient_at_the_noisy_weights():
    # Oracle: draw the same noise by hand, compute the loss at W + sigma * eps with a
    # plain tensor, and compare the gradients with respect to W.
    set_seed(1)
    layer = nn.Linear(5, 3)
    clean = layer.weight.detach().clone()
    x = torch.randn(8, 5)
    parametrize.register_parametrization(layer, "weight", WeightNoise(0.2))
    state = torch.get_rng_state()
    layer(x).pow(2).sum().backward()
    grad = layer.parametrizations.weight.original.grad

    torch.set_rng_state(state)
    w = clean.clone().requires_grad_(True)
    noisy = w + 0.2 * torch.randn_like(w)
    (x @ noisy.T + layer.bias.detach()).pow(2).sum().backward()
    assert torch.allclose(grad, w.grad, atol=1e-6)
    # and the noise was really there: the gradient at the clean weights differs
    w0 = clean.clone().requires_grad_(True)
    (x @ w0.T + layer.bias.detach()).pow(2).sum().backward()
    assert not torch.allclose(grad, w0.grad, atol=1e-3)


def test_add_weight_noise_is_off_in_eval_and_leaves_biases_clean():
    set_seed(2)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    clean = copy.deepcopy(model)
    add_weight_noise(model, 0.1)
    x = torch.randn(4, 6)
    assert torch.equal(model.eval()(x), clean(x))
    model.train()
    assert not torch.allclose(model(x), clean(x), atol=1e-4)
    for layer in (model[0], model[2]):
        assert parametrize.is_parametrized(layer, "weight")
        assert not parametrize.is_parametrized(layer, "bias")
    w = model[0].parametrizations.weight.original
    assert torch.equal(w, clean[0].weight)


def test_the_perturbed_spread_matches_sigma():
    set_seed(3)
    layer = add_weight_noise(nn.Sequential(nn.Linear(300, 300)), 0.05)[0]
    diff = layer.weight - layer.parametrizations.weight.original
    assert abs(diff.std().item() - 0.05) < 0.001


def test_fit_trains_the_clean_weights_and_evaluates_without_noise():
    set_seed(4)
    X, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = add_weight_noise(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), 0.05)
    before = model[0].parametrizations.weight.original.detach().clone()
    fit(model, (X, y), epochs=3, lr=1e-2, batch_size=16)
    assert not torch.equal(before, model[0].parametrizations.weight.original)
    assert evaluate(model, (X, y)) == evaluate(model, (X, y))  # deterministic: no noise


def test_sigma_zero_changes_nothing():
    set_seed(5)
    model = nn.Sequential(nn.Linear(3, 2))
    clean = copy.deepcopy(model)
    add_weight_noise(model, 0.0)
    x = torch.randn(2, 3)
    assert torch.equal(model.train()(x), clean(x))


@pytest.mark.parametrize(
    "model, sigma, error, match",
    [
        (nn.Linear(2, 2), -0.1, ValueError, r"sigma must be in \[0, inf\], but got -0.1"),
        (nn.Linear(2, 2), "0.1", TypeError, "sigma must be a real number, but got str"),
        ("model", 0.1, TypeError, "model must be a torch.nn.Module, but got str"),
        (nn.Sequential(nn.ReLU()), 0.1, ValueError, "nn.Linear or nn.Conv"),
    ],
)
def test_add_weight_noise_rejects_bad_arguments(model, sigma, error, match):
    with pytest.raises(error, match=match):
        add_weight_noise(model, sigma)


def test_add_weight_noise_refuses_to_add_the_noise_twice():
    model = add_weight_noise(nn.Sequential(nn.Linear(2, 2)), 0.1)
    with pytest.raises(ValueError, match="already has a parametrization"):
        add_weight_noise(model, 0.1)


def test_weight_noise_and_gaussian_noise_reject_a_negative_sigma():
    with pytest.raises(ValueError, match="sigma"):
        WeightNoise(-1.0)
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-1.0)
    assert repr(WeightNoise(0.25)) == "WeightNoise(sigma=0.25)"


def test_add_weight_noise_leaves_the_global_rng_untouched():
    # Registration must not draw: a seeded run with weight noise must get the
    # same mini-batch order as the same run without it.
    set_seed(6)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    state = torch.get_rng_state()
    add_weight_noise(model, 0.1)
    assert torch.equal(torch.get_rng_state(), state)


def test_add_weight_noise_on_a_conv2d():
    set_seed(7)
    model = nn.Sequential(nn.Conv2d(2, 3, kernel_size=3), nn.ReLU(), nn.Flatten())
    clean = copy.deepcopy(model)
    add_weight_noise(model, 0.05)
    conv = model[0]
    assert parametrize.is_parametrized(conv, "weight")
    assert not parametrize.is_parametrized(conv, "bias")
    assert conv.weight.shape == clean[0].weight.shape
    x = torch.randn(2, 2, 6, 6)
    assert torch.equal(model.eval()(x), clean(x))
    model.train()
    assert not torch.allclose(model(x), clean(x), atol=1e-4)
    assert "0.parametrizations.weight.original" in model.state_dict()


def test_gaussian_dropout_matches_the_mean_and_variance_of_dropout():
    # nn.Dropout(p) multiplies by 0 or 1/(1-p): mean 1, variance p/(1-p); so does
    # gaussian_dropout, with a Gaussian multiplier.
    set_seed(3)
    x = torch.full((400_000,), 2.0)
    for p in (0.2, 0.5):
        multiplier = gaussian_dropout(x, p) / x
        assert abs(multiplier.mean().item() - 1.0) < 0.01
        assert abs(multiplier.var().item() - p / (1 - p)) < 0.01
        bernoulli = nn.Dropout(p)(x) / x
        assert abs(bernoulli.var().item() - p / (1 - p)) < 0.01


def test_gaussian_dropout_is_identity_at_evaluation_and_at_zero_p():
    x = torch.randn(5, 4)
    assert gaussian_dropout(x, 0.5, training=False) is x
    assert gaussian_dropout(x, 0.0) is x
    layer = GaussianDropout(0.5)
    assert torch.equal(layer.eval()(x), x)
    assert not torch.equal(layer.train()(x), x)
    assert repr(layer) == "GaussianDropout(p=0.5)"


def test_gaussian_dropout_draws_what_its_formula_says():
    set_seed(4)
    x = torch.randn(3, 7)
    state = torch.get_rng_state()
    out = GaussianDropout(0.25)(x)
    torch.set_rng_state(state)
    expected = x * (1 + (0.25 / 0.75) ** 0.5 * torch.randn_like(x))
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_gaussian_dropout_rejects_a_rate_outside_0_1(p):
    with pytest.raises(ValueError, match="p must be"):
        GaussianDropout(p)
    with pytest.raises(ValueError, match="p must be"):
        gaussian_dropout(torch.ones(2), p)
