#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Prints the backend this kernel supports: lsm when the BPF LSM is active and lsm programs
# load, else kill. (iumd --probe-backend loads the lsm programs and frees them at once:
# nothing is attached or pinned, and a guard already running here is not touched.)
iumd=${IUMD:-$(swift build --show-bin-path)/iumd}
backend=$("$iumd" --probe-backend 2>/dev/null | cut -d' ' -f1)
echo "${backend:-kill}"
