# Set-up is automatic: every target creates .venv and installs requirements.txt when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help book test claims lab repoint pdf clean

# The robustness run (CONTRIBUTING.md, "The text is true"): the chapters rerun with every seed
# shifted (REGUTILS_SEED_SHIFT) and with MKL's compatible rounding (MKL_CBWR=COMPATIBLE).
SHIFTS   ?= 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000
CI_SHIFT ?= 11000
JOBS     ?= 1
CHAPTERS ?=

help:
	@echo "make book     build the site into _build/html (executes every chapter)"
	@echo "make test     run every check: ruff, unit tests, doctests, chapters (nbval), the book build,"
	@echo "              then the calibrated chapters again with shifted seeds and MKL_CBWR=COMPATIBLE"
	@echo "make claims   rerun chapters over SHIFTS and with MKL_CBWR=COMPATIBLE; report each claim's"
	@echo "              band beside the values observed (CHAPTERS=..., JOBS=2 to run two at a time)"
	@echo "make pdf      the whole book as one printable PDF: _build/pdf/book.pdf (headless Chromium)"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make repoint URL=https://github.com/<you>/<fork>   point the book and every chapter at a fork"
	@echo "make bench    time every chapter, a busy machine, and regutils.fit against its peers; writes benchmarks/results/"
	@echo "make clean    remove _build (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	REGUTILS_CLAIMS=strict $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"

# The test suite, with the robustness pass running beside it on the other core.
test: $(STAMP)
	$(BIN)/python -m scripts.claims --shifts $(CI_SHIFT) --compat all \
		--alongside env REGUTILS_CLAIMS=strict $(BIN)/python -m pytest

claims: $(STAMP)
	$(BIN)/python -m scripts.claims --baseline --shifts $(SHIFTS) --compat extra --jobs $(JOBS) $(CHAPTERS)

# The book as one page (the execution cache of `make book` is reused), printed by Chromium.
ROOT_DOC := $(shell sed -n 's/^root: *//p' _toc.yml)
pdf: $(STAMP)
	REGUTILS_CLAIMS=strict $(BIN)/jupyter-book build . --builder singlehtml -W -n --keep-going
	$(BIN)/python scripts/pdf.py _build/singlehtml/$(ROOT_DOC).html _build/pdf/book.pdf

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/

repoint: $(STAMP)
	@test -n "$(URL)" || (echo "usage: make repoint URL=https://github.com/<you>/<fork>" && exit 2)
	$(BIN)/python scripts/repoint.py "$(URL)"

# The benchmark's peers (skorch, Lightning) go into the same .venv, for `make bench` only.
$(VENV)/.bench-installed: $(STAMP) benchmarks/requirements.txt
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	@touch $@

.PHONY: bench
bench: $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf _build
