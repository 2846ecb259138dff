"""Data for the chapters: small, in memory, and offline by default.

* :func:`load_digits` -- scikit-learn's bundled 8x8 handwritten digits, split with a
  deliberately small training set so that a wide network overfits it;
  :func:`resize_train` changes the training set's size and keeps the validation set.
* :func:`make_polynomial_data` -- noisy samples of a cubic, for the overfitting curve.
* :func:`make_sparse_regression` -- a linear problem where few features matter (L1).
* :func:`load_digits_canvas` -- the same digits placed at random positions in a larger
  canvas: a data set where position varies (weight sharing and shifts matter there).
* :func:`corrupt_labels` -- label noise: a given fraction of labels replaced by wrong ones.
* :func:`load_torchvision` -- opt-in: a larger torchvision dataset, downloaded once.

Every loader returns a :class:`Split` of ``(X, y)`` tensor pairs, the form
:func:`regutils.fit` takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from sklearn.datasets import load_digits as _sk_load_digits
from sklearn.datasets import make_regression
from sklearn.model_selection import train_test_split

from regutils._checks import check_choice, check_float, check_int
from regutils.seed import shifted

Pair = tuple[torch.Tensor, torch.Tensor]


class Split(NamedTuple):
    """Train, validation and test ``(X, y)`` pairs (``test`` may be ``None``)."""

    train: Pair
    val: Pair
    test: Pair | None = None


DIGITS_SPLIT_SEED = 0  # the split is part of the reference setup: every chapter sees the same one


def load_digits(
    *,
    n_train: int = 200,
    n_val: int = 500,
    flatten: bool = True,
    seed: int = DIGITS_SPLIT_SEED,
) -> Split:
    r"""Load scikit-learn's handwritten digits, split into train / validation / test.

    1,797 grayscale 8x8 images of the digits 0-9 ship inside scikit-learn, so
    nothing is downloaded. Pixels are scaled from 0..16 to :math:`[0, 1]`. The
    split is stratified (every class in the same proportion in every part); what
    is left after ``n_train + n_val`` images is the test set.

    The default training set of 200 images is deliberately small: a wide MLP
    fits it perfectly while validation accuracy lags behind. That is the
    book's reference overfitting setup.

    Args:
        n_train (int): training images. Default: 200.
        n_val (int): validation images. Default: 500.
        flatten (bool): ``True`` gives ``X`` of shape ``(N, 64)`` for an MLP;
            ``False`` gives ``(N, 1, 8, 8)`` for a CNN. Default: ``True``.
        seed (int): seed of the split (not of training): another seed draws another
            split with the same sizes, e.g. to check that a result is not a property of
            the book's 200 images and 500 validation images. The seed shift of
            :mod:`regutils.seed` does not move it. Default: 0, the reference split.

    Returns:
        Split: ``train``, ``val`` and ``test`` pairs; ``X`` is ``float32``,
        ``y`` is ``int64`` with values 0-9.

    Raises:
        ValueError: if the sizes are too small or do not fit in 1,797 images.

    Example::

        >>> data = load_digits()
        >>> X, y = data.train
        >>> X.shape, y.shape, X.dtype, y.dtype
        (torch.Size([200, 64]), torch.Size([200]), torch.float32, torch.int64)
        >>> len(data.val[0]), len(data.test[0])
        (500, 1097)
    """
    n_train = check_int("n_train", n_train, minimum=10)
    n_val = check_int("n_val", n_val, minimum=10)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool, but got {type(flatten).__name__}")
    digits = _sk_load_digits()
    n_total = len(digits.target)
    if n_train + n_val > n_total - 10:
        raise ValueError(
            f"n_train + n_val must leave at least 10 of the {n_total} images for the test set, "
            f"but got n_train={n_train}, n_val={n_val}"
        )
    X = (digits.data / 16.0).astype(np.float32)  # (1797, 64), pixels in [0, 1]
    y = digits.target.astype(np.int64)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=n_train, stratify=y, random_state=seed
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, train_size=n_val, stratify=y_rest, random_state=seed
    )

    def pair(X: np.ndarray, y: np.ndarray) -> Pair:
        X = torch.from_numpy(X)
        if not flatten:
            X = X.reshape(-1, 1, 8, 8)  # (N, C, H, W)
        return X, torch.from_numpy(y)

    return Split(pair(X_train, y_train), pair(X_val, y_val), pair(X_test, y_test))


def resize_train(data: Split, n_train: int, *, seed: int = DIGITS_SPLIT_SEED) -> Split:
    """The same split with ``n_train`` training images and the validation set unchanged.

    For comparing training-set sizes like with like: every size is scored on the
    same validation images, and the training sets are nested (a smaller one is
    inside a larger one). A smaller training set is a stratified subset of
    ``data.train``; a larger one is ``data.train`` plus a stratified draw from
    ``data.test``, which loses those images.

    Args:
        data (Split): a split with a test set, e.g. :func:`load_digits`'s.
        n_train (int): training images, at least 10; more than ``data.train``
            must leave at least 10 test images.
        seed (int): seed of the draw. Default: 0.

    Returns:
        Split: ``(train, val, test)`` with ``val`` the very same tensors.

    Raises:
        ValueError: if ``data`` has no test set or ``n_train`` is out of range.

    Example::

        >>> data = load_digits()
        >>> small, large = resize_train(data, 100), resize_train(data, 400)
        >>> len(small.train[0]), len(large.train[0]), len(large.test[0])
        (100, 400, 897)
        >>> small.val[0] is data.val[0]
        True
    """
    if not isinstance(data, Split) or data.test is None:
        raise ValueError("data must be a Split with a test set, e.g. load_digits()")
    seed = check_int("seed", seed, minimum=0)
    (X, y), (X_test, y_test) = data.train, data.test
    n_train = check_int("n_train", n_train, minimum=10)
    if n_train - len(y) > len(y_test) - 10:
        raise ValueError(
            f"n_train must leave at least 10 of the {len(y) + len(y_test)} training and test "
            f"images for the test set, but got n_train={n_train}"
        )
    if n_train == len(y):
        return data

    def draw(labels: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        """A stratified draw of k of the indices of labels, and the rest."""
        index = np.arange(len(labels))
        stratify = labels.numpy() if min(k, len(labels) - k) >= 10 else None
        return train_test_split(index, train_size=k, stratify=stratify, random_state=seed)

    if n_train < len(y):
        keep, _ = draw(y, n_train)
        return Split((X[keep], y[keep]), data.val, data.test)
    extra, rest = draw(y_test, n_train - len(y))
    train = (torch.cat([X, X_test[extra]]), torch.cat([y, y_test[extra]]))
    return Split(train, data.val, (X_test[rest], y_test[rest]))


def load_digits_canvas(
    *,
    canvas: int = 12,
    n_train: int = 200,
    n_val: int = 500,
    flatten: bool = False,
    seed: int = DIGITS_SPLIT_SEED,
) -> Split:
    r"""The digits of :func:`load_digits`, each placed at a random position in a larger canvas.

    Every 8x8 image is pasted into a ``canvas`` x ``canvas`` image of zeros at an offset drawn
    uniformly from the :math:`(\text{canvas} - 7)^2` positions where it fits, one offset per
    image, in every part of the split. The images, labels and split are those of
    ``load_digits(n_train=..., n_val=..., seed=seed)``: only the position changes, so a
    comparison with the centered digits isolates what position does. A network that must
    learn each digit at every position from a few hundred images needs the priors of
    weight sharing (a convolution, global pooling) or of shift augmentation.

    The offsets are part of the data set: they are drawn from ``seed`` (the split's seed), and
    the seed shift of :mod:`regutils.seed` does not move them.

    Args:
        canvas (int): side of the canvas, at least 8. Default: 12 (25 positions).
        n_train, n_val (int): as :func:`load_digits`. Defaults: 200 and 500.
        flatten (bool): ``True`` gives ``X`` of shape ``(N, canvas**2)`` for an MLP; ``False``
            gives ``(N, 1, canvas, canvas)`` for a CNN. Default: ``False``.
        seed (int): seed of the split and of the offsets. Default: 0, the book's split.

    Returns:
        Split: ``train``, ``val`` and ``test`` pairs, ``X`` float32 in :math:`[0, 1]`.

    Raises:
        TypeError, ValueError: for arguments of the wrong type or out of range.

    Example::

        >>> data = load_digits_canvas(canvas=12)
        >>> X, y = data.train
        >>> X.shape, torch.equal(y, load_digits().train[1])
        (torch.Size([200, 1, 12, 12]), True)
        >>> torch.allclose(X.sum(dim=(1, 2, 3)), load_digits().train[0].sum(dim=1))
        True
    """
    canvas = check_int("canvas", canvas, minimum=8)
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool, but got {type(flatten).__name__}")
    data = load_digits(n_train=n_train, n_val=n_val, flatten=False, seed=seed)
    g = torch.Generator().manual_seed(10_000 + seed)  # data, not training: never shifted
    room = canvas - 8 + 1  # offsets 0 .. canvas - 8 in each direction

    def place(pair: Pair) -> Pair:
        X, y = pair
        out = torch.zeros(len(X), 1, canvas, canvas)
        rows = torch.randint(0, room, (len(X),), generator=g)
        cols = torch.randint(0, room, (len(X),), generator=g)
        for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())):
            out[i, :, r : r + 8, c : c + 8] = X[i]
        return (out.flatten(1) if flatten else out), y

    return Split(place(data.train), place(data.val), place(data.test))


def corrupt_labels(
    y: torch.Tensor, rate: float, *, seed: int, n_classes: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Label noise: a fraction ``rate`` of the labels replaced by a wrong class at random.

    Exactly :math:`\lfloor \text{rate} \cdot N \rceil` labels, chosen at random, each get a
    class drawn uniformly from the *other* classes, so the fraction of wrong labels is ``rate``
    (Zhang et al. 2017 replace labels by uniform draws, which keep about one in ten right;
    here every replaced label is wrong). The draw comes from ``seed`` plus the seed shift of
    :mod:`regutils.seed`: label noise is a random draw of the experiment, like a mask.

    Args:
        y (Tensor): ``(N,)`` integer labels.
        rate (float): the fraction to corrupt, in [0, 1].
        seed (int): seed of the draw.
        n_classes (int, optional): number of classes. Default: ``y.max() + 1``.

    Returns:
        tuple: ``(noisy, wrong)``: the new labels, and the boolean mask of those changed.

    Raises:
        TypeError, ValueError: for arguments of the wrong type or out of range.

    Example::

        >>> y = load_digits().train[1]
        >>> noisy, wrong = corrupt_labels(y, 0.25, seed=0)
        >>> int(wrong.sum()), bool((noisy[wrong] != y[wrong]).all()), torch.equal(
        ...     noisy[~wrong], y[~wrong])
        (50, True, True)
    """
    from regutils.seed import torch_generator

    if not isinstance(y, torch.Tensor) or y.ndim != 1 or torch.is_floating_point(y):
        raise TypeError(f"y must be a 1-D tensor of integer labels, but got {y!r:.60}")
    rate = check_float("rate", rate, minimum=0.0, maximum=1.0)
    seed = check_int("seed", seed, minimum=0)
    n_classes = int(y.max()) + 1 if n_classes is None else check_int("n_classes", n_classes)
    if n_classes < 2 or int(y.max()) >= n_classes or int(y.min()) < 0:
        raise ValueError(
            f"n_classes must be at least 2 and above every label, but got {n_classes} for "
            f"labels from {int(y.min())} to {int(y.max())}"
        )
    g = torch_generator(seed)
    k = round(rate * len(y))
    chosen = torch.randperm(len(y), generator=g)[:k]
    # a uniform draw among the n_classes - 1 other classes: add 1 .. n_classes - 1, modulo
    step = torch.randint(1, n_classes, (k,), generator=g)
    noisy = y.clone()
    noisy[chosen] = (y[chosen] + step) % n_classes
    wrong = torch.zeros(len(y), dtype=torch.bool)
    wrong[chosen] = True
    return noisy, wrong


#: The cubic of chapter 1, as coefficients (c0, c1, c2, c3) of c0 + c1 x + c2 x^2 + c3 x^3.
TRUE_CUBIC = (0.0, -1.0, 0.5, 1.5)


def make_polynomial_data(
    *,
    n_train: int = 20,
    n_val: int = 200,
    noise: float = 0.3,
    coefficients: tuple[float, ...] = TRUE_CUBIC,
    seed: int = 0,
) -> Split:
    r"""Noisy samples of a polynomial, for watching a model overfit.

    .. math::

        x \sim \mathcal{U}(-1, 1), \qquad
        y = \sum_k c_k x^k + \varepsilon, \qquad
        \varepsilon \sim \mathcal{N}(0, \text{noise}^2)

    Args:
        n_train (int): training points. Default: 20.
        n_val (int): validation points. Default: 200.
        noise (float): standard deviation of the noise. Default: 0.3.
        coefficients (tuple of float): :math:`c_0, c_1, \dots`, lowest power
            first. Default: a cubic, ``TRUE_CUBIC = (0, -1, 0.5, 1.5)``.
        seed (int): seed of the sample; the seed shift of :mod:`regutils.seed` is added.
            Default: 0.

    Returns:
        Split: ``train`` and ``val`` pairs (``test`` is ``None``), each ``(x, y)``
        of shape ``(N,)`` and ``float64`` (least squares on high powers of ``x``
        needs the precision).

    Example::

        >>> data = make_polynomial_data(n_train=5)
        >>> x, y = data.train
        >>> x.shape, y.dtype
        (torch.Size([5]), torch.float64)
    """
    n_train = check_int("n_train", n_train, minimum=1)
    n_val = check_int("n_val", n_val, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    if len(coefficients) == 0:
        raise ValueError("coefficients must hold at least one number, but got an empty tuple")
    coefficients = tuple(check_float("coefficients[k]", c) for c in coefficients)
    rng = np.random.default_rng(shifted(seed))  # the seed shift applies (regutils.seed)

    def sample(n: int) -> Pair:
        x = rng.uniform(-1.0, 1.0, size=n)
        y = np.polynomial.polynomial.polyval(x, coefficients) + noise * rng.standard_normal(n)
        return torch.from_numpy(x), torch.from_numpy(y)

    return Split(sample(n_train), sample(n_val))


def make_sparse_regression(
    *,
    n_samples: int = 100,
    n_features: int = 50,
    n_informative: int = 5,
    noise: float = 1.0,
    val_fraction: float = 0.5,
    seed: int = 0,
) -> tuple[Split, torch.Tensor]:
    r"""A linear regression problem in which only a few features matter.

    .. math::

        y = X w^\star + \varepsilon, \qquad
        \|w^\star\|_0 = \text{n\_informative}

    Built on scikit-learn's ``make_regression`` with ``coef=True``, so the
    true weights :math:`w^\star` come back too: an L1-penalized fit should
    recover their non-zero pattern.

    Args:
        n_samples (int): samples before the split. Default: 100.
        n_features (int): features in total. Default: 50.
        n_informative (int): features with a non-zero true weight. Default: 5.
        noise (float): standard deviation of the noise on ``y``. Default: 1.0.
        val_fraction (float): fraction held out for validation, in (0, 1).
            Default: 0.5.
        seed (int): seed of the problem; the seed shift of :mod:`regutils.seed` is added.
            Default: 0.

    Returns:
        tuple: ``(split, true_coef)``; ``split.train`` and ``split.val`` are
        ``(X, y)`` ``float64`` pairs, ``true_coef`` has shape ``(n_features,)``.

    Raises:
        ValueError: if ``n_informative > n_features`` or a size is out of range.

    Example::

        >>> data, w_true = make_sparse_regression(n_features=20, n_informative=3)
        >>> int((w_true != 0).sum())
        3
    """
    n_samples = check_int("n_samples", n_samples, minimum=4)
    n_features = check_int("n_features", n_features, minimum=1)
    n_informative = check_int("n_informative", n_informative, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    val_fraction = check_float(
        "val_fraction", val_fraction, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True
    )
    seed = check_int("seed", seed, minimum=0)
    if n_informative > n_features:
        raise ValueError(
            f"n_informative must be <= n_features ({n_features}), but got {n_informative}"
        )
    X, y, coef = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        noise=noise,
        coef=True,
        random_state=shifted(seed),  # the seed shift applies (regutils.seed)
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=val_fraction, random_state=shifted(seed)
    )
    as_t = torch.from_numpy
    split = Split((as_t(X_train), as_t(y_train)), (as_t(X_val), as_t(y_val)))
    return split, as_t(coef)


TORCHVISION_DATASETS = ("MNIST", "FashionMNIST")


def load_torchvision(
    name: str = "FashionMNIST",
    *,
    root: str | Path = "~/.cache/regutils",
    n_train: int | None = None,
    download: bool = True,
) -> Split:
    r"""Opt-in: a larger image dataset from torchvision, for readers who are online.

    The chapters never call this by default: it downloads about 30 MB the first
    time. Use it in a chapter's "scale it up" section, in Colab for instance.
    Images become ``float32`` in :math:`[0, 1]` of shape ``(N, 1, 28, 28)``; the
    official test set is split in half into validation and test.

    Args:
        name (str): ``"MNIST"`` or ``"FashionMNIST"``. Default: ``"FashionMNIST"``.
        root (str or Path): where the files are kept. Default: ``~/.cache/regutils``.
        n_train (int, optional): keep only the first ``n_train`` training images
            (to make overfitting visible). Default: all 60,000.
        download (bool): fetch the files if they are missing. Default: ``True``.

    Returns:
        Split: ``train``, ``val`` and ``test`` pairs.

    Raises:
        ValueError: if ``name`` is not ``"MNIST"`` or ``"FashionMNIST"``.
        RuntimeError: if torchvision is missing, or the files are missing and
            cannot be downloaded (no network); the message says what to do.
    """
    check_choice("name", name, TORCHVISION_DATASETS)
    if n_train is not None:
        n_train = check_int("n_train", n_train, minimum=1)
    try:
        import torchvision
    except ImportError as err:  # pragma: no cover - torchvision is in requirements.txt
        raise RuntimeError("load_torchvision needs torchvision: pip install torchvision") from err
    root = Path(root).expanduser()
    dataset_cls = getattr(torchvision.datasets, name)
    try:
        train = dataset_cls(root=root, train=True, download=download)
        test = dataset_cls(root=root, train=False, download=download)
    except (OSError, RuntimeError) as err:
        raise RuntimeError(
            f"could not load {name} from {root}: {err}. "
            "Downloading it needs a network connection (this loader is opt-in; "
            "every chapter runs offline with load_digits()). Connect and retry, "
            "or copy the files into that folder and pass download=False."
        ) from err

    def pair(ds, start: int = 0, stop: int | None = None) -> Pair:
        X = ds.data[start:stop].float().div(255.0).unsqueeze(1)  # (N, 1, 28, 28)
        return X, ds.targets[start:stop].long()

    half = len(test.data) // 2
    return Split(pair(train, 0, n_train), pair(test, 0, half), pair(test, half))
