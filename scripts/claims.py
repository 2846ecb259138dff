"""Are the text's claims true of the technique, or of one sample? ``make claims`` answers.

Runs chapters under nbval (``pytest <chapter>.ipynb``) once per *pass*, each pass with other
seeds (``REGUTILS_SEED_SHIFT``, see :mod:`regutils.seed`) and/or MKL's compatible code path
(``MKL_CBWR=COMPATIBLE``: another rounding in every matrix product, as on another CPU). Every
claim a chapter checks with :func:`regutils.claim` is logged (``REGUTILS_CLAIMS_LOG``), held or
not (``REGUTILS_CLAIMS=report``), so that one failure does not hide the claims after it. Then it
prints, chapter by chapter, each claim's band beside the range observed over the passes, and a
margin: how far the pass-by-pass extreme values stay from the band's edges, in standard
deviations of those extremes over the passes. It exits with 1 if any claim failed or any cell
raised in any pass.

Usage::

    python -m scripts.claims --shifts 1000 2000 --compat extra chapters/01_overfitting.ipynb
    python -m scripts.claims --shifts 7000 --compat all          # CI: one pass, both changes

``make test`` runs its one pass ``--alongside`` the test suite, on the other core.

``--compat none`` runs each shift as it is; ``extra`` adds one pass at the book's own seeds with
``MKL_CBWR=COMPATIBLE``; ``all`` sets it in every pass. ``--baseline`` adds a pass at the book's
own seeds, as the book runs. The report goes to ``_build/claims/<chapter>/`` for one chapter,
``_build/claims/book/`` for several (Markdown and JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "claims"
#: the margin (in standard deviations over the passes) under which a claim is flagged
THIN_MARGIN = 3.0


@dataclass(frozen=True)
class Pass:
    shift: int
    compat: bool

    @property
    def name(self) -> str:
        return f"shift{self.shift}" + ("-compat" if self.compat else "")

    def env(self, log: Path, threads_one: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR",)}
        env.update(
            NO_COLOR="1",  # nbval's tracebacks as plain text in the report
            REGUTILS_SEED_SHIFT=str(self.shift),
            REGUTILS_CLAIMS="report",
            REGUTILS_CLAIMS_LOG=str(log),
        )
        if self.compat:
            env["MKL_CBWR"] = "COMPATIBLE"
        if threads_one:  # passes side by side: one thread each, so none waits for another
            env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        return env


@dataclass
class PassResult:
    run: Pass
    returncode: int
    seconds: float
    output: str
    records: list[dict] = field(default_factory=list)


def calibrated_chapters(root: Path = ROOT) -> list[Path]:
    """The chapters whose notebook metadata says their claims are calibrated
    (``"book": {"claims_calibrated": true}``), in the order of their file names."""
    found = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        metadata = json.loads(path.read_text()).get("metadata", {})
        if metadata.get("book", {}).get("claims_calibrated"):
            found.append(path)
    return found


def passes(shifts: list[int], compat: str, baseline: bool) -> list[Pass]:
    found = [Pass(0, False)] if baseline else []
    found += [Pass(s, compat == "all") for s in shifts]
    if compat == "extra":
        found.append(Pass(0, True))
    return found


def run_pass(run: Pass, chapters: list[Path], out: Path, threads_one: bool) -> PassResult:
    log = out / f"{run.name}.jsonl"
    log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header"]
    command += ["--color=no"]
    command += [str(c) for c in chapters]
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=run.env(log, threads_one),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    records = []
    if log.exists():
        chapter = None
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if "chapter" in record and "text" not in record:
                chapter = record["chapter"]
                continue
            record["chapter"] = chapter
            records.append(record)
    return PassResult(run, done.returncode, seconds, done.stdout + done.stderr, records)


@dataclass
class ClaimSummary:
    chapter: str
    text: str
    occurrence: int
    band: dict
    exact: bool
    values: list[list[float]] = field(default_factory=list)  # one list per pass
    held: list[bool] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.text if self.occurrence == 1 else f"{self.text} [#{self.occurrence}]"

    def margin(self) -> float | None:
        """How far the passes' extremes stay inside the band, in standard deviations of those
        extremes over the passes (None: no numbers, or a band with no bound)."""
        rows = [np.array([x for x in v if x is not None], float) for v in self.values if v]
        rows = [r for r in rows if r.size]
        if self.exact or not self.band or len(rows) < 2:
            return None
        margins = []
        low = self.band.get("at_least", self.band.get("above"))
        high = self.band.get("at_most", self.band.get("below"))
        if low is not None:
            extremes = np.array([r.min() for r in rows])
            margins.append(_in_sd(extremes.mean() - low, extremes.std(ddof=1)))
        if high is not None:
            extremes = np.array([r.max() for r in rows])
            margins.append(_in_sd(high - extremes.mean(), extremes.std(ddof=1)))
        return min(margins) if margins else None


def _in_sd(distance: float, sd: float) -> float:
    if sd == 0:
        return math.inf if distance >= 0 else -math.inf
    return distance / sd


def summarize(results: list[PassResult]) -> dict[str, dict[str, ClaimSummary]]:
    """chapter -> claim key -> summary, in the order the claims were first seen."""
    found: dict[str, dict[str, ClaimSummary]] = {}
    for result in results:
        for r in result.records:
            chapter = r["chapter"] or "?"
            claims = found.setdefault(chapter, {})
            summary = ClaimSummary(chapter, r["text"], r["occurrence"], r["band"], r["exact"])
            summary = claims.setdefault(summary.key, summary)
            summary.values.append(r["values"] or [])
            summary.held.append(r["ok"])
    return found


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _band_words(summary: ClaimSummary) -> str:
    band = summary.band
    if summary.exact:
        return "exact"
    if not band:
        return "true"
    low = band.get("at_least", band.get("above"))
    high = band.get("at_most", band.get("below"))
    left = "[" if "at_least" in band else "("
    right = "]" if "at_most" in band else ")"
    return f"{left}{'-inf' if low is None else _fmt(low)}, {'inf' if high is None else _fmt(high)}{right}"


def report(results: list[PassResult], summaries: dict[str, dict[str, ClaimSummary]]) -> str:
    lines = ["# Claims over seed shifts", ""]
    lines.append(
        f"{len(results)} passes: "
        + ", ".join(f"{r.run.name} ({r.seconds:.0f} s)" for r in results)
        + ". Margin: how far the per-pass extreme values stay inside the band, in standard "
        f"deviations over the passes; flagged (!) when a claim failed or the margin is under "
        f"{THIN_MARGIN:g}."
    )
    for chapter, claims in summaries.items():
        lines += ["", f"## {chapter}", ""]
        lines.append("| claim | band | observed | margin (sd) | held |")
        lines.append("| --- | --- | --- | --- | --- |")
        for s in claims.values():
            numbers = [x for v in s.values for x in v if x is not None]
            observed = f"{_fmt(min(numbers))} to {_fmt(max(numbers))}" if numbers else ""
            margin = s.margin()
            shown = "" if margin is None else ("inf" if math.isinf(margin) else f"{margin:.1f}")
            flag = (not all(s.held)) or (margin is not None and margin < THIN_MARGIN)
            text = s.key.replace("|", "\\|")
            lines.append(
                f"| {'(!) ' if flag else ''}{text} | {_band_words(s)} | {observed} | {shown} "
                f"| {sum(s.held)}/{len(s.held)} |"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters",
        nargs="*",
        type=Path,
        help="notebooks (default: every chapter marked calibrated in its metadata)",
    )
    parser.add_argument("--shifts", nargs="*", type=int, default=[], help="seed shifts")
    parser.add_argument("--compat", choices=("none", "extra", "all"), default="extra")
    parser.add_argument("--baseline", action="store_true", help="add a pass at shift 0")
    parser.add_argument("--jobs", type=int, default=1, help="passes at a time (1)")
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (_build/claims/<chapter or book>)"
    )
    parser.add_argument(
        "--alongside",
        nargs=argparse.REMAINDER,
        default=[],
        help="a command to run in the foreground while the passes run (make test: pytest); "
        "its exit status counts too",
    )
    return parser.parse_args(argv)


def _run_alongside(command: list[str], keep: int = 40) -> tuple[int, list[str]]:
    """Run ``command``, its output streamed through; return its exit status and last lines."""
    tail: deque[str] = deque(maxlen=keep)
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line)
    return process.returncode, list(tail)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chapters = [c.resolve() for c in args.chapters] or calibrated_chapters()
    if not chapters:
        print("no chapter to run: none is marked calibrated", file=sys.stderr)
        alongside = args.alongside[1:] if args.alongside[:1] == ["--"] else args.alongside
        return subprocess.run(alongside, cwd=ROOT).returncode if alongside else 2
    runs = passes(args.shifts, args.compat, args.baseline)
    if not runs:
        print("nothing to run: give --shifts, --baseline or --compat extra", file=sys.stderr)
        return 2
    if args.out is None:  # one folder per chapter, so that two runs side by side never mix
        args.out = OUT / (chapters[0].stem if len(chapters) == 1 else "book")
    args.out = args.out.resolve()  # the kernels run in chapters/: a log path must be absolute
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{len(runs)} passes over {len(chapters)} chapters, {args.jobs} at a time", flush=True)
    alongside = args.alongside[1:] if args.alongside[:1] == ["--"] else args.alongside
    # Beside another command (the test suite), a pass takes one thread, so that the two share
    # the cores without waiting for each other.
    threads_one = args.jobs > 1 or bool(alongside)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_pass, r, chapters, args.out, threads_one) for r in runs]
        main_status, main_tail = _run_alongside(alongside) if alongside else (0, [])
        results = []
        for future in futures:
            result = future.result()
            status = "passed" if result.returncode == 0 else f"pytest exit {result.returncode}"
            failed = sum(not r["ok"] for r in result.records)
            print(
                f"  {result.run.name}: {status}, {len(result.records)} claims, {failed} not held, "
                f"{result.seconds:.0f} s",
                flush=True,
            )
            if result.returncode != 0:
                print(result.output[-6000:])
            results.append(result)
    summaries = summarize(results)
    text = report(results, summaries)
    (args.out / "claims.md").write_text(text)
    (args.out / "claims.json").write_text(
        json.dumps(
            {
                chapter: {
                    key: {"band": s.band, "exact": s.exact, "values": s.values, "held": s.held}
                    for key, s in claims.items()
                }
                for chapter, claims in summaries.items()
            },
            indent=1,
        )
    )
    print(text)
    failed = [
        f"{s.chapter}: {s.key}"
        for claims in summaries.values()
        for s in claims.values()
        if not all(s.held)
    ]
    errors = [r.run.name for r in results if r.returncode != 0]
    if failed:
        print("Claims that did not hold in some pass:\n  " + "\n  ".join(failed))
    if errors:
        print("Passes in which a cell raised: " + ", ".join(errors))
    print(f"Report: {args.out / 'claims.md'}")
    if main_status:  # its own summary scrolled away under the passes' report: repeat its end
        print(f"The command run alongside, {' '.join(alongside)}, exited with {main_status}.")
        print("Its last lines:\n" + "".join(main_tail))
    return 1 if failed or errors or main_status else 0


if __name__ == "__main__":
    sys.exit(main())
