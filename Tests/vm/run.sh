#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Boots Debian's stock cloud kernels under qemu (TCG) with the test initramfs and collects
# the results printed on the console.
#
#   run.sh INITRAMFS                   VM_KERNELS="6.1 6.12" (default both), VM_TIMEOUT=1500,
#                                      VM_MODE=demo runs scripts/demo-story.sh instead of the tests,
#                                      VM_ONLY=matrix|sidedoors|secretmem|keyd|trustlet|e2e|extra|sealing|lockdown runs one
#                                      suite, VM_APPEND adds to the kernel command line
# Prints each kernel's table, then "N passed, N failed, N skipped" over all kernels; exits non-zero on
# any failure, a kernel panic, or a VM that did not finish within VM_TIMEOUT seconds.
set -uo pipefail
initramfs=$1
kernels=${VM_KERNELS:-6.1 6.12}
limit=${VM_TIMEOUT:-1500} # a hang guard: 6.1 takes about 11 minutes here, single CPU under TCG
total_pass=0 total_fail=0 total_skip=0 status=0

for version in $kernels; do
    kernel=$(ls /boot/vmlinuz-"$version".*-cloud-amd64 /boot/vmlinuz-"$version"[.-]*cloud-amd64 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$kernel" ]; then
        echo "vm: no /boot/vmlinuz-$version*-cloud-amd64 (make vm-deps installs it)"
        total_fail=$((total_fail + 1)); status=1; continue
    fi
    log=$(mktemp /tmp/ium-vm-console.XXXXXX)
    echo "== vm: $(basename "$kernel") (qemu TCG, limit ${limit}s)"
    start=$(date +%s)
    timeout --foreground "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 2048 -nographic -no-reboot \
        -kernel "$kernel" -initrd "$initramfs" \
        -append "console=ttyS0 quiet panic=-1 oops=panic secretmem.enable=1 ium.mode=${VM_MODE:-test}${VM_ONLY:+ ium.only=$VM_ONLY}${VM_APPEND:+ $VM_APPEND}" < /dev/null > "$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    tr -d '\r' < "$log" | sed -n '/ium-vm: kernel/,$p' | grep -vE '^\[ *[0-9]+\.[0-9]+\]|ium-vm: done' | sed 's/^/   /'
    # Every "N passed, N failed[, N skipped]" line: the matrix, the e2e and VM_EXTRA scripts.
    result=$(tr -d '\r' < "$log" | grep -E '^[0-9]+ passed, [0-9]+ failed' \
        | awk '{p += $1; f += $3; s += $5} END {if (NR) printf "%d passed, %d failed, %d skipped", p, f, s}')
    if ! tr -d '\r' < "$log" | grep -q 'ium-vm: done'; then
        if [ $rc -eq 124 ]; then why="the VM hung: no result within ${limit}s"
        elif grep -q 'Kernel panic' "$log"; then why="kernel panic: $(grep -m1 'Kernel panic' "$log" | tr -d '\r')"
        else why="the VM stopped before finishing (qemu exit $rc)"; fi
        echo "vm: $(basename "$kernel"): FAILED: $why"
        total_fail=$((total_fail + 1)); status=1
    elif [ "${VM_MODE:-test}" != test ]; then
        echo "vm: $(basename "$kernel"): ${VM_MODE} finished in ${elapsed}s"
    elif [ -z "$result" ]; then
        echo "vm: $(basename "$kernel"): FAILED: no result line"
        total_fail=$((total_fail + 1)); status=1
    else
        p=${result%% passed*}; f=${result#*, }; f=${f%% failed*}; k=${result##*failed, }; k=${k%% skipped*}
        total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + k))
        [ "$f" -eq 0 ] || status=1
        echo "vm: $(basename "$kernel"): $result in ${elapsed}s"
    fi
    rm -f "$log"
done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
