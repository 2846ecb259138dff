"""A busy machine: the reference run while another program keeps one core busy.

Readers run the chapters on laptops with a browser open and in shared runtimes. This
scenario trains the reference model (:func:`regutils.reference_run`, batches of 32) on
an idle machine and again while one competing process spins on a core (a Python
``while True: pass``), in two settings:

* ``torch defaults`` -- what the book did before: torch's own thread count (one per
  core) and Adam's default implementation, i.e. ``fit(..., threads=None)`` with a plain
  ``torch.optim.Adam``;
* ``regutils.fit`` -- the book's default: one thread and fused Adam.

Repetitions alternate idle and busy and rotate the settings, so that slow drift of the
machine falls on all of them alike; the table gives medians.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn

from benchmarks.training import LR, rotated
from regutils import Split, fit, load_digits, reference_model, set_seed

EPOCHS = 100
REPS = 7
DEFAULTS = "torch defaults"
BOOK = "regutils.fit"
SETTINGS = (DEFAULTS, BOOK)
TORCH_THREADS = torch.get_num_threads()  # torch's own default, read before anything sets it


@contextlib.contextmanager
def competing_process() -> Iterator[subprocess.Popen]:
    """One other CPU-bound process for the duration of the block."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)  # let it start spinning
    try:
        yield hog
    finally:
        hog.kill()
        hog.wait()


def options(setting: str, model: nn.Module) -> dict:
    """The :func:`regutils.fit` keywords of ``setting`` for ``model``."""
    if setting == DEFAULTS:
        return {"optimizer": torch.optim.Adam(model.parameters(), lr=LR), "threads": None}
    return {"optimizer": "adam", "lr": LR}


def train(setting: str, data: Split, *, epochs: int, seed: int = 0) -> float:
    """Seconds to train a fresh reference model in ``setting``."""
    set_seed(seed)
    model = reference_model()
    start = time.perf_counter()
    fit(model, data.train, data.val, epochs=epochs, batch_size=32, **options(setting, model))
    return time.perf_counter() - start


def run(*, reps: int = REPS, epochs: int = EPOCHS, log: Callable[[str], None] = print) -> dict:
    """Time each setting idle and busy; medians, busy/idle ratios and the goals' inputs."""
    torch.set_num_threads(TORCH_THREADS)  # for DEFAULTS; fit sets its own for BOOK
    data = load_digits()
    for setting in SETTINGS:  # warm-up, not timed
        train(setting, data, epochs=2)
    seconds = {(s, busy): [] for s in SETTINGS for busy in (False, True)}
    for rep in range(reps):
        for setting in rotated(list(SETTINGS), rep):
            seconds[setting, False].append(train(setting, data, epochs=epochs))
        with competing_process():
            for setting in rotated(list(SETTINGS), rep):
                seconds[setting, True].append(train(setting, data, epochs=epochs))
        log(
            f"  rep {rep}  "
            + "  ".join(
                f"{s}: idle {seconds[s, False][-1]:.2f} s, busy {seconds[s, True][-1]:.2f} s"
                for s in SETTINGS
            )
        )
    rows = []
    for setting in SETTINGS:
        idle = statistics.median(seconds[setting, False])
        busy = statistics.median(seconds[setting, True])
        rows.append(
            {
                "setting": setting,
                "idle_s": idle,
                "busy_s": busy,
                "busy_ratio": busy / idle,
                "idle": seconds[setting, False],
                "busy": seconds[setting, True],
            }
        )
    return {
        "epochs": epochs,
        "reps": reps,
        "cores": os.cpu_count(),
        "torch_threads": TORCH_THREADS,
        "rows": rows,
    }
