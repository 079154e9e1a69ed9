#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The guard under kernel lockdown (VM booted with lockdown=confidentiality): its programs use
# no helper lockdown withdraws (bpf_probe_read_kernel, bpf_probe_write_user), so iumd loads the
# lsm backend, tags, denies, and seals as on an unlocked kernel.
#
#   lockdown.sh         (root, in the VM; VM_ONLY=lockdown VM_APPEND=lockdown=confidentiality)
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init lockdown
echo "ium under lockdown: kernel $(uname -r), $(cat /sys/kernel/security/lockdown)"
tl_row CASE RESULT
if ! grep -q '\[confidentiality\]' /sys/kernel/security/lockdown; then
    tl_fail "the kernel is locked down (confidentiality)" "$(cat /sys/kernel/security/lockdown)"
    tl_summary
    exit
fi
"$ATTACK" kcore 00000000000000000000000000000000 > "$W/kcore.out" 2>&1
[ $? -eq 1 ] && tl_pass "lockdown itself refuses /proc/kcore (the lockdown LSM is active)" || tl_fail "lockdown refuses /proc/kcore" "$(cat "$W/kcore.out")"
if tl_start_iumd --backend lsm --seal; then tl_pass "iumd loads the lsm guard and seals it under lockdown"
else tl_fail "iumd loads the lsm guard and seals it under lockdown" "$(tail -n 3 "$W/iumd.log")"; tl_summary; exit; fi
TL_DAEMON= # (sealed: only PID 1 may signal it; the VM powers off after this suite)
tl_start_victim locked
"$IUM" tag "$VPID" > "$W/tag.out" 2>&1 && tl_pass "ium tag" || tl_fail "ium tag" "$(cat "$W/tag.out")"
before=$(tl_denials "$VPID")
"$ATTACK" attach "$VPID" "$VADDR" > "$W/attack.out" 2>&1
rc=$?
[ $rc -eq 1 ] && tl_wait_denial "$VPID" "$before" && [ "$(tl_ask check)" = intact ] \
    && tl_pass "PTRACE_ATTACH on the secure process" "refused, audited" || tl_fail "PTRACE_ATTACH on the secure process" "exit $rc"
"$IUM" status 2> /dev/null | grep -q 'sealed: *since' && tl_pass "ium status says sealed" || tl_fail "ium status says sealed" "$("$IUM" status 2>&1 | head -n 3)"
# The in-client query works on a sealed guard (iumd creates, freezes and hands out the task
# view tables; the clients only map them) and gives iumd's bytes; and it is fresh.
"$FRESHNESS" 60 0 > "$W/fresh.out" 2>&1
rc=$?
[ $rc -eq 0 ] && tl_pass "sealed: $(tail -n 1 "$W/fresh.out" | cut -c1-60)" \
    || tl_fail "sealed: the in-client query equals iumd's and the kernel's" "$(grep FAIL "$W/fresh.out" | head -n 2 | tr '\n' ' ')"
tl_summary
