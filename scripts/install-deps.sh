#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian packages ium needs, idempotently: packages already installed are not
# touched, and apt-get runs only when something is missing. Needs root (or sudo).
#
#   scripts/install-deps.sh            build and test dependencies
#   scripts/install-deps.sh vm         also what the VM tests boot (qemu, Debian's cloud kernels)
#   scripts/install-deps.sh deb        also what builds and checks the Debian package
#   scripts/install-deps.sh oci        also what builds and runs the OCI image, and validates the
#                                      Kubernetes manifest (a Python venv for kubernetes-validate)
set -euo pipefail

packages=(
    build-essential g++ gcc-multilib   # C fixtures, the 32-bit (IsWow64Process) test program
    curl                               # the metrics endpoint in the end-to-end test
    pkg-config libbpf-dev libelf-dev zlib1g-dev  # the guard's loader (SwiftPM finds libbpf with pkg-config)
    linux-libc-dev liburing-dev        # uapi headers for the BPF programs; the io_uring attacker
    libsqlite3-dev                     # the audit store (GRDB)
    strace gdb python3 python3-jsonschema util-linux procps  # real attackers and tools; the event schema check
    bpftool                            # make bench: per-program run time (bpf_stats)
)
if [ "${1:-}" = deb ]; then
    packages+=(dpkg-dev lintian)
fi
if [ "${1:-}" = oci ]; then
    packages+=(buildah podman runc busybox-static python3-venv)
fi
if [ "${1:-}" = vm ]; then
    packages+=(qemu-system-x86 busybox-static cpio linux-image-cloud-amd64 linux-image-6.12-cloud-amd64)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
