#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make demo: the user's story on this machine's kernel, and — where this kernel has no usable
# BPF LSM — again inside a VM booting Debian's 6.12 kernel, where the lsm backend runs.
set -euo pipefail
bin=$(swift build --show-bin-path)
export IUM=$bin/ium IUMD=$bin/iumd KEYD=$bin/ium-keyd VICTIM=.build/attack/victim ATTACK=.build/attack/attack
backend=$(IUMD=$IUMD scripts/host-backend.sh)
printf '\n\033[1;34m### On this machine (kernel %s): the %s backend\033[0m\n' "$(uname -r)" "$backend"
sh scripts/demo-story.sh
if [ "$backend" != lsm ]; then
    printf '\n\033[1;34m### In a VM (qemu, Debian linux-image-6.12-cloud-amd64): the lsm backend\033[0m\n'
    mkdir -p .build/vm
    IUM_BIN=$IUM IUMD_BIN=$IUMD KEYD_BIN=$KEYD VICTIM=$VICTIM ATTACK=$ATTACK \
        FIXTURE=.build/attack/testproc NT_RULES=.build/lib/nt_rules IS_SECURE=.build/lib/is-secure \
        Tests/vm/build-initramfs.sh .build/vm/initramfs.cpio > /dev/null
    VM_KERNELS=6.12 VM_MODE=demo Tests/vm/run.sh .build/vm/initramfs.cpio | grep -vE '^(== )?vm: |^0 passed, 0 failed, 0 skipped$'
fi
