# Thin wrapper: every target works on a fresh Debian 12 machine (scripts/bootstrap installs deps).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all build test unit integration fuzz run bench fmt clean deps

all: build

deps:
	@scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

integration: build
	COFFER_BIN=$(CURDIR)/$(BUILD_DIR)/bin/coffer /usr/bin/python3 -m pytest -q tests/integration

fuzz: deps
	fuzz/run

test: build
	@echo "== unit tests"; cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	@echo "== fuzz targets (ASan + UBSan)"; fuzz/run
	@echo "== integration tests"; COFFER_BIN=$(CURDIR)/$(BUILD_DIR)/bin/coffer /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

run: build
	$(BUILD_DIR)/bin/coffer server -dev

bench: build
	@scripts/bootstrap --bench
	bench/run

fmt:
	find src fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
