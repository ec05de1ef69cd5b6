# zflow: the front door. `make demo` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 600

# Debian packages the build and tests need.
DEB_PACKAGES := build-essential cmake ninja-build ccache pkg-config \
  libboost-json1.81-dev libfmt-dev libcli11-dev libssl-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  clang libclang-rt-14-dev \
  nlohmann-json3-dev rapidjson-dev graphviz libyaml-cpp-dev python3-yaml \
  curl libcpp-httplib-dev libsqlite3-dev libpcre2-dev awscli python3-boto3 \
  chromium fonts-dejavu-core \
  python3-dev pybind11-dev python3-pybind11 python3-pytest

.PHONY: all build deps ui demo test test-asan test-tsan fuzz-build fuzz-smoke fuzz bench clean \
  install

# Where `make install` puts zflow (bin/zflow, include/zflow, lib/libzflow_*.a with
# lib/cmake/zflow, and the Python package under lib/python3.X/dist-packages).
PREFIX ?= /usr/local

all: build

# Python packages the example pipelines' jobs use (system Python, /usr/bin/python3). They come
# after the build packages and tools/install-boost-dev-shim.sh (see there: python3-scipy and
# Boost.JSON conflict on Debian 12 without it).
PY_PACKAGES := python3-numpy python3-sklearn python3-pandas python3-matplotlib

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	updated=; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  $$SUDO apt-get update && updated=1 && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing || exit 1; \
	fi; \
	missing=$$(for p in $(PY_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  ./tools/install-boost-dev-shim.sh || exit 1; \
	  if [ -z "$$updated" ]; then $$SUDO apt-get update || exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing || exit 1; \
	fi

# The web UI (TypeScript, Preact, elkjs; packages locked in ui/package-lock.json), built into
# ui/dist/, which the zflow binary embeds.
UI_SOURCES := $(wildcard ui/src/*.ts ui/src/*.tsx ui/src/*.css ui/src/pages/*.tsx) ui/index.html \
  ui/build.mjs ui/tsconfig.json

ui/node_modules: ui/package.json ui/package-lock.json
	npm ci --prefix ui --no-audit --no-fund
	touch ui/node_modules

ui/dist/index.html: ui/node_modules $(UI_SOURCES)
	cd ui && npm run build

ui: deps ui/dist/index.html

build: deps ui
	cmake --preset default >/dev/null
	cmake --build --preset default -j $(JOBS)

install: build
	cmake --install build --prefix $(PREFIX)

demo: build
	./build/zflow validate examples/hello/hello.asl.json examples/ml-training/training.asl.json
	-./build/zflow validate examples/invalid/broken.asl.json
	./build/zflow run examples/ml-training/training.asl.json --virtual-clock --progress \
	  --input-file examples/ml-training/input.json \
	  --mock-config examples/ml-training/mocks.json --test-case GoodModel --result-json
	-./build/zflow run examples/ml-training/training.asl.json --virtual-clock --progress \
	  --input-file examples/ml-training/input.json \
	  --mock-config examples/ml-training/mocks.json --test-case TrainingKeepsFailing --result-json
	./build/examples/fraud_pipeline compile -o build/fraud-scoring
	./build/zflow compile examples/tuned-deploy/tuned_deploy.yaml -o build/churn-tuned
	./build/zflow run examples/fraud-detection/fraud_pipeline.yaml --virtual-clock --progress \
	  --mock-config examples/fraud-detection/mocks.json --test-case HappyPath --result-json
	./build/zflow run examples/tuned-deploy/tuned_deploy.yaml --virtual-clock \
	  --mock-config examples/tuned-deploy/mocks.json --test-case GoodModel --result-json
	./build/zflow run examples/local-lambda/pipeline.yaml --progress \
	  --profile examples/local-lambda/zflow.profile.yaml --result-json
	./build/examples/native_pipeline run --progress --result-json
	./build/examples/fraud_pipeline run --mock-config examples/fraud-detection/mocks.json \
	  --test-case HappyPath --virtual-clock -q --result-json
	./examples/fraud-detection/serve_demo.sh build/zflow

tests/node_modules: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund
	touch tests/node_modules

test: build tests/node_modules
	ctest --preset default -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz-smoke

test-asan: deps ui
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

FUZZERS := json_parser_fuzzer asl_parser_fuzzer json_path_fuzzer intrinsic_fuzzer spec_fuzzer \
  pipeline_document_fuzzer history_fuzzer api_fuzzer sigv4_fuzzer schedule_fuzzer jsonata_fuzzer

# The dictionary a fuzzer uses: fuzz/<name without _fuzzer>.dict when there is one, else ASL's.
FUZZ_DICT = $$(d=fuzz/$${t%_fuzzer}.dict; test -f $$d && echo $$d || echo fuzz/asl.dict)

# ThreadSanitizer over the code with shared state (caches, random sources, processes).
test-tsan: deps ui
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# Part of `make test`: every fuzzer replays the committed corpus plus a few thousand new inputs.
fuzz-smoke: fuzz-build
	@for t in $(FUZZERS); do \
	  echo "== $$t (smoke)"; \
	  rm -rf build-fuzz/smoke/$$t && mkdir -p build-fuzz/smoke/$$t; \
	  ./build-fuzz/fuzz/$$t -runs=5000 -seed=1 -dict=$(FUZZ_DICT) \
	    build-fuzz/smoke/$$t fuzz/corpus/$$t 2>&1 | tail -n 3; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# libFuzzer targets (clang) with ASan+UBSan; each runs FUZZ_SECONDS (10 minutes unless told;
# long enough to find what a smoke run cannot, such as deep nesting), growing a corpus in
# build-fuzz/corpus/ seeded from fuzz/corpus/. Crashes land in fuzz/artifacts/.
fuzz: fuzz-build
	@mkdir -p fuzz/artifacts
	@for t in $(FUZZERS); do \
	  echo "== $$t ($(FUZZ_SECONDS)s)"; \
	  mkdir -p build-fuzz/corpus/$$t; \
	  ./build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/artifacts/ \
	    -dict=$(FUZZ_DICT) build-fuzz/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

bench: build tests/node_modules
	./build/bench/asl_bench --benchmark_min_time=0.5
	./build/bench/engine_bench compare --oracle tests/node_modules
	./build/bench/engine_bench sink
	./build/bench/executor_bench waiting
	./build/bench/executor_bench tokens
	./build/bench/executor_bench resume
	bench/compile_vs_cdk.sh build/bench/pipeline_bench
	./build/bench/task_overhead_bench
	./build/bench/serve_bench transitions
	./build/bench/serve_bench http build/zflow 16
	./build/bench/serve_bench http build/zflow 32
	./build/bench/serve_bench recovery build/zflow
	./build/bench/serve_bench startup build/zflow

clean:
	rm -rf build build-asan build-tsan build-fuzz
