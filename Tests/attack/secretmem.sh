#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Secret memory (ium_secret.h, what a trustlet keeps its key in) against root. Each case runs
# first against a victim whose secrets are on the heap (the control: the attack must find
# them, so a broken attack cannot pass), then against a victim whose secrets are in secret
# memory (memfd_secret: out of the kernel's direct map), untagged, so that what stops root is
# the memory itself and not the guard: process_vm_readv, ptrace PEEKDATA (what gdb -p uses),
# /proc/PID/mem, a core dump with every limit raised, and a /proc/kcore scan of RAM (the direct
# map) must find no copy of the 16 random bytes, and the secret must stay intact. (The kernel
# image's own mapping can alias a freed page that then holds secret memory: printed as a note,
# and refused altogether once the guard is sealed.) A tagged trustlet answers
# IsSecureProcess 1 to ium query and to the WDK sample.
#
#   secretmem.sh BACKEND        lsm (the VM) or kill
#
# Needs root. Environment: IUM, IUMD, VICTIM, ATTACK, IS_SECURE. kernel.core_pattern is set and
# restored on exit. The kcore scan runs where RAM is at most 8 GiB (the VM): a full scan of a
# large host takes minutes.
BACKEND=${1:?usage: secretmem.sh lsm|kill}
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init secretmem

echo "ium secret memory: backend $BACKEND, kernel $(uname -r)"
tl_serve_or_exit "secret memory ($BACKEND)" --backend "$BACKEND"

# victim KIND [LIMIT]: KIND heap or secret; a soft core limit LIMIT (default unlimited).
victim() {
    flag=
    [ "$1" = secret ] && flag=--secretmem
    tl_start_victim "$1" sh -c "ulimit -c ${2:-unlimited}; exec $VICTIM $flag"
    VRANDOM=$(sed -n 's/.* random \([0-9a-f]*\).*/\1/p' "$VOUT" | head -n 1)
}

victim secret
if ! grep -q 'secretmem 1' "$VOUT"; then
    tl_skip "secret memory" "$(head -n 1 "$VOUT")"
    tl_summary
    exit
fi
tl_stop_victim

# attack_case NAME MODE: the attacker's MODE at the secret's address, heap then secret memory.
attack_case() {
    victim heap
    "$ATTACK" "$2" "$3$VPID$4" "$VADDR" > "$W/control.out" 2>&1
    control=$?
    tl_stop_victim
    victim secret
    "$ATTACK" "$2" "$3$VPID$4" "$VADDR" > "$W/attack.out" 2>&1
    rc=$?
    if [ $control -ne 0 ]; then tl_fail "$1" "the control failed (exit $control): $(head -n 1 "$W/control.out")"
    elif [ $rc -eq 0 ]; then tl_fail "$1" "it read the secret memory: $(head -n 1 "$W/attack.out")"
    elif [ "$(tl_ask check)" != intact ]; then tl_fail "$1" "the secret changed"
    else tl_pass "$1" "$(head -n 1 "$W/attack.out")"; fi
    tl_stop_victim
}
attack_case "root's process_vm_readv of secret memory" vmread
attack_case "root's ptrace PEEKDATA of secret memory (gdb -p)" attach
attack_case "root's read of /proc/PID/mem at secret memory" mem /proc/ /mem

# core_of KIND: a core of a KIND victim (SIGSEGV, every limit raised) in $CORE ("" if none);
# $VRANDOM stays that victim's.
mkdir -p "$W/cores"
core_of() {
    rm -f "$W"/cores/*
    victim "$1"
    kill -SEGV "$VPID"
    wait "$VPID" 2> /dev/null
    i=0
    while [ $i -lt 50 ] && [ -z "$(ls "$W/cores")" ]; do sleep 0.1; i=$((i + 1)); done
    CORE=$(ls "$W"/cores/core.* 2> /dev/null | head -n 1)
}
if tl_sysctl_set /proc/sys/kernel/core_pattern "$W/cores/core.%p"; then
    core_of heap
    if [ -n "$CORE" ] && "$ATTACK" grepfile "$CORE" "$VRANDOM" > "$W/control.out" 2>&1; then
        core_of secret
        if [ -z "$CORE" ]; then tl_fail "a core dump of a process with secret memory" "no core was written"
        elif "$ATTACK" grepfile "$CORE" "$VRANDOM" > "$W/attack.out" 2>&1; then
            tl_fail "a core dump of a process with secret memory" "$(cat "$W/attack.out")"
        else tl_pass "a core dump of a process with secret memory holds no copy" "$(du -k "$CORE" | cut -f1) KiB core"; fi
    else
        tl_fail "a core dump of a process with secret memory" "the control failed: ${CORE:-no core}: $(cat "$W/control.out" 2>/dev/null)"
    fi
else
    tl_skip "a core dump of a process with secret memory" "kernel.core_pattern is not writable here"
fi

ram_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
if [ ! -r /proc/kcore ]; then
    tl_skip "a /proc/kcore scan for secret memory" "no /proc/kcore here"
elif [ "$ram_kib" -gt $((8 << 20)) ]; then
    tl_skip "a /proc/kcore scan for secret memory" "$((ram_kib >> 20)) GiB of RAM: the full scan runs in the VM"
else
    # The direct map: memfd_secret takes its pages out of it, always.
    victim heap
    "$ATTACK" kcore "$VRANDOM" ram > "$W/control.out" 2>&1
    control=$?
    tl_stop_victim
    victim secret
    "$ATTACK" kcore "$VRANDOM" ram > "$W/attack.out" 2>&1
    rc=$?
    if [ $control -ne 0 ]; then tl_fail "a /proc/kcore scan of RAM for secret memory" "the control failed: $(cat "$W/control.out")"
    elif [ $rc -ne 3 ]; then tl_fail "a /proc/kcore scan of RAM for secret memory" "exit $rc: $(cat "$W/attack.out")"
    elif [ "$(tl_ask check)" != intact ]; then tl_fail "a /proc/kcore scan of RAM for secret memory" "the secret changed"
    else tl_pass "a /proc/kcore scan of RAM finds heap secrets, not secret memory" "$(cat "$W/attack.out")"; fi
    # The kernel image's own mapping is a second alias of some freed pages (on Debian's 6.12,
    # the gap between rodata and data): a secret page placed there is readable through
    # /proc/kcore, unless PTI is on (which unmaps that alias). Not a test without PTI (it
    # depends on where the page lands): what it found is printed; the sealed guard refuses
    # /proc/kcore altogether (sealing.sh, lockdown.sh).
    "$ATTACK" kcore "$VRANDOM" > "$W/attack.out" 2>&1
    rc=$?
    if grep -qw pti /proc/cpuinfo; then
        [ $rc -eq 3 ] && tl_pass "with PTI a full /proc/kcore scan (kernel image too) finds no secret memory" "$(cat "$W/attack.out")" \
            || tl_fail "with PTI a full /proc/kcore scan finds no secret memory" "exit $rc: $(cat "$W/attack.out")"
    else
        echo "note: a full /proc/kcore scan, kernel image included, PTI off: $(cat "$W/attack.out")"
    fi
    tl_stop_victim
fi

# A trustlet: secret memory and tagged. The NT query from outside.
victim secret
"$IUM" tag "$VPID" > "$W/tag.out" 2>&1 || tl_fail "tag the trustlet" "$(cat "$W/tag.out")"
"$IUM" query "$VPID" | grep -q '^    IsSecureProcess       1$' && tl_pass "ium query of the trustlet shows IsSecureProcess 1" \
    || tl_fail "ium query of the trustlet shows IsSecureProcess 1" "$("$IUM" query "$VPID" 2>&1 | head -n 3)"
[ "$("$IS_SECURE" "$VPID")" = "$VPID secure" ] && tl_pass "the WDK IsSecureProcess sample says the trustlet is secure" \
    || tl_fail "the WDK sample says the trustlet is secure" "$("$IS_SECURE" "$VPID" 2>&1)"
tl_stop_victim
tl_summary
