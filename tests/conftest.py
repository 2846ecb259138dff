"""Fixtures shared by the tests, and how `make test` executes each chapter only once.

`make test` needs every chapter executed twice over: nbval runs each one cell by cell (a failing
cell is a failing test, named in pytest's report), and the book build (`-W -n`) renders each
one with its outputs. Executing them twice doubled the slowest part of the suite. Instead, the
hooks below record what every cell printed and displayed while nbval ran it, and once a whole
chapter has passed, store that run in the book's execution cache (jupyter-cache, which
`execute_notebooks: cache` in _config.yml reads), exactly as the build would have stored its own
run. The book build, moved after the chapters, then finds each chapter executed and renders it
without running it again. A chapter that nbval did not run whole and clean (a failing or skipped
cell, a run of a few cells with -k) is not stored, so the build executes it itself and its own
execution errors still fail the build; `pytest tests/test_book.py` alone builds as before.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import torch

from tests.book import ROOT, config


@pytest.fixture
def device():
    """The device fit runs on in tests: the CPU, or REGUTILS_TEST_DEVICE (e.g. cuda)."""
    return torch.device(os.environ.get("REGUTILS_TEST_DEVICE", "cpu"))


@pytest.fixture
def toy():
    """A tiny separable 3-class problem: trains to 100% in a few epochs."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 4, generator=g)
    y = X[:, :3].argmax(dim=1)
    return (X[:40], y[:40]), (X[40:], y[40:])


# --- one execution per chapter: nbval's run becomes the build's -------------------------------

# The iopub messages that become a cell's outputs, as nbclient (the build's executor) keeps them.
OUTPUT_MESSAGES = ("stream", "display_data", "execute_result", "error")


def execution_cache() -> Path:
    """Where the book build looks for executed notebooks: _config.yml's execute.cache, else
    _build/.jupyter_cache (myst-nb's default, next to _build/html); $BOOK_EXECUTION_CACHE
    overrides both."""
    if "BOOK_EXECUTION_CACHE" in os.environ:  # the tests of the recorder use their own
        return Path(os.environ["BOOK_EXECUTION_CACHE"])
    path = (config().get("execute") or {}).get("cache") or "_build/.jupyter_cache"
    return ROOT / path


def outputs_from(messages: list[dict]) -> list[nbformat.NotebookNode]:
    """A cell's outputs from the kernel's iopub messages, in order, as nbclient builds them:
    one output per message, ``clear_output`` honoured (``wait=True`` clears at the next one)."""
    outputs: list[nbformat.NotebookNode] = []
    clear_at_next = False
    for message in messages:
        kind = message["msg_type"]
        if kind == "clear_output":
            if message["content"].get("wait"):
                clear_at_next = True
            else:
                outputs.clear()
        elif kind in OUTPUT_MESSAGES:
            if clear_at_next:
                outputs.clear()
                clear_at_next = False
            outputs.append(nbformat.v4.output_from_msg(message))
    return outputs


class ChapterRecorder:
    """Records each nbval cell's outputs; stores a chapter in the execution cache once every
    one of its code cells has run and passed in this session."""

    def __init__(self) -> None:
        self.runs: dict[Path, dict] = {}  # notebook -> {"outputs": {cell: [...]}, "start": t}
        self.stored: list[Path] = []  # chapters stored this session, for the build's test

    @staticmethod
    def is_nbval_cell(item: pytest.Item) -> bool:
        return type(item).__name__ == "IPyNbCell" and hasattr(item.parent, "nb")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        if not self.is_nbval_cell(item):
            yield
            return
        notebook = item.parent
        path = Path(notebook.path).resolve()
        run = self.runs.setdefault(path, {"outputs": {}, "start": time.perf_counter()})
        if item.cell_num == 0:  # a fresh kernel: start the chapter's record afresh
            run.update(outputs={}, start=time.perf_counter())
        sent: list[str] = []
        seen: list[dict] = []
        kernel = notebook.kernel
        execute, receive = kernel.execute_cell_input, notebook.get_kernel_message

        def execute_and_note(*args, **kwargs):
            sent.append(execute(*args, **kwargs))
            return sent[-1]

        def receive_and_note(*args, **kwargs):
            seen.append(receive(*args, **kwargs))
            return seen[-1]

        kernel.execute_cell_input = execute_and_note
        notebook.get_kernel_message = receive_and_note
        try:
            outcome = yield
        finally:
            del kernel.execute_cell_input, notebook.get_kernel_message  # the class's again
        if outcome.excinfo is not None or not sent:  # failed or skipped: nothing to store
            return
        mine = [m for m in seen if m["parent_header"].get("msg_id") == sent[0]]
        run["outputs"][item.cell_num] = outputs_from(mine)
        code_cells = [cell for cell in notebook.nb.cells if cell.cell_type == "code"]
        if item.cell_num == len(code_cells) - 1 and len(run["outputs"]) == len(code_cells):
            self.store(path, notebook.nb, run["outputs"], time.perf_counter() - run["start"])

    def store(self, path: Path, nb, outputs: dict, seconds: float) -> None:
        """Put the executed chapter into the cache, as myst-nb does after its own run."""
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        executed = copy.deepcopy(nb)
        code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code_cells):
            cell.outputs = outputs[number]
            cell.execution_count = number + 1
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = number + 1
        get_cache(str(execution_cache())).cache_notebook_bundle(
            CacheBundleIn(executed, str(path), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
        self.stored.append(path)


RECORDER = ChapterRecorder()


def pytest_configure(config: pytest.Config) -> None:
    # The book shows the chapters as they run by default, with every claim holding: a
    # robustness pass (other seeds, MKL's compatible rounding, claims only reported; see
    # make claims) must never become the build's run.
    default_run = not (
        os.environ.get("REGUTILS_SEED_SHIFT", "").strip()
        or os.environ.get("MKL_CBWR", "").strip()
        or os.environ.get("REGUTILS_CLAIMS", "strict").strip().lower() != "strict"
    )
    if default_run:
        config.pluginmanager.register(RECORDER, "chapter-recorder")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of the built book run last, after nbval has executed (and stored) every
    chapter; the rest keep their order."""
    items.sort(key=lambda item: "built" in getattr(item, "fixturenames", ()))  # stable


def terminated(signum, frame):
    """SIGTERM (a CI timeout, `kill`) during the build: stop the tests as Ctrl-C does."""
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def built():
    """The book built once per test run with -W -n (zero warnings), into _build/html.

    Session-scoped so that tests/test_book.py and tests/test_site.py share one build. It runs
    after the chapters' nbval tests, whose runs it reuses (see the top of this file). The build
    runs in a process group of its own, killed if the tests are interrupted (Ctrl-C, a timeout,
    SIGTERM); a kernel it started notices that its parent is gone and exits too.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: no pipe to fill and block
        build = subprocess.Popen(
            [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        stop = signal.signal(signal.SIGTERM, terminated)  # else pytest dies without cleaning up
        try:
            returncode = build.wait(timeout=1800)
        except BaseException:  # a timeout, Ctrl-C, SIGTERM: nothing the build started outlives it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(build.pid, signal.SIGKILL)  # the group is the build's until reaped
            build.wait()
            raise
        finally:
            signal.signal(signal.SIGTERM, stop)
        log.seek(0)
        output = log.read()
    assert returncode == 0, output[-12000:]
    return {"output": output, "reused": list(RECORDER.stored)}
