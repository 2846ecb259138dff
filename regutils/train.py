"""The training loop: :func:`fit` and :func:`evaluate`.

One epoch of :func:`fit`, in the order of the book's maths::

    for each mini-batch (x, y):
        x, y = augment(x, y)                             # optional, fresh randomness each step
        loss = loss_fn(model(x), y) + penalty(model)    # J(w) = L(w) + Omega(w)
        loss.backward()                                  # grad J
        optimizer.step()                                 # w <- w - lr * grad J
        callbacks.on_batch_end(state)                    # e.g. a max-norm constraint
    measure train / validation metrics; callbacks.on_epoch_end(state)  # e.g. early stopping

Data stays in memory as tensors: mini-batches are index slices of a random
permutation, with no DataLoader overhead for small datasets.

Two choices make the book's small models fast on a laptop CPU, busy or not (measured
by ``make bench``, section "A busy machine"): :func:`fit` runs on **one CPU thread**
by default (torch's own setting is restored when it returns), and the named
optimizers use PyTorch's **fused** implementation where the installed torch has one.
With torch's default of one thread per core, every small matrix product waits for
all cores, so a single other busy program can slow training several times over; one
thread does not wait for anybody.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from regutils._checks import check_choice, check_float, check_int, check_module
from regutils.callbacks import Callback, TrainState
from regutils.history import History

Pair = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Augment = Callable[[torch.Tensor, torch.Tensor], Pair]

OPTIMIZERS = ("sgd", "adam", "adamw")
LOSSES = ("auto", "cross_entropy", "mse")
DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device`` into a device.

    ``"auto"`` picks CUDA when available, else the CPU. The book's small
    experiments default to the CPU: on the reference digits MLP a GPU was
    measured slower than a CPU, because tiny kernels are launch-bound.

    Example::

        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    check_choice("device", device, DEVICES)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError('device="cuda" was asked for, but no CUDA GPU is available: use "cpu"')
    return torch.device(device)


def as_pair(name: str, data: object) -> Pair:
    """Check ``data`` is an ``(X, y)`` pair of tensors (or a 2-tensor TensorDataset)."""
    if isinstance(data, TensorDataset):
        data = data.tensors
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(
            f"{name} must be an (X, y) pair of tensors or a TensorDataset of two tensors, "
            f"but got {type(data).__name__}"
        )
    X, y = data
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(
            f"{name} must hold two tensors, but got ({type(X).__name__}, {type(y).__name__})"
        )
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"{name} must hold X and y with the same, non-zero number of rows, "
            f"but got {len(X)} and {len(y)}"
        )
    return X, y


def _resolve_loss(loss: str | LossFn, y: torch.Tensor) -> tuple[LossFn, bool]:
    """The loss function, and whether the task is classification (accuracy is measured)."""
    classification = not torch.is_floating_point(y)
    if callable(loss):
        return loss, classification
    check_choice("loss", loss, LOSSES)
    if loss == "auto":
        loss = "cross_entropy" if classification else "mse"
    if loss == "cross_entropy":
        return F.cross_entropy, classification

    def mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out.reshape(target.shape), target)  # (N, 1) outputs vs (N,) targets

    return mse, classification


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Pair | TensorDataset,
    *,
    loss: str | LossFn = "auto",
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    r"""Loss (and accuracy, for classification) of ``model`` on ``data``, in eval mode.

    The model is put in evaluation mode (dropout off, batch norm on running
    statistics) and returned to the mode it was in.

    Args:
        model (nn.Module): the model.
        data: an ``(X, y)`` pair of tensors or a ``TensorDataset``.
        loss (str or callable): ``"auto"`` (cross-entropy for integer targets,
            mean squared error for float targets), ``"cross_entropy"``, ``"mse"``
            or a function ``loss(output, target)``. Default: ``"auto"``.
        device (str or torch.device): where to compute. Default: ``"cpu"``.

    Returns:
        dict: ``{"loss": ...}``, plus ``"acc"`` in [0, 1] for classification.

    Example::

        >>> model = nn.Linear(2, 3)
        >>> sorted(evaluate(model, (torch.zeros(4, 2), torch.tensor([0, 1, 2, 0]))))
        ['acc', 'loss']
    """
    check_module("model", model)
    X, y = as_pair("data", data)
    device = resolve_device(device)
    loss_fn, classification = _resolve_loss(loss, y)
    was_training = model.training
    model.eval()
    try:
        out = model(X.to(device))
        y = y.to(device)
        result = {"loss": loss_fn(out, y).item()}
        if classification:
            result["acc"] = (out.argmax(dim=1) == y).float().mean().item()
    finally:
        model.train(was_training)
    return result


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """Run a block with ``threads`` torch CPU threads, then restore the previous setting.

    ``None`` leaves torch's setting as it is. :func:`fit` uses this so that its
    one-thread default never outlives the call.

    Example::

        >>> before = torch.get_num_threads()
        >>> with cpu_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    if threads is None:
        yield
        return
    threads = check_int("threads", threads, minimum=1)
    before = torch.get_num_threads()
    if threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fused_optimizer(
    cls: type[torch.optim.Optimizer], params: list, **options
) -> torch.optim.Optimizer:
    """``cls(params, fused=True, ...)`` where this torch has a fused kernel for the device,
    else the default implementation: the same update, computed in fewer, larger operations
    (about 1.3x faster for the reference MLP on a CPU)."""
    try:
        return cls(params, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # older torch, or no kernel for this device
        return cls(params, **options)


def check_track(track: object) -> dict[str, Pair]:
    """``fit``'s ``track`` as a dict of checked ``(X, y)`` pairs (empty for ``None``)."""
    if track is None:
        return {}
    if not isinstance(track, Mapping):
        raise TypeError(
            f"track must be a mapping of name -> (X, y), e.g. {{'test': data.test}}, "
            f"but got {type(track).__name__}"
        )
    pairs = {}
    for name, data in track.items():
        if not isinstance(name, str) or not name.isidentifier() or name in ("train", "val"):
            raise ValueError(
                "track's names must be identifiers other than 'train' and 'val' (they prefix "
                f"the recorded metrics), but got {name!r}"
            )
        pairs[name] = as_pair(f"track[{name!r}]", data)
    return pairs


def _make_optimizer(
    optimizer: str | torch.optim.Optimizer,
    model: nn.Module,
    lr: float | None,
    weight_decay: float,
    momentum: float,
    decay_bias: bool = True,
) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        if lr is not None or weight_decay or momentum or not decay_bias:
            raise ValueError(
                "lr, weight_decay, momentum and decay_bias configure a named optimizer; with "
                "an optimizer instance, set them on the instance instead (got "
                f"lr={lr}, weight_decay={weight_decay}, momentum={momentum}, "
                f"decay_bias={decay_bias})"
            )
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(
            "optimizer must be 'sgd', 'adam', 'adamw' or a torch.optim.Optimizer, "
            f"but got {type(optimizer).__name__}"
        )
    check_choice("optimizer", optimizer, OPTIMIZERS)
    lr = 1e-3 if lr is None else check_float("lr", lr, minimum=0.0, strict_min=True)
    params: list = list(model.parameters())
    if weight_decay and not decay_bias:  # decay the matrices only, as l2_penalty penalizes
        params = [
            {"params": [p for p in params if p.ndim >= 2]},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
    if optimizer == "sgd":
        return fused_optimizer(
            torch.optim.SGD, params, lr=lr, momentum=momentum, weight_decay=weight_decay
        )
    if momentum:
        raise ValueError(f"momentum is an SGD setting; {optimizer!r} does not take it")
    cls = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
    return fused_optimizer(cls, params, lr=lr, weight_decay=weight_decay)


def _augmented(augment: Augment, x: torch.Tensor, y: torch.Tensor) -> Pair:
    """``augment(x, y)``, checked: a pair of tensors with the same, non-zero number of rows."""
    result = augment(x, y)
    if (
        not isinstance(result, (tuple, list))
        or len(result) != 2
        or not all(isinstance(t, torch.Tensor) for t in result)
    ):
        raise TypeError(
            "augment(x, y) must return a pair of tensors (x, y), "
            f"but returned {type(result).__name__}"
        )
    if len(result[0]) != len(result[1]) or len(result[0]) == 0:
        raise ValueError(
            "augment(x, y) must return as many targets as inputs, and at least one, "
            f"but returned {len(result[0])} inputs and {len(result[1])} targets"
        )
    return result[0], result[1]


def _progress_bar(epochs: int, enabled: bool):
    if not enabled:
        return range(1, epochs + 1)
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return range(1, epochs + 1)
    return tqdm(range(1, epochs + 1), desc="fit", unit="epoch", leave=False)


def fit(
    model: nn.Module,
    train: Pair | TensorDataset,
    val: Pair | TensorDataset | None = None,
    *,
    epochs: int,
    lr: float | None = None,
    batch_size: int | None = None,
    optimizer: str | torch.optim.Optimizer = "adam",
    weight_decay: float = 0.0,
    decay_bias: bool = True,
    momentum: float = 0.0,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    augment: Augment | None = None,
    callbacks: Sequence[Callback] = (),
    loss: str | LossFn = "auto",
    shuffle: bool = True,
    device: str | torch.device = "cpu",
    threads: int | None = 1,
    progress: bool = False,
    track: Mapping[str, Pair | TensorDataset] | None = None,
) -> History:
    r"""Train ``model`` on ``train`` and record train/validation metrics every epoch.

    Each step minimizes the regularized objective

    .. math::

        J(w) = \frac{1}{B} \sum_{i \in \text{batch}} \ell(f_w(x_i), y_i) + \Omega(w),

    where :math:`\Omega` is ``penalty(model)`` (zero when ``penalty`` is ``None``).
    After every epoch the data loss (without :math:`\Omega`) and, for
    classification, the accuracy are measured on the whole training and
    validation sets in evaluation mode, then the callbacks run.

    Args:
        model (nn.Module): the model, trained in place.
        train: ``(X, y)`` pair of tensors or a ``TensorDataset``. Integer ``y`` means
            classification (cross-entropy, accuracy); float ``y`` means regression.
        val: validation data in the same form, or ``None``. Default: ``None``.
        epochs (int): passes over the training set, >= 1.
        lr (float, optional): learning rate of a named optimizer. Default: 1e-3.
        batch_size (int, optional): mini-batch size; ``None`` is full-batch
            gradient descent. Default: ``None``.
        optimizer (str or Optimizer): ``"sgd"``, ``"adam"``, ``"adamw"`` or an
            optimizer already built on ``model.parameters()``. Default: ``"adam"``.
        weight_decay (float): the optimizer's own weight decay (coupled for SGD and
            Adam, decoupled for AdamW). Default: 0.0.
        decay_bias (bool): let ``weight_decay`` act on the 1-D parameters too (biases,
            normalization scales and shifts), as PyTorch's optimizers do. ``False`` decays
            only the parameters with two or more dimensions, the weights that
            :func:`regutils.l2_penalty` penalizes by default (two parameter groups).
            Default: ``True``.
        momentum (float): SGD momentum. Default: 0.0.
        penalty (callable, optional): ``penalty(model) -> scalar tensor`` added to
            the loss, e.g. ``lambda m: l2_penalty(m, lam=1e-3)``. Default: ``None``.
        augment (callable, optional): ``augment(x, y) -> (x, y)``, applied to every
            training mini-batch before the forward pass, with fresh randomness at every
            step (data augmentation). It may change the targets too: mixup returns
            soft labels of shape ``(B, classes)``, which cross-entropy accepts. The
            metrics after each epoch and the validation data never go through it.
            Default: ``None``.
        callbacks (sequence of Callback): e.g. ``[EarlyStopping(patience=10)]``.
            Default: none.
        loss (str or callable): ``"auto"``, ``"cross_entropy"``, ``"mse"`` or
            ``loss(output, target)``. Default: ``"auto"``.
        shuffle (bool): reshuffle the mini-batches every epoch. Default: ``True``.
        device (str or torch.device): ``"cpu"``, ``"cuda"`` or ``"auto"``.
            Default: ``"cpu"``.
        threads (int, optional): torch CPU threads while ``fit`` runs; torch's
            setting is restored when it returns. ``None`` keeps torch's setting
            (one thread per core), better for large models on an idle machine.
            Default: 1, which on the book's small models is as fast as two threads
            on an idle 2-core machine and does not slow down when another program
            is busy (``make bench``).
        progress (bool): show a progress bar (for interactive use; the book's
            chapters leave it off). Default: ``False``.
        track (mapping, optional): more data sets to measure after every epoch, as the
            validation set is, e.g. ``{"test": data.test}``: recorded as ``test_loss`` and
            ``test_acc``. They never influence training; callbacks may read them. With a
            tracked held-out set, :meth:`regutils.EarlyStopping.replay` tells what early
            stopping would have kept from a run trained to the end. Default: none.

    Returns:
        History: one record per epoch run.

    Raises:
        TypeError, ValueError: for arguments of the wrong type or out of range.
        FloatingPointError: when the training loss becomes NaN or infinite; the
            message names the epoch and suggests a lower learning rate. The
            history up to then is in the exception's ``history`` attribute.

    Example::

        >>> from regutils import set_seed, load_digits, mlp
        >>> set_seed(0)
        >>> data = load_digits()
        >>> history = fit(mlp(hidden=(32,)), data.train, data.val, epochs=3, lr=1e-2)
        >>> history.metrics
        ['train_loss', 'train_acc', 'val_loss', 'val_acc']
        >>> len(history), history.epochs[-1]
        (3, 3)
    """
    check_module("model", model)
    X, y = as_pair("train", train)
    val_pair = None if val is None else as_pair("val", val)
    epochs = check_int("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    if not isinstance(decay_bias, bool):
        raise TypeError(f"decay_bias must be a bool, but got {type(decay_bias).__name__}")
    momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0, strict_max=True)
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be a callable penalty(model), but got {penalty!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a callable augment(x, y) -> (x, y), but got {augment!r}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, but got {cb!r}")
    device = resolve_device(device)
    if threads is not None:
        threads = check_int("threads", threads, minimum=1)
    loss_fn, _ = _resolve_loss(loss, y)
    tracked = check_track(track)
    with cpu_threads(threads):  # restored when fit returns or raises
        model.to(device)
        X, y = X.to(device), y.to(device)
        if val_pair is not None:
            val_pair = (val_pair[0].to(device), val_pair[1].to(device))
        tracked = {k: (Xk.to(device), yk.to(device)) for k, (Xk, yk) in tracked.items()}
        opt = _make_optimizer(optimizer, model, lr, weight_decay, momentum, decay_bias)
        n = len(X)
        step = n if batch_size is None else batch_size

        state = TrainState(model=model, optimizer=opt)
        for cb in callbacks:
            cb.on_fit_start(state)
        for epoch in _progress_bar(epochs, progress):
            state.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_start(state)
            model.train()
            order = torch.randperm(n, device=device) if shuffle else torch.arange(n, device=device)
            for start in range(0, n, step):
                idx = order[start : start + step]
                xb, yb = X[idx], y[idx]
                if augment is not None:
                    xb, yb = _augmented(augment, xb, yb)
                out = model(xb)
                objective = loss_fn(out, yb)
                if penalty is not None:
                    objective = objective + penalty(model)
                opt.zero_grad(set_to_none=True)
                objective.backward()
                opt.step()
                for cb in callbacks:
                    cb.on_batch_end(state)

            record = {"epoch": epoch}
            for split, data in (("train", (X, y)), ("val", val_pair), *tracked.items()):
                if data is not None:
                    for name, value in evaluate(model, data, loss=loss_fn, device=device).items():
                        record[f"{split}_{name}"] = value
            if not math.isfinite(record["train_loss"]):
                err = FloatingPointError(
                    f"fit stopped at epoch {epoch}: the training loss is {record['train_loss']}. "
                    f"Training diverged; try a lower learning rate (lr={opt.param_groups[0]['lr']:g} "
                    "now, e.g. 10 times lower) or a smaller penalty."
                )
                err.history = state.history
                raise err
            state.history.append(record)
            state.metrics = record
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stop:
                break
        for cb in callbacks:
            cb.on_fit_end(state)
        return state.history
