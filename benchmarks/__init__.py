"""How fast is this book? The benchmark behind ``make bench``.

* :mod:`benchmarks.chapters` -- every chapter executed in a fresh kernel: wall time, peak memory.
* :mod:`benchmarks.training` -- the reference task trained by :func:`regutils.fit` and by the
  usual alternatives, interleaved.
* :mod:`benchmarks.peers` -- the skorch and PyTorch Lightning contenders (their packages come
  from ``benchmarks/requirements.txt``, which only ``make bench`` installs).
* :mod:`benchmarks.report` -- the results as JSON and as the Markdown the book shows.
* :mod:`benchmarks.run` -- the entry point: ``python -m benchmarks.run``.
"""
