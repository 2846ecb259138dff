"""How fast is this book? Run with ``make bench`` (or ``python -m benchmarks.run``).

Times every chapter in a fresh kernel (:mod:`benchmarks.chapters`), the reference
run on an idle and on a busy machine (:mod:`benchmarks.busy`), five seeds stacked
against one after another (:mod:`benchmarks.seeds`), then the reference
task trained by :func:`regutils.fit` and by its peers (:mod:`benchmarks.training`),
and writes ``benchmarks/results/latest.json`` and
``benchmarks/results/latest.md`` (the page ``appendix/speed.md`` shows), then prints
the Markdown. The timings are wall-clock: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
from pathlib import Path

import torch

from benchmarks import busy, seeds, training
from benchmarks import chapters as chapter_bench
from benchmarks.report import load_average, machine, render_markdown

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per contender (5)")
    parser.add_argument("--epochs", type=int, default=training.EPOCHS, help="epochs (100)")
    parser.add_argument(
        "--threads",
        type=int,
        default=training.THREADS,
        help="torch threads for training (1, as regutils.fit)",
    )
    parser.add_argument("--no-chapters", action="store_true", help="skip the chapter timings")
    parser.add_argument("--no-training", action="store_true", help="skip the training timings")
    parser.add_argument("--no-busy", action="store_true", help="skip the busy-machine scenario")
    parser.add_argument("--no-seeds", action="store_true", help="skip the stacked-seeds scenario")
    parser.add_argument(
        "--no-peers", action="store_true", help="leave skorch and Lightning out of the training"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.* are written")
    return parser.parse_args(argv)


def run_chapters() -> dict:
    # The unit of a chapter's budget, timed before and after the chapters: the median of both.
    before = chapter_bench.time_reference_run()
    print(f"  one reference run: {before:.2f} s")
    rows = []
    for path in chapter_bench.chapter_paths():
        timing = chapter_bench.time_chapter(path)
        print(f"  {timing.chapter:<40} {timing.wall_s:6.1f} s  {timing.peak_rss_mb:6.0f} MiB")
        rows.append(dataclasses.asdict(timing))
    after = chapter_bench.time_reference_run()
    reference = (before + after) / 2
    print(f"  one reference run: {after:.2f} s (used: {reference:.2f} s)")
    for row in rows:
        row["reference_runs"] = row["wall_s"] / reference
    return {
        "rows": rows,
        "total_s": sum(row["wall_s"] for row in rows),
        "reference_run_s": reference,
    }


def run_training(args: argparse.Namespace) -> dict:
    # Everything imported so far lives until the end: freezing it keeps the collection
    # before each timed run short (a full one over pandas, matplotlib... takes ~0.5 s).
    gc.collect()
    gc.freeze()
    found = training.contenders(peers=not args.no_peers)
    runs = training.time_contenders(found, reps=args.reps, epochs=args.epochs, threads=args.threads)
    return {
        "epochs": args.epochs,
        "reps": args.reps,
        "threads": torch.get_num_threads(),
        "rows": training.summarize(runs),
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    results = {"machine": machine(args.threads)}
    if not args.no_chapters:
        print("Chapters, each in a fresh kernel:")
        results["chapters"] = run_chapters()
    if not args.no_busy:
        print("A busy machine: the reference run idle and next to one CPU-bound process:")
        results["busy"] = busy.run()
    if not args.no_seeds:
        print(f"Seeds: {len(seeds.SEEDS)} seeds stacked as one model, or one after another:")
        results["seeds"] = seeds.run()
    if not args.no_training:
        print(f"Training the reference model ({args.reps} repetitions, {args.threads} threads):")
        results["training"] = run_training(args)
    results["machine"]["load_average_end"] = load_average()
    markdown = render_markdown(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "latest.md").write_text(markdown)
    print()
    print(markdown)
    print(f"Written: {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return results


if __name__ == "__main__":
    main()
