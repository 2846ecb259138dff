"""Every chapter executed in a fresh kernel: wall seconds, in reference runs, and peak memory.

This is the work ``make book`` does when its execution cache is cold: each
``chapters/*.ipynb`` (new chapters are picked up by the glob) runs top to bottom in
a new ``python3`` kernel whose working directory is ``chapters/``. The wall time
includes starting the kernel, as the build's does.

A chapter's budget is counted in *reference runs*: its seconds over those of one reference run
(:func:`regutils.reference_run`, 150 epochs on one thread) timed on the same machine in the
same call (:func:`time_reference_run`), so that the budget means the same on a slow CPU and a
fast one.

Peak memory is the largest resident set size (RSS) of the kernel process. On Linux
it is read from the kernel's own high-water mark (``VmHWM`` in ``/proc/<pid>/status``)
after every cell, which is exact; elsewhere a thread samples the RSS every 20 ms,
which can miss a peak shorter than that.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT = 600  # seconds; generous, as the build's own limit (120 s) is not what we measure


def chapter_paths(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook, in the order of their file names."""
    return sorted((root / "chapters").glob("*.ipynb"))


def _high_water_mark(pid: int) -> int:
    """The peak RSS in bytes Linux recorded for ``pid``, or 0 where there is no /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # the value is in kB
    return 0


class PeakMemory:
    """The largest RSS a process reaches, from its high-water mark and from sampling."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0
        self._process: psutil.Process | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._thread.start()

    def sample(self) -> None:
        if self._process is None:
            return
        try:
            rss = self._process.memory_info().rss
        except psutil.Error:  # the kernel has exited: its last samples stand
            return
        self.peak = max(self.peak, rss, _high_water_mark(self._process.pid))

    def _poll(self) -> None:
        while not self._done.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()


def time_reference_run(reps: int = 3) -> float:
    """Median wall seconds of one reference run (``reference_run(0)``: 150 epochs, one thread)."""
    from regutils import reference_run

    reference_run(0, epochs=2)  # imports and first-call costs out of the way
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        reference_run(0)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@dataclass
class ChapterTiming:
    chapter: str  # the file name, e.g. "01_overfitting.ipynb"
    wall_s: float  # until the end, or until the failure
    peak_rss_mb: float  # MiB
    error: str | None = None  # why the chapter failed, e.g. "CellTimeoutError"; None if it ran


def time_chapter(path: Path) -> ChapterTiming:
    """Execute one notebook in a fresh kernel. A failing cell (an error, a failed ``assert``,
    a timeout) ends it, as in the build; the timing then says so instead of raising, so that
    one broken chapter does not lose the whole benchmark."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # the kernel's working directory
    )
    memory = PeakMemory()
    # nbclient's hooks: the kernel exists when the notebook starts; sampling after every
    # cell, while the kernel is still alive, catches its final high-water mark.
    client.on_notebook_start = lambda notebook: memory.start(client.km.provisioner.pid)
    client.on_cell_complete = lambda cell, cell_index: memory.sample()
    error = None
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        error = type(err).__name__
    finally:
        memory.stop()
    wall = time.perf_counter() - start
    return ChapterTiming(path.name, wall, memory.peak / 2**20, error)
