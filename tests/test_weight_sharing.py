import pytest
import torch
from torch import nn
from torch.nn import functional as F

from regutils import LocallyConnected2d, small_cnn
from regutils.exercises.weight_sharing import layer_parameters, shared_gradient


def loop_oracle(layer, x):
    """The locally connected layer written as loops over output positions."""
    k, s = layer.kernel_size, layer.stride
    padded = F.pad(x, [layer.padding] * 4)
    h_out, w_out = layer.out_size
    out = torch.empty(len(x), layer.out_channels, h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            patch = padded[:, :, i * s : i * s + k, j * s : j * s + k].reshape(len(x), -1)
            out[:, :, i, j] = patch @ layer.weight[i * w_out + j].T
            if layer.bias is not None:
                out[:, :, i, j] += layer.bias[:, i, j]
    return out


@pytest.mark.parametrize(
    "c_in, c_out, size, k, padding, stride, bias",
    [
        (1, 4, 8, 3, 1, 1, True),
        (3, 2, (6, 5), 3, 0, 1, True),
        (2, 3, 7, 2, 1, 2, False),
        (2, 5, 4, 1, 0, 1, True),
    ],
)
def test_locally_connected_matches_loops(c_in, c_out, size, k, padding, stride, bias):
    torch.manual_seed(0)
    layer = LocallyConnected2d(c_in, c_out, size, k, padding=padding, stride=stride, bias=bias)
    layer.double()
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.normal_()  # nonzero and different at every position
    x = torch.randn(3, c_in, *layer.in_size, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (3, c_out, *layer.out_size)
    torch.testing.assert_close(out, loop_oracle(layer, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding, stride", [(1, 1), (0, 1), (1, 2)])
def test_tied_locally_connected_is_a_convolution(padding, stride):
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3, padding=padding, stride=stride).double()
    layer = LocallyConnected2d(3, 4, 8, 3, padding=padding, stride=stride).double()
    with torch.no_grad():  # the same filter and bias at every position
        layer.weight.copy_(conv.weight.reshape(4, -1).expand_as(layer.weight))
        layer.bias.copy_(conv.bias[:, None, None].expand_as(layer.bias))
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(layer(x), conv(x), rtol=1e-12, atol=1e-12)


def test_untied_positions_are_independent():
    # Changing the filter of one position changes the output there and nowhere else.
    layer = LocallyConnected2d(1, 2, 5, 3, padding=1)
    x = torch.randn(1, 1, 5, 5)
    before = layer(x).detach()
    with torch.no_grad():
        layer.weight[7] += 1.0  # position (1, 2)
    changed = (layer(x).detach() != before).any(dim=1)[0]
    assert changed[1, 2] and changed.sum() == 1


def test_parameter_counts_and_initialization():
    layer = LocallyConnected2d(16, 32, 4, 3, padding=1)
    assert layer.weight.shape == (16, 32, 144) and layer.bias.shape == (32, 4, 4)
    assert sum(p.numel() for p in layer.parameters()) == 16 * (32 * 144 + 32)
    assert layer.weight.abs().max() <= 1 / 12  # 1 / sqrt(16 * 9), as nn.Conv2d
    counts = {
        c: sum(p.numel() for p in small_cnn(connectivity=c).parameters())
        for c in ("conv", "local", "full")
    }
    assert counts == {"conv": 6090, "local": 85770, "full": 199434}
    for c in counts:
        expected = sum(layer_parameters(c, a, b, s, 3) for a, b, s in [(1, 16, 8), (16, 32, 4)])
        assert counts[c] == expected + 32 * 4 * 10 + 10  # the same linear head


def test_matched_networks_share_shapes_and_differ_in_wiring():
    x = torch.randn(4, 1, 8, 8)
    for c in ("conv", "local", "full"):
        model = small_cnn(connectivity=c)
        assert model(x).shape == (4, 10)
    kinds = [type(m) for m in small_cnn(connectivity="local")]
    assert kinds[:3] == [LocallyConnected2d, nn.ReLU, nn.MaxPool2d]
    assert nn.Linear in [type(m) for m in small_cnn(connectivity="full")[:3]]
    assert [type(m) for m in small_cnn()] == [type(m) for m in small_cnn(connectivity="conv")]


def test_shared_gradient_is_the_sum_of_the_copies_gradients():
    # Autograd as the oracle: tie the positions to one conv weight and differentiate.
    torch.manual_seed(2)
    conv_weight = torch.randn(4, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    local = conv_weight.reshape(4, -1).expand(36, 4, 18)
    local.retain_grad()
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64)
    patches = F.unfold(x, 3, padding=1)
    torch.einsum("njl,loj->nol", patches, local).pow(2).sum().backward()
    torch.testing.assert_close(shared_gradient(local.grad, 2, 3), conv_weight.grad)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((0, 4, 8, 3), {}, ValueError, "in_channels must be an int >= 1, but got 0"),
        ((1, 4, 8, 3.0), {}, TypeError, "kernel_size must be an int"),
        ((1, 4, (8, 8, 8), 3), {}, ValueError, "in_size must be an int or a pair"),
        ((1, 4, 2, 5), {"padding": 1}, ValueError, "kernel_size must fit"),
        ((1, 4, 8, 3), {"stride": 0}, ValueError, "stride"),
        ((1, 4, 8, 3), {"bias": 1}, TypeError, "bias must be a bool"),
    ],
)
def test_locally_connected_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        LocallyConnected2d(*args, **kwargs)


def test_locally_connected_rejects_another_input_size():
    with pytest.raises(ValueError, match=r"input must have shape \(N, 1, 8, 8\), but got"):
        LocallyConnected2d(1, 4, 8, 3, padding=1)(torch.zeros(2, 1, 6, 6))


def test_small_cnn_bad_connectivity():
    with pytest.raises(ValueError, match="connectivity must be one of 'conv', 'local', 'full'"):
        small_cnn(connectivity="dense")
