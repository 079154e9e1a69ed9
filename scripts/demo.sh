#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The demo: query real processes with ium's NtQueryInformationProcess, as a WDK driver would.
# (The kernel guard and the daemon come next; until then `ium query` runs the NT model locally
# over /proc.)
set -euo pipefail
ium=${IUM_BIN:-.build/debug/ium}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

sleep 600 &
target=$!
trap 'kill -9 $target 2>/dev/null || true' EXIT

say "A running process: ium query $target (PROCESS_EXTENDED_BASIC_INFORMATION, 64 bytes)"
$ium query "$target"

say "Stop it (SIGSTOP): IsFrozen becomes 1"
kill -STOP "$target"
sleep 0.2
$ium query "$target" | grep -E 'Flags|IsFrozen'

say "The 48-byte PROCESS_BASIC_INFORMATION, as JSON"
$ium query "$target" --length 48 --json

say "A wrong length gives STATUS_INFO_LENGTH_MISMATCH and ReturnLength is not written (exit 1)"
$ium query "$target" --length 47 || echo "(exit code $?)"

say "Other classes: the image name and the command line"
$ium query "$target" --class ProcessImageFileName | sed -n '1p;4p'
$ium query "$target" --class ProcessCommandLineInformation | sed -n '1p;4p'

kill -9 "$target"
wait "$target" 2>/dev/null || true
trap - EXIT
say "Done"
