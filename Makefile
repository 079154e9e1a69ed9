# SPDX-License-Identifier: Apache-2.0
#
#   make demo    install what is needed, build, run the demo
#   make test    install what is needed, build, run every test
#
# Tests that need root (setuid, cgroups, PID namespaces) run when make runs as root, as CI does.

SWIFT ?= swift
SWIFT_FLAGS ?=

.PHONY: all deps build test demo clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

test: build
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

demo: build
	@scripts/demo.sh

clean:
	rm -rf .build
