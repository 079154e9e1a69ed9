# SPDX-License-Identifier: Apache-2.0
#
#   make demo      install what is needed, build, run the demo
#   make test      install what is needed, build, run every test: unit and real-process tests
#                  (swift test), the attack matrix on this kernel (host-matrix), and the
#                  attack matrix in qemu on Debian's 6.1 and 6.12 kernels (vm-test)
#
# Root is needed for the guard (host-matrix, vm-test) and for some process-state tests; CI
# runs as root. VM_KERNELS="6.12" picks one kernel for a quick VM run; VM_EXTRA=dir adds
# test scripts (dir/*.sh, printing "N passed, N failed") and programs to the VM image.

SWIFT ?= swift
SWIFT_FLAGS ?=
CLANG ?= clang
BUILD := .build
BIN = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)

BPF_OBJ := $(BUILD)/bpf/ium-guard.bpf.o
BPF_SRC := bpf/guard.bpf.c bpf/include/ium_kernel.h CModules/GuardABI/include/guard_abi.h
ATTACKERS := $(BUILD)/attack/victim $(BUILD)/attack/attack $(BUILD)/attack/testproc
INITRAMFS := $(BUILD)/vm/initramfs.cpio

.PHONY: all deps vm-deps build bpf attackers test swift-test host-matrix vm-test demo clean

all: build

deps:
	@scripts/install-deps.sh

vm-deps:
	@scripts/install-deps.sh vm

# The guard: CO-RE, so the object does not depend on this machine's kernel.
$(BPF_OBJ): $(BPF_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(shell uname -m)-linux-gnu \
		-Ibpf/include -ICModules/GuardABI/include -Wall -Werror -c bpf/guard.bpf.c -o $@

bpf: $(BPF_OBJ)

build: deps $(BPF_OBJ)
	$(SWIFT) build $(SWIFT_FLAGS)
	cp $(BPF_OBJ) $(BIN)/ium-guard.bpf.o

$(BUILD)/attack/victim: Tests/attack/victim.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -o $@ $< -lpthread
$(BUILD)/attack/attack: Tests/attack/attack.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -o $@ $< -Wl,-Bstatic -luring -Wl,-Bdynamic
$(BUILD)/attack/testproc: Tests/Fixtures/testproc.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -o $@ $< -lpthread

attackers: $(ATTACKERS)

test: swift-test host-matrix vm-test

swift-test: build
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

# The attack matrix against this machine's kernel, with the backend it supports.
host-matrix: build attackers
	IUM=$(BIN)/ium VICTIM=$(BUILD)/attack/victim ATTACK=$(BUILD)/attack/attack FIXTURE=$(BUILD)/attack/testproc \
		sh Tests/attack/matrix.sh $$(scripts/host-backend.sh)

# The attack matrix with the lsm backend, in qemu, on Debian's stock kernels.
vm-test: build attackers vm-deps
	@mkdir -p $(dir $(INITRAMFS))
	IUM_BIN=$(BIN)/ium IUM_BPF_OBJECT=$(BPF_OBJ) VICTIM=$(BUILD)/attack/victim ATTACK=$(BUILD)/attack/attack \
		FIXTURE=$(BUILD)/attack/testproc Tests/vm/build-initramfs.sh $(INITRAMFS)
	Tests/vm/run.sh $(INITRAMFS)

demo: build
	@scripts/demo.sh

clean:
	rm -rf $(BUILD)
