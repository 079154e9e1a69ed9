#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Prints the backend this kernel supports: lsm when the BPF LSM is active and lsm programs
# load, else kill. (Loads and unloads the guard once to find out.)
ium=${IUM:-$(swift build --show-bin-path)/ium}
"$ium" guard unload > /dev/null 2>&1
backend=$("$ium" guard load 2>/dev/null | sed -n 's/^guard loaded: backend \([a-z]*\).*/\1/p')
"$ium" guard unload > /dev/null 2>&1
echo "${backend:-kill}"
