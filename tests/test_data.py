import pytest
import torch

from regutils import (
    corrupt_labels,
    load_digits,
    load_digits_canvas,
    load_torchvision,
    make_polynomial_data,
    make_sparse_regression,
    resize_train,
)


def test_digits_split_is_disjoint_stratified_and_scaled():
    data = load_digits()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = data
    assert (len(Xtr), len(Xva), len(Xte)) == (200, 500, 1097)
    assert Xtr.min() >= 0 and Xtr.max() <= 1
    # every class present in proportion: 200 images, 10 classes, about 20 each
    counts = torch.bincount(ytr, minlength=10)
    assert counts.min() >= 18 and counts.max() <= 22
    rows = {tuple(x.tolist()) for x in torch.cat([Xtr, Xva, Xte])}
    assert len(rows) > 1700  # the three parts do not share images (few exact duplicates exist)


def test_digits_same_seed_same_split_and_cnn_shape():
    a, b = load_digits(), load_digits(flatten=False)
    assert torch.equal(a.train[0], b.train[0].reshape(-1, 64))
    assert b.train[0].shape[1:] == (1, 8, 8)
    assert not torch.equal(load_digits(seed=1).train[1], a.train[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_train": 5}, "n_train"),
        ({"n_val": 2000}, "n_train \\+ n_val"),
        ({"flatten": 1}, "flatten"),
    ],
)
def test_digits_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        load_digits(**kwargs)


def test_polynomial_data_follows_the_polynomial():
    data = make_polynomial_data(n_train=500, noise=0.0, coefficients=(1.0, 2.0))
    x, y = data.train
    assert torch.allclose(y, 1 + 2 * x)
    assert data.test is None
    with pytest.raises(ValueError, match="noise"):
        make_polynomial_data(noise=-1)


def test_sparse_regression_has_few_informative_features():
    data, coef = make_sparse_regression(n_samples=40, n_features=12, n_informative=3, noise=0.0)
    X, y = data.train
    assert int((coef != 0).sum()) == 3
    # without noise and bias, y is exactly X @ coef
    assert torch.allclose(X @ coef, y)
    with pytest.raises(ValueError, match="n_informative"):
        make_sparse_regression(n_features=3, n_informative=4)


def test_torchvision_loader_explains_a_failed_download(monkeypatch, tmp_path):
    import torchvision

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(RuntimeError, match="network connection.*load_digits"):
        load_torchvision("MNIST", root=tmp_path)
    with pytest.raises(ValueError, match="'MNIST', 'FashionMNIST'"):
        load_torchvision("CIFAR10")


def test_resize_train_keeps_validation_and_nests_training_sets():
    data = load_digits()
    small, large = resize_train(data, 100), resize_train(data, 400)
    assert small.val[0] is data.val[0] and large.val[0] is data.val[0]
    rows = {tuple(r.tolist()) for r in data.train[0]}
    assert {tuple(r.tolist()) for r in small.train[0]} <= rows, "100 inside the 200"
    assert rows <= {tuple(r.tolist()) for r in large.train[0]}, "200 inside the 400"
    assert len(large.test[0]) == len(data.test[0]) - 200
    total = torch.cat([large.train[0], large.test[0]])
    assert len({tuple(r.tolist()) for r in total}) == len(
        {tuple(r.tolist()) for r in torch.cat([data.train[0], data.test[0]])}
    ), "train and test keep their images between them"
    assert torch.bincount(small.train[1]).tolist() == [10] * 10, "stratified"
    assert resize_train(data, 200) is data


@pytest.mark.parametrize(
    "n_train, error, match",
    [(5, ValueError, "n_train must be an int >= 10"), (1.5, TypeError, "n_train"),
     (1300, ValueError, "at least 10")],
)  # fmt: skip
def test_resize_train_bad_arguments(n_train, error, match):
    with pytest.raises(error, match=match):
        resize_train(load_digits(), n_train)


# --- position varies: the digits in a larger canvas ----------------------------------------------


def test_canvas_holds_each_digit_unchanged_at_one_offset():
    plain = load_digits(flatten=False)
    placed = load_digits_canvas(canvas=12)
    for (X8, y8), (X, y) in zip(plain, placed):
        assert torch.equal(y, y8) and X.shape == (len(X8), 1, 12, 12)
        for i in [0, 7, len(X) - 1]:
            rows, cols = X[i, 0].nonzero(as_tuple=True)
            r = int(rows.min()) - int(X8[i, 0].nonzero(as_tuple=True)[0].min())
            c = int(cols.min()) - int(X8[i, 0].nonzero(as_tuple=True)[1].min())
            assert 0 <= r <= 4 and 0 <= c <= 4
            assert torch.equal(X[i, 0, r : r + 8, c : c + 8], X8[i, 0])
            assert X[i].sum() == X8[i].sum()  # nothing else on the canvas


def test_canvas_positions_vary_and_are_data(monkeypatch):
    X = load_digits_canvas(canvas=12).train[0]
    centers = (X[:, 0].sum(dim=1) > 0).float().argmax(dim=1)  # first inked column per image
    assert len(torch.unique(centers)) >= 4
    monkeypatch.setenv("REGUTILS_SEED_SHIFT", "1000")  # the shift does not move the data
    assert torch.equal(load_digits_canvas(canvas=12).train[0], X)
    assert not torch.equal(load_digits_canvas(canvas=12, seed=1).train[0], X)
    assert load_digits_canvas(canvas=10, flatten=True).val[0].shape == (500, 100)


@pytest.mark.parametrize("bad, error", [({"canvas": 7}, ValueError), ({"flatten": 1}, TypeError)])
def test_canvas_bad_arguments(bad, error):
    with pytest.raises(error, match=next(iter(bad))):
        load_digits_canvas(**bad)


# --- label noise ---------------------------------------------------------------------------------


def test_corrupt_labels_changes_exactly_the_fraction_asked_to_wrong_classes():
    y = load_digits().train[1]
    for rate in [0.0, 0.1, 0.33, 1.0]:
        noisy, wrong = corrupt_labels(y, rate, seed=3)
        assert int(wrong.sum()) == round(rate * len(y))
        assert (noisy[wrong] != y[wrong]).all() and torch.equal(noisy[~wrong], y[~wrong])
        assert noisy.min() >= 0 and noisy.max() <= 9 and noisy.dtype == y.dtype


def test_corrupt_labels_draws_every_other_class_and_follows_the_seed(monkeypatch):
    y = torch.zeros(3000, dtype=torch.long)
    noisy, _ = corrupt_labels(y, 1.0, seed=0, n_classes=10)
    counts = torch.bincount(noisy, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 250  # about 333 each
    again, _ = corrupt_labels(y, 1.0, seed=0, n_classes=10)
    assert torch.equal(again, noisy)
    monkeypatch.setenv("REGUTILS_SEED_SHIFT", "5")  # label noise is a draw: the shift moves it
    shifted_draw = corrupt_labels(y, 1.0, seed=0, n_classes=10)[0]
    monkeypatch.delenv("REGUTILS_SEED_SHIFT")
    assert torch.equal(shifted_draw, corrupt_labels(y, 1.0, seed=5, n_classes=10)[0])


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((torch.tensor([0.5, 1.0]), 0.1), TypeError, "integer labels"),
        ((torch.tensor([0, 1]), 1.5), ValueError, "rate"),
        ((torch.tensor([0, 1]), 0.5, {"n_classes": 1}), ValueError, "n_classes"),
        ((torch.tensor([0, 5]), 0.5, {"n_classes": 3}), ValueError, "n_classes"),
    ],
)
def test_corrupt_labels_bad_arguments(args, error, match):
    kwargs = args[2] if len(args) == 3 else {}
    with pytest.raises(error, match=match):
        corrupt_labels(args[0], args[1], seed=0, **kwargs)
