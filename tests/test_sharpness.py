"""Tests of regutils.sharpness: Hessian-vector products, power iteration, rescaling."""

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from regutils import mlp, set_seed
from regutils.sharpness import (
    hessian_vector_product,
    rescale_relu_layers,
    top_hessian_eigenvalue,
)


def _tiny():
    set_seed(0)
    model = mlp(4, (5,), 3).double()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(20, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (20,), generator=g)
    return model, (X, y)


def _full_hessian(model, X, y):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])

    def loss(theta):
        params, i = {}, 0
        for n, s in zip(names, shapes):
            params[n] = theta[i : i + s.numel()].view(s)
            i += s.numel()
        return F.cross_entropy(functional_call(model, params, (X,)), y)

    return torch.autograd.functional.hessian(loss, flat)


def test_hessian_vector_product_matches_full_hessian():
    model, (X, y) = _tiny()
    H = _full_hessian(model, X, y)
    params = list(model.parameters())
    v = [torch.randn_like(p) for p in params]
    hv = hessian_vector_product(F.cross_entropy(model(X), y), params, v)
    flat = torch.cat([h.flatten() for h in hv])
    expected = H @ torch.cat([u.flatten() for u in v])
    assert torch.allclose(flat, expected, atol=1e-10)


def test_power_iteration_finds_largest_magnitude_eigenvalue():
    model, data = _tiny()
    eig = torch.linalg.eigvalsh(_full_hessian(model, *data))
    top = eig[eig.abs().argmax()].item()
    found = top_hessian_eigenvalue(model, data, iterations=2000, tol=1e-12)
    assert found == pytest.approx(top, rel=1e-6)


def test_rescaling_keeps_the_function_and_changes_sharpness():
    model, (X, y) = _tiny()
    scaled = rescale_relu_layers(model, 10.0)
    assert torch.allclose(scaled(X), model(X), atol=1e-10)
    assert model[0].weight is not scaled[0].weight  # a copy
    sharp = top_hessian_eigenvalue(model, (X, y), iterations=500)
    sharper = top_hessian_eigenvalue(scaled, (X, y), iterations=500)
    assert abs(sharper) > 10 * abs(sharp)


def test_mode_is_restored_and_model_unchanged():
    model, data = _tiny()
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    top_hessian_eigenvalue(model, data, iterations=5)
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_bad_arguments():
    model, data = _tiny()
    with pytest.raises(ValueError, match="alpha"):
        rescale_relu_layers(model, 0.0)
    with pytest.raises(ValueError, match="layer"):
        rescale_relu_layers(model, 2.0, layer=1)
    with pytest.raises(TypeError, match="nn.Sequential"):
        rescale_relu_layers(nn.Linear(2, 2), 2.0)
    with pytest.raises(ValueError, match="ReLU"):
        rescale_relu_layers(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2)), 2.0)
    with pytest.raises(ValueError, match="iterations"):
        top_hessian_eigenvalue(model, data, iterations=0)
    with pytest.raises(ValueError, match="tol"):
        top_hessian_eigenvalue(model, data, tol=0.0)
    with pytest.raises(TypeError, match="model"):
        top_hessian_eigenvalue("model", data)
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        hessian_vector_product(w * 2, [w], [torch.ones(2)])
    with pytest.raises(ValueError, match="one tensor per parameter"):
        hessian_vector_product((w**2).sum(), [w], [torch.ones(3)])
