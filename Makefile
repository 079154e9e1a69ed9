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

BPF_SRC := bpf/guard.bpf.c bpf/include/ium_kernel.h CModules/GuardABI/include/guard_abi.h
SKELETON_DIR := CModules/GuardSkeleton/generated
SKELETONS := $(SKELETON_DIR)/ium_guard_lsm.skel.h $(SKELETON_DIR)/ium_guard_kill.skel.h
ATTACKERS := $(BUILD)/attack/victim $(BUILD)/attack/attack $(BUILD)/attack/testproc $(BUILD)/attack/evil.bpf.o \
	$(BUILD)/attack/libsidedoor.so $(BUILD)/attack/libpreload.so
LIBIUM := $(BUILD)/lib/libium.so.1
LIBIUM_SRC := CModules/libium/ium_client.c CModules/libium/layout.c CModules/libium/include/ntddk.h CModules/libium/include/ium_layout.h \
	CModules/CLinuxShims/secret.c CModules/CLinuxShims/include/ium_secret.h \
	CModules/GuardABI/include/guard_abi.h CModules/GuardABI/include/task_view.h CModules/IUMWire/include/ium_wire.h
C_CLIENTS := $(BUILD)/lib/is-secure $(BUILD)/lib/nt_rules $(BUILD)/lib/caller_view $(BUILD)/lib/freshness $(BUILD)/lib/bench
PREFIX ?= /usr/local
INITRAMFS := $(BUILD)/vm/initramfs.cpio
KUBERNETES_VALIDATE := $(BUILD)/kv/bin/kubernetes-validate

.PHONY: all deps vm-deps deb-deps oci-deps architecture build bpf attackers libium test swift-test host-matrix host-sidedoors host-trustlet host-e2e host-deb vm-test demo bench release install deb oci host-oci clean

all: build

deps:
	@scripts/install-deps.sh

vm-deps:
	@scripts/install-deps.sh vm

# The guard: one source, two objects (the lsm and the kill backend), CO-RE so they do not
# depend on this machine's kernel; a skeleton of each embeds it in iumd (GuardSkeleton).
$(BUILD)/bpf/ium_guard_%.bpf.o: $(BPF_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -DIUM_$(shell echo $* | tr a-z A-Z) \
		-I/usr/include/$(shell uname -m)-linux-gnu -Ibpf/include -ICModules/GuardABI/include -Wall -Werror \
		-c bpf/guard.bpf.c -o $@
$(SKELETON_DIR)/ium_guard_%.skel.h: $(BUILD)/bpf/ium_guard_%.bpf.o
	@mkdir -p $(dir $@)
	bpftool gen skeleton $< name ium_guard_$* > $@.new && mv $@.new $@

bpf: deps $(SKELETONS)

build: deps $(SKELETONS) libium
	$(SWIFT) build $(SWIFT_FLAGS)

# libium: the C library (ntddk.h), its pkg-config file, the WDK sample and the C rule tests.
# Debian's hardening flags (dpkg-buildflags): fortified libc calls, stack protector, full relro.
HARDENING := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro,-z,now
$(LIBIUM): $(LIBIUM_SRC)
	@mkdir -p $(dir $@)
	cc -shared -fPIC -O2 $(HARDENING) -Wall -Wextra -Werror -ICModules/libium/include -ICModules/GuardABI/include -ICModules/IUMWire/include \
		-ICModules/CLinuxShims/include -Wl,-soname,libium.so.1 \
		-o $@ CModules/libium/ium_client.c CModules/libium/layout.c CModules/CLinuxShims/secret.c -lpthread
	ln -sf libium.so.1 $(BUILD)/lib/libium.so
	sed 's|@PREFIX@|$(PREFIX)|' CModules/libium/libium.pc.in > $(BUILD)/lib/libium.pc
$(BUILD)/lib/is-secure: examples/main.c examples/IsSecureProcess.c $(LIBIUM)
	cc -O2 -Wall -Wextra -Werror -ICModules/libium/include -o $@ examples/main.c examples/IsSecureProcess.c \
		-L$(BUILD)/lib -lium -Wl,-rpath,'$$ORIGIN'
$(BUILD)/lib/nt_rules: Tests/libium/nt_rules.c $(LIBIUM)
	cc -O2 -Wall -Wextra -Werror -ICModules/libium/include -o $@ $< -L$(BUILD)/lib -lium -lpthread -Wl,-rpath,'$$ORIGIN'
$(BUILD)/lib/caller_view: Tests/libium/caller_view.c Tests/libium/proc_text.h $(LIBIUM)
	cc -O2 -Wall -Wextra -Werror -ICModules/libium/include -o $@ $< -L$(BUILD)/lib -lium -Wl,-rpath,'$$ORIGIN'
$(BUILD)/lib/freshness: Tests/libium/freshness.c Tests/libium/proc_text.h $(LIBIUM)
	cc -O2 -Wall -Wextra -Werror -ICModules/libium/include -o $@ $< -L$(BUILD)/lib -lium -Wl,-rpath,'$$ORIGIN'
$(BUILD)/lib/bench: Benchmarks/bench.c $(LIBIUM) $(BUILD)/bench/floor.bpf.o
	cc -O2 -Wall -Wextra -Werror -ICModules/libium/include -ICModules/IUMWire/include -o $@ $< -L$(BUILD)/lib -lium -lbpf -Wl,-rpath,'$$ORIGIN'
$(BUILD)/bench/floor.bpf.o: Benchmarks/floor.bpf.c bpf/include/ium_kernel.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(shell uname -m)-linux-gnu -Ibpf/include -Wall -Werror \
		-c $< -o $@
libium: $(LIBIUM) $(C_CLIENTS)

$(BUILD)/attack/victim: Tests/attack/victim.c CModules/CLinuxShims/secret.c CModules/CLinuxShims/include/ium_secret.h
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -ICModules/CLinuxShims/include -o $@ $< CModules/CLinuxShims/secret.c -lpthread -ldl
$(BUILD)/attack/attack: Tests/attack/attack.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -o $@ $< -Wl,-Bstatic -luring -Wl,-Bdynamic -lbpf
# root's own BPF programs against a secure process (attack bpf), loaded from next to attack
$(BUILD)/attack/evil.bpf.o: Tests/attack/evil.bpf.c
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(shell uname -m)-linux-gnu -Wall -Werror -c $< -o $@
$(BUILD)/attack/lib%.so: Tests/attack/lib%.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -shared -fPIC -o $@ $< -ldl
$(BUILD)/attack/testproc: Tests/Fixtures/testproc.c
	@mkdir -p $(dir $@)
	cc -O2 -Wall -Werror -o $@ $< -lpthread

attackers: $(ATTACKERS)

test: architecture swift-test host-matrix host-sidedoors host-trustlet host-e2e host-deb host-oci vm-test

# docs/ARCHITECTURE.md's module rule: the imports, Package.swift and the table agree; and
# every document a file names is in the repository.
architecture:
	/usr/bin/python3 Tests/architecture/check_imports.py .
	/usr/bin/python3 Tests/architecture/check_doc_refs.py .

# --no-parallel: the guard is machine-wide, and several suites load and unload it.
swift-test: build
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS)

# The attack matrix against this machine's kernel, with the backend it supports.
host-matrix: build attackers
	IUM=$(BIN)/ium IUMD=$(BIN)/iumd VICTIM=$(BUILD)/attack/victim ATTACK=$(BUILD)/attack/attack FIXTURE=$(BUILD)/attack/testproc \
		sh Tests/attack/matrix.sh $$(IUMD=$(BIN)/iumd scripts/host-backend.sh)

# Side doors (core dumps, code on disk, injection at start, SIGIO, old fds) and secret memory
# against root, on this kernel.
host-sidedoors: build attackers libium
	IUM=$(BIN)/ium IUMD=$(BIN)/iumd VICTIM=$(BUILD)/attack/victim ATTACK=$(BUILD)/attack/attack \
		SIDEDOOR_LIB=$(CURDIR)/$(BUILD)/attack/libsidedoor.so PRELOAD_LIB=$(CURDIR)/$(BUILD)/attack/libpreload.so \
		sh Tests/attack/sidedoors.sh $$(IUMD=$(BIN)/iumd scripts/host-backend.sh)
	IUM=$(BIN)/ium IUMD=$(BIN)/iumd VICTIM=$(CURDIR)/$(BUILD)/attack/victim ATTACK=$(CURDIR)/$(BUILD)/attack/attack \
		IS_SECURE=$(CURDIR)/$(BUILD)/lib/is-secure sh Tests/attack/secretmem.sh $$(IUMD=$(BIN)/iumd scripts/host-backend.sh)

# ium-keyd, the reference trustlet, against root on this kernel (and in the VM: vm-test).
host-trustlet: build attackers libium
	IUM=$(BIN)/ium IUMD=$(BIN)/iumd KEYD=$(BIN)/ium-keyd ATTACK=$(CURDIR)/$(BUILD)/attack/attack \
		IS_SECURE=$(CURDIR)/$(BUILD)/lib/is-secure sh Tests/trustlet/keyd.sh $$(IUMD=$(BIN)/iumd scripts/host-backend.sh)

# iumd and its clients end to end on this kernel: the user story, libium's NT rules, the
# WDK sample, a daemon restart, two users.
host-e2e: build attackers
	IUM=$(BIN)/ium IUMD=$(BIN)/iumd VICTIM=$(BUILD)/attack/victim ATTACK=$(BUILD)/attack/attack \
		NT_RULES=$(BUILD)/lib/nt_rules IS_SECURE=$(BUILD)/lib/is-secure CALLER_VIEW=$(BUILD)/lib/caller_view \
		FRESHNESS=$(BUILD)/lib/freshness FIXTURE=$(BUILD)/attack/testproc sh Tests/e2e/e2e.sh

# The Debian package: lintian, install, the user story with the installed files, purge.
host-deb: deb attackers
	DEB=$$(ls $(CURDIR)/$(BUILD)/deb/ium_*.deb) VICTIM=$(CURDIR)/$(BUILD)/attack/victim sh Tests/deb/deb.sh

# The fleet deployment: the manifest against the Kubernetes schemas, the image under podman.
host-oci: oci attackers $(KUBERNETES_VALIDATE)
	IMAGE=$(IMAGE) ARCHIVE=$(CURDIR)/$(BUILD)/oci/ium.tar KUBERNETES_VALIDATE=$(CURDIR)/$(KUBERNETES_VALIDATE) \
		IUM=$(BIN)/ium IUMD=$(BIN)/iumd VICTIM=$(CURDIR)/$(BUILD)/attack/victim sh Tests/oci/oci.sh

# The attack matrix with the lsm backend, in qemu, on Debian's stock kernels.
vm-test: build attackers vm-deps
	@mkdir -p $(dir $(INITRAMFS))
	IUM_BIN=$(BIN)/ium IUMD_BIN=$(BIN)/iumd KEYD_BIN=$(BIN)/ium-keyd VICTIM=$(BUILD)/attack/victim \
		ATTACK=$(BUILD)/attack/attack FIXTURE=$(BUILD)/attack/testproc NT_RULES=$(BUILD)/lib/nt_rules \
		IS_SECURE=$(BUILD)/lib/is-secure Tests/vm/build-initramfs.sh $(INITRAMFS)
	Tests/vm/run.sh $(INITRAMFS)
	VM_KERNELS="6.1 6.12" VM_ONLY=lockdown VM_APPEND=lockdown=confidentiality Tests/vm/run.sh $(INITRAMFS)
	VM_KERNELS="6.1 6.12" VM_ONLY=trustlet VM_APPEND=pti=on Tests/vm/run.sh $(INITRAMFS)

demo: build attackers vm-deps
	@scripts/demo.sh

# Speed and cost, as ratios against baselines measured in the same run (BENCHMARKS.md).
bench: build attackers vm-deps
	Benchmarks/run.sh

# Release builds: the Swift runtime linked in (they need libbpf, libsqlite3, libc, libstdc++
# and libgcc_s), bind-now relocations; the guard is embedded in iumd.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xlinker -z -Xlinker now
RELEASE_BIN = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)
release: build
	$(SWIFT) build $(RELEASE_FLAGS) --product iumd
	$(SWIFT) build $(RELEASE_FLAGS) --product ium
	$(SWIFT) build $(RELEASE_FLAGS) --product ium-keyd

# Installs ium, iumd, ium-keyd, libium (+ ntddk.h, ium_secret.h, pkg-config) and the systemd
# units (iumd, ium-keyd) under PREFIX.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/ium
	install -m 0755 $(RELEASE_BIN)/ium $(RELEASE_BIN)/iumd $(RELEASE_BIN)/ium-keyd $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(LIBIUM) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libium.so.1 $(DESTDIR)$(PREFIX)/lib/libium.so
	install -m 0644 $(BUILD)/lib/libium.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 CModules/libium/include/ntddk.h CModules/CLinuxShims/include/ium_secret.h $(DESTDIR)$(PREFIX)/include/ium/
	install -D -m 0644 contrib/iumd.service $(DESTDIR)/etc/systemd/system/iumd.service
	install -D -m 0644 contrib/ium-keyd.service $(DESTDIR)/etc/systemd/system/ium-keyd.service
	-ldconfig

# The Debian package, .build/deb/ium_<version>_<arch>.deb (packaging/deb/README.md), checked
# by lintian in host-deb.
deb: release deb-deps
	@rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	packaging/deb/build-deb.sh $(RELEASE_BIN) $(LIBIUM) $(BUILD)/deb/ium_$$($(RELEASE_BIN)/ium --version)_$$(dpkg --print-architecture).deb
deb-deps:
	@scripts/install-deps.sh deb

# The OCI image, built by buildah from scratch (no base image), tagged IMAGE and written to
# .build/oci/ium.tar; contrib/k8s/ium.yaml runs it on every node (README, "Running on a fleet").
IMAGE = localhost/ium:$(shell sed -n 's/.*version: "\([0-9.]*\)".*/\1/p' Sources/IUMCommands/IUM.swift)
oci: release oci-deps
	@mkdir -p $(BUILD)/oci
	packaging/oci/build-image.sh $(RELEASE_BIN) $(IMAGE) $(BUILD)/oci/ium.tar
oci-deps:
	@scripts/install-deps.sh oci
# kubernetes-validate (PyPI; it bundles the Kubernetes schemas) in a venv of the build folder.
$(KUBERNETES_VALIDATE): | oci-deps
	/usr/bin/python3 -m venv $(BUILD)/kv
	$(BUILD)/kv/bin/pip install --quiet kubernetes-validate==1.37.0

clean:
	rm -rf $(BUILD) $(SKELETON_DIR)
.SECONDARY: $(BUILD)/bpf/ium_guard_lsm.bpf.o $(BUILD)/bpf/ium_guard_kill.bpf.o
