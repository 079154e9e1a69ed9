#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# ium-keyd, the reference trustlet, against root. A 32-byte Ed25519 key is made in secret
# memory and handed to ium-keyd in a file (the test keeps only its bitwise inverse, so no copy
# of the key is left in the test's own memory); ium-keyd, started with `ium run`, reads it into
# secret memory and wipes the file. Then: it signs for root and refuses uid 65534; ium query
# and the WDK sample say it is secure; root's gdb -p (gcore), full-memory scans through
# process_vm_readv and /proc/PID/mem, a /proc/kcore scan of RAM and a forced core dump find no
# copy of the key, and signatures keep verifying. Controls, so that a broken attack cannot
# pass: an untagged ium-keyd's whole readable memory is scanned (the scan reads it, and finds no
# key: secret memory is not readable even to root, and swift-crypto's copies are wiped), and
# the same scans, and the same forced core dump, find a key held in ordinary heap memory.
#
#   keyd.sh BACKEND        lsm (the VM) or kill
#
# Needs root. Environment: IUM, IUMD, KEYD, ATTACK, IS_SECURE. kernel.core_pattern is set and
# restored on exit. The kcore scans run where RAM is at most 8 GiB (the VM).
BACKEND=${1:?usage: keyd.sh lsm|kill}
KEYD=${KEYD:-ium-keyd}
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init keyd

echo "ium-keyd, the reference trustlet: backend $BACKEND, kernel $(uname -r)"
tl_serve_or_exit "ium-keyd ($BACKEND)" --backend "$BACKEND"

# new_key NAME: a key file $W/NAME made in secret memory; KEY is its inverse (hex).
new_key() {
    KEY=$("$ATTACK" keyfile "$W/$1")
    case $? in
    0) ;;
    4) tl_skip "ium-keyd" "no secret memory in this kernel: $KEY"; tl_summary; exit ;;
    *) tl_fail "make a key file" "$KEY"; tl_summary; exit ;;
    esac
}

# start_keyd NAME LAUNCHER…: ium-keyd serving the key file $W/NAME on $W/NAME.sock, started by
# LAUNCHER (e.g. `ium run --`), with $SERVE_OPTS; KPID, SOCK, PUB.
start_keyd() {
    name=$1
    shift
    SOCK=$W/$name.sock
    "$@" "$KEYD" serve --socket "$SOCK" --key-file "$W/$name" $SERVE_OPTS > "$W/$name.out" 2>&1 &
    tl_track $!
    i=0
    while ! grep -q 'public key' "$W/$name.out" && [ $i -lt 600 ] && kill -0 $! 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    set -- $(grep 'public key' "$W/$name.out")
    KPID=${3%,} PUB=$8
    [ -n "$KPID" ] && tl_track "$KPID"
}

# attack_row NAME RC OUTFILE: an attack's result: it must not have found the key (0), nor broken (2).
attack_row() {
    case $2 in
    0) tl_fail "$1" "it found the key: $(head -n 1 "$3")" ;;
    2) tl_fail "$1" "the attack failed for another reason: $(head -n 1 "$3")" ;;
    *) tl_pass "$1" "exit $2: $(head -n 1 "$3")" ;;
    esac
}

# force_core PID: root raises PID's core limit and sends SIGSEGV; $core is the core written
# under $W/cores ("" if none).
force_core() {
    rm -f "$W"/cores/core.*
    prlimit --core=unlimited --pid "$1" > /dev/null 2>&1
    kill -SEGV "$1"
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 0.5
    core=$(ls "$W"/cores/core.* 2> /dev/null | head -n 1)
}

signs() {
    sig=$("$KEYD" sign --socket "$SOCK" "$1" 2>&1) && [ "$("$KEYD" verify --socket "$SOCK" "$sig" "$1" 2>&1)" = valid ]
}

# ium run tags ium-keyd before it runs; --mdwe needs Linux 6.3.
mdwe=--mdwe
case $(uname -r) in [1-5].* | 6.[0-2].*) mdwe= ;; esac
new_key key
start_keyd key "$IUM" run --no-new-privs $mdwe --
if [ -z "$KPID" ]; then
    tl_fail "start ium-keyd with ium run" "$(cat "$W/key.out")"
    tl_summary
    exit
fi
tl_pass "ium-keyd starts secure with ium run --no-new-privs $mdwe" "pid $KPID"
[ ! -e "$W/key" ] && tl_pass "the imported key file is wiped and removed" || tl_fail "the key file is wiped" "$W/key is still there"
tl_is_secure "$KPID" && tl_pass "ium query of ium-keyd shows IsSecureProcess 1" \
    || tl_fail "ium query of ium-keyd shows IsSecureProcess 1" "$("$IUM" query "$KPID" 2>&1 | head -n 3)"
[ "$("$IS_SECURE" "$KPID")" = "$KPID secure" ] && tl_pass "the WDK IsSecureProcess sample says ium-keyd is secure" \
    || tl_fail "the WDK sample says ium-keyd is secure" "$("$IS_SECURE" "$KPID" 2>&1)"
[ "$("$KEYD" public-key --socket "$SOCK")" = "$PUB" ] && signs "pay 100 to alice" \
    && tl_pass "it signs for root (allowed) and the signature verifies" "public key ${PUB%"${PUB#????????????????}"}…" \
    || tl_fail "it signs for root and the signature verifies" "$sig"
out=$(tl_as 65534 "$KEYD" sign --socket "$SOCK" "pay 100 to mallory" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'may not use this key' && tl_pass "it refuses a peer it does not allow (uid 65534)" "$out" \
    || tl_fail "it refuses uid 65534" "$out"
# An allowed peer holding more connections than ium-keyd has slots (64), idle, does not lock
# another client out: the newcomer takes the slot that has been quiet longest.
mkfifo "$W/hold.in"
"$ATTACK" holdconns "$SOCK" 80 < "$W/hold.in" > "$W/hold.out" 2>&1 &
hold=$!
exec 7> "$W/hold.in"
i=0
while ! grep -q holding "$W/hold.out" && [ $i -lt 200 ] && kill -0 $hold 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
if grep -q 'holding 80' "$W/hold.out" && signs "pay 5 to bob"; then
    tl_pass "80 idle connections of an allowed peer do not lock another client out"
else
    tl_fail "80 idle connections of an allowed peer do not lock another client out" "$(cat "$W/hold.out") $sig"
fi
exec 7>&-
wait $hold

# Root's attacks on the running trustlet.
timeout 120 gdb -p "$KPID" -batch -ex "gcore $W/gdb.core" > "$W/gdb.out" 2>&1
rc=$?
if [ -f "$W/gdb.core" ]; then
    "$ATTACK" grepfile "$W/gdb.core" "$KEY" > "$W/grep.out" 2>&1
    attack_row "root's gdb -p and gcore" $? "$W/grep.out"
elif [ $rc -eq 137 ] || grep -qiE 'not permitted|denied' "$W/gdb.out"; then
    echo "gdb: exit $rc, no core: $(grep -m 1 -iE 'not permitted|denied' "$W/gdb.out")" > "$W/gdb.row"
    attack_row "root's gdb -p and gcore" 1 "$W/gdb.row"
else
    tl_fail "root's gdb -p and gcore" "exit $rc, no core and no denial: $(head -n 3 "$W/gdb.out")"
fi
"$ATTACK" scanmem "$KPID" "$KEY" vm > "$W/vm.out" 2>&1
attack_row "root's process_vm_readv of all its memory" $? "$W/vm.out"
"$ATTACK" scanmem "$KPID" "$KEY" mem > "$W/mem.out" 2>&1
attack_row "root's read of all its memory through /proc/PID/mem" $? "$W/mem.out"
ram_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
kcore=yes
if [ ! -r /proc/kcore ]; then kcore="no /proc/kcore here"
elif [ "$ram_kib" -gt $((8 << 20)) ]; then kcore="$((ram_kib >> 20)) GiB of RAM: the scan runs in the VM"; fi
if [ "$kcore" = yes ]; then
    "$ATTACK" kcore "$KEY" ram > "$W/kcore.out" 2>&1
    rc=$?
    [ $rc -eq 3 ] && tl_pass "a /proc/kcore scan of RAM finds no copy of the key" "$(cat "$W/kcore.out")" \
        || tl_fail "a /proc/kcore scan of RAM finds no copy of the key" "exit $rc: $(cat "$W/kcore.out")"
    # The kernel image's own mapping aliases pages freed from the image unless PTI is on
    # (free_kernel_image_pages): a secret page placed in one is readable there (README "Limit,
    # measured"). With PTI (vm-test boots keyd.sh once with pti=on) the full scan must find
    # nothing; without, it is printed. Sealed, /proc/kcore is refused altogether.
    "$ATTACK" kcore "$KEY" > "$W/kcore-full.out" 2>&1
    rc=$?
    if grep -qw pti /proc/cpuinfo; then
        [ $rc -eq 3 ] && tl_pass "with PTI a full /proc/kcore scan (kernel image too) finds no copy" "$(cat "$W/kcore-full.out")" \
            || tl_fail "with PTI a full /proc/kcore scan finds no copy of the key" "exit $rc: $(cat "$W/kcore-full.out")"
    else
        echo "note: a full /proc/kcore scan, kernel image included, PTI off: $(cat "$W/kcore-full.out")"
    fi
else
    tl_skip "a /proc/kcore scan of RAM finds no copy of the key" "$kcore"
fi
signs "pay 200 to bob" && tl_pass "after the attacks it still signs, and the signatures verify" \
    || tl_fail "after the attacks it still signs" "$sig"
mkdir -p "$W/cores"
cores=no
if tl_sysctl_set /proc/sys/kernel/core_pattern "$W/cores/core.%p"; then
    cores=yes
    force_core "$KPID"
    if [ -z "$core" ]; then
        echo "no core was written" > "$W/core.out"
        attack_row "a forced core dump (SIGSEGV, root raised RLIMIT_CORE)" 3 "$W/core.out"
    else
        "$ATTACK" grepfile "$core" "$KEY" > "$W/core.out" 2>&1
        attack_row "a forced core dump (SIGSEGV, root raised RLIMIT_CORE)" $? "$W/core.out"
    fi
else
    tl_skip "a forced core dump" "kernel.core_pattern is not writable here"
fi
kill -9 "$KPID" 2>/dev/null

# Controls. An untagged ium-keyd (--insecure): every scan reads its memory and finds no key.
new_key plain
SERVE_OPTS=--insecure start_keyd plain env --
if [ -z "$KPID" ]; then
    tl_fail "start an untagged ium-keyd (control)" "$(cat "$W/plain.out")"
else
    "$KEYD" sign --socket "$SOCK" "warm up" > /dev/null 2>&1
    "$ATTACK" scanmem "$KPID" "$KEY" mem > "$W/plain-mem.out" 2>&1
    rc=$?
    [ $rc -eq 3 ] && tl_pass "control: root reads all of an untagged ium-keyd's memory, no key in it" "$(cat "$W/plain-mem.out")" \
        || tl_fail "control: an untagged ium-keyd's readable memory holds no key" "exit $rc: $(cat "$W/plain-mem.out")"
    kill -9 "$KPID"
fi
# The key in ordinary heap memory: the same scans must find it.
mkfifo "$W/heap.in"
sleep 1000000 > "$W/heap.in" &
tl_track $!
"$ATTACK" heapkey "$KEY" < "$W/heap.in" > "$W/heap.out" 2>&1 &
HPID=$!
tl_track $HPID
tl_wait_for grep -q holding "$W/heap.out"
"$ATTACK" scanmem "$HPID" "$KEY" vm > "$W/heap-vm.out" 2>&1
rc=$?
[ $rc -eq 0 ] && tl_pass "control: the memory scan finds the key in heap memory" "$(cat "$W/heap-vm.out")" \
    || tl_fail "control: the memory scan finds the key in heap memory" "exit $rc: $(cat "$W/heap-vm.out")"
if [ "$kcore" = yes ]; then
    "$ATTACK" kcore "$KEY" ram > "$W/heap-kcore.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && tl_pass "control: the /proc/kcore scan finds the key in heap memory" "$(cat "$W/heap-kcore.out")" \
        || tl_fail "control: the /proc/kcore scan finds the key in heap memory" "exit $rc: $(cat "$W/heap-kcore.out")"
fi
# The same forced core of the heap holder is written and holds the key.
if [ "$cores" = yes ]; then
    force_core "$HPID"
    if [ -z "$core" ]; then tl_fail "control: a forced core of the heap holder holds the key" "no core was written"
    elif "$ATTACK" grepfile "$core" "$KEY" > "$W/heap-core.out" 2>&1; then
        tl_pass "control: a forced core of the heap holder holds the key" "$(cat "$W/heap-core.out")"
    else tl_fail "control: a forced core of the heap holder holds the key" "$(cat "$W/heap-core.out")"; fi
fi
tl_summary
