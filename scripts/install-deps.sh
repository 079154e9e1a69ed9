#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian packages ium needs, idempotently: packages already installed are not
# touched, and apt-get runs only when something is missing. Needs root (or sudo).
#
#   scripts/install-deps.sh            build and test dependencies
set -euo pipefail

packages=(
    build-essential g++ gcc-multilib   # C fixtures, the 32-bit (IsWow64Process) test program
    pkg-config                         # finds libbpf for SwiftPM
    strace util-linux procps           # real tracers in the tests; taskset, setpriv
)

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
