"""The results of ``make bench``: the machine, the goals, and the tables, as JSON and Markdown.

:func:`render_markdown` turns the JSON document into the Markdown that
``appendix/speed.md`` includes, so the book shows exactly the last run's numbers.
"""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path

import torch

CHAPTER_BUDGET_RUNS = 60  # a chapter's budget in reference runs, from CONTRIBUTING.md
CHAPTER_AIM_RUNS = 30  # what a chapter aims for
FIT_BUDGET = 1.10  # regutils.fit within 1.10x of the hand-written loop
PEERS = ("DataLoader loop", "skorch", "Lightning")  # regutils.fit must beat each of them
BUSY_BUDGET = 1.3  # regutils.fit next to one busy process: within 1.3x of idle
IDLE_BUDGET = 1.1  # and idle, at most 1.1x the time of torch's default threads and Adam

TRAINING_COLUMNS = (
    "batch",
    "contender",
    "median time (s)",
    "× hand-written",
    "val acc (median)",
    "same accuracy as hand-written?",
)
CHAPTER_COLUMNS = (
    "chapter",
    "wall time (s)",
    "reference runs",
    "peak memory (MiB)",
    "ran to the end?",
)


def cpu_model() -> str:
    """The CPU's marketing name, from /proc/cpuinfo on Linux, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> float | None:
    """The 1-minute load average: near 0 on an idle machine, above the cores on a busy one."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def machine(threads: int) -> dict:
    """What the numbers were measured on, and how busy the machine was at the start."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "skorch": _version("skorch"),
        "lightning": _version("lightning"),
        "load_average_start": load_average(),
        "load_average_end": None,  # filled in when the run ends
    }


def goals(results: dict) -> list[dict]:
    """Each goal of the benchmark, its target, what was measured, and whether it is met."""
    found = []
    chapters = results.get("chapters")
    if chapters:
        failed = [c["chapter"] for c in chapters["rows"] if c["error"] is not None]
        found.append(
            {
                "goal": "every chapter executes to the end",
                "target": "all",
                "measured": f"{len(failed)} failed: {', '.join(failed)}" if failed else "all",
                "met": not failed,
            }
        )
        slowest = max(chapters["rows"], key=lambda row: row["reference_runs"])
        found.append(
            {
                "goal": "every chapter executes within its budget, in reference runs",
                "target": f"≤ {CHAPTER_BUDGET_RUNS} each (aim {CHAPTER_AIM_RUNS})",
                "measured": f"slowest: {slowest['chapter']}, {slowest['reference_runs']:.0f}",
                "met": slowest["reference_runs"] <= CHAPTER_BUDGET_RUNS,
            }
        )
    busy = results.get("busy")
    if busy:
        by_setting = {row["setting"]: row for row in busy["rows"]}
        book, defaults = by_setting["regutils.fit"], by_setting["torch defaults"]
        found.append(
            {
                "goal": "`regutils.fit` on a busy machine (one other CPU-bound process)",
                "target": f"≤ {BUSY_BUDGET:.1f}× idle",
                "measured": f"{book['busy_ratio']:.2f}× (torch defaults: "
                f"{defaults['busy_ratio']:.1f}×)",
                "met": book["busy_ratio"] <= BUSY_BUDGET,
            }
        )
        idle_ratio = book["idle_s"] / defaults["idle_s"]
        found.append(
            {
                "goal": "`regutils.fit` on an idle machine, against torch defaults",
                "target": f"≤ {IDLE_BUDGET:.1f}×",
                "measured": f"{idle_ratio:.2f}×",
                "met": idle_ratio <= IDLE_BUDGET,
            }
        )
    rows = (results.get("training") or {}).get("rows", [])
    for batch in dict.fromkeys(row["batch"] for row in rows):
        by_name = {row["contender"]: row for row in rows if row["batch"] == batch}
        fit = by_name.get("regutils.fit")
        if fit is None:
            continue
        batches = "full batch" if batch == "full" else f"batches of {batch}"
        found.append(
            {
                "goal": f"`regutils.fit` vs the hand-written loop, {batches}",
                "target": f"≤ {FIT_BUDGET:.2f}×",
                "measured": f"{fit['ratio']:.2f}×",
                "met": fit["ratio"] <= FIT_BUDGET,
            }
        )
        peers = [by_name[name] for name in PEERS if name in by_name]
        if peers:
            fastest = min(peers, key=lambda row: row["median_s"])
            found.append(
                {
                    "goal": f"`regutils.fit` faster than {', '.join(p['contender'] for p in peers)}"
                    f", {batches}",
                    "target": "< the fastest of them",
                    "measured": f"the fastest, {fastest['contender']}, takes "
                    f"{fastest['median_s'] / fit['median_s']:.2f}× as long",
                    "met": fit["median_s"] < fastest["median_s"],
                }
            )
    return found


def _table(columns: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def training_table(rows: list[dict]) -> list[str]:
    """The training-speed table, one line per (batch size, contender)."""
    return _table(
        TRAINING_COLUMNS,
        [
            (
                row["batch"],
                f"`{row['contender']}`" if row["contender"] == "regutils.fit" else row["contender"],
                f"{row['median_s']:.3f}",
                f"{row['ratio']:.2f}",
                f"{row['median_val_acc']:.1%}",
                row["same_acc"],
            )
            for row in rows
        ],
    )


def chapter_table(chapters: dict) -> list[str]:
    """The chapter table, one line per notebook and a total."""
    rows = [
        (
            c["chapter"],
            f"{c['wall_s']:.1f}",
            f"{c['reference_runs']:.0f}",
            f"{c['peak_rss_mb']:.0f}",
            "yes" if c["error"] is None else f"**no**: {c['error']}",
        )
        for c in chapters["rows"]
    ]
    peak = max((c["peak_rss_mb"] for c in chapters["rows"]), default=0.0)
    failed = sum(c["error"] is not None for c in chapters["rows"])
    rows.append(
        (
            "**total**",
            f"**{chapters['total_s']:.1f}**",
            f"**{chapters['total_s'] / chapters['reference_run_s']:.0f}**",
            f"max {peak:.0f}",
            "all" if failed == 0 else f"**{failed} failed**",
        )
    )
    return _table(CHAPTER_COLUMNS, rows)


def render_markdown(results: dict) -> str:
    """The results as the Markdown fragment the book includes (``##`` headings)."""
    m = results["machine"]
    peers = ", ".join(f"{name} {m[name]}" for name in ("skorch", "lightning") if m.get(name))
    start, end = m.get("load_average_start"), m.get("load_average_end")
    load = (
        f"; 1-minute load average {start:.2f} at the start, {end:.2f} at the end."
        if start is not None and end is not None
        else "."
    )
    lines = [
        f"Measured on {m['date']} on **{m['cpu']}** ({m['cores']} cores), {m['platform']}, "
        f"Python {m['python']}, torch {m['torch']} ({m['torch_threads']} thread{'' if m['torch_threads'] == 1 else 's'})"
        + (f", {peers}" if peers else "")
        + load
        + " To reproduce: `make bench`.",
        "",
    ]
    found = goals(results)
    if found:
        lines += ["## Goals", ""]
        lines += _table(
            ("goal", "target", "measured", "met?"),
            [
                (g["goal"], g["target"], g["measured"], "yes" if g["met"] else "**no**")
                for g in found
            ],
        )
        lines.append("")
    if results.get("chapters"):
        lines += ["## Chapters", ""]
        lines += [
            "Each chapter executed top to bottom in a fresh kernel, one after the other; "
            "the wall time includes starting the kernel. *Reference runs*: the wall time over "
            "that of one reference run (150 epochs, one thread), "
            f"{results['chapters']['reference_run_s']:.2f} s on this machine, timed before and "
            "after the chapters; a chapter's budget is 60 of them (aim 30).",
            "",
        ]
        lines += chapter_table(results["chapters"])
        lines.append("")
    busy = results.get("busy")
    if busy:
        lines += ["## A busy machine", ""]
        lines += [
            f"The reference run ({busy['epochs']} epochs, batches of 32) on the idle machine "
            "and while one other process keeps a core busy (a Python `while True: pass`). "
            f"*torch defaults*: {busy['torch_threads']} threads (one per core) and Adam's "
            "default implementation, as the book ran before; *`regutils.fit`*: its "
            "defaults, one thread and fused Adam. With one thread per core, each small "
            "matrix product waits for the thread that shares its core with the other "
            f"process. Median of {busy['reps']} repetitions, idle and busy alternating.",
            "",
        ]
        lines += _table(
            ("setting", "idle (s)", "busy (s)", "busy ÷ idle"),
            [
                (
                    row["setting"],
                    f"{row['idle_s']:.3f}",
                    f"{row['busy_s']:.3f}",
                    f"{row['busy_ratio']:.2f}",
                )
                for row in busy["rows"]
            ],
        )
        lines.append("")
    stacked = results.get("seeds")
    if stacked:
        lines += ["## Seeds stacked", ""]
        lines += [
            f"{stacked['seeds']} seeds of one configuration ({stacked['epochs']} epochs, Adam, "
            "batches of 32), trained by `run_seeds` from a `Recipe` one after another "
            "(`stack=False`) or together as one stacked model, with the same results per "
            f"seed. Median of {stacked['reps']} repetitions in rotating order; "
            "× one after another is the ratio of medians (above 1: faster).",
            "",
        ]
        lines += _table(
            ("model", "setting", "time (s)", "× one after another"),
            [
                (row["model"], row["setting"], f"{row['median_s']:.2f}", f"{row['speedup']:.2f}")
                for row in stacked["rows"]
            ],
        )
        lines.append("")
    training = results.get("training")
    if training:
        lines += ["## Training the reference model", ""]
        lines += [
            f"The Overfitting chapter's MLP on the 200 digits, Adam (lr 1e-3), "
            f"{training['epochs']} epochs, measuring loss and accuracy on the whole training "
            f"and validation sets after every epoch. Median of {training['reps']} "
            "repetitions, run interleaved in rotating order; "
            "× hand-written is the ratio of medians.",
            "",
        ]
        lines += training_table(training["rows"])
        lines.append("")
    return "\n".join(lines)
