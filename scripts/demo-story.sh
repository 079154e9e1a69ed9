#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The user's story, on whatever backend the kernel offers: start iumd, start a program that
# holds a secret, tag it secure, attack it with strace -p and a process_vm_writev program,
# see the denials, query its Flags, read the audit store; then a trustlet (ium-keyd) signs
# while root fails to read its key; clean up.
# The demo's iumd pins its guard under /sys/fs/bpf/ium-demo-<pid> with its own socket and
# database, so a machine's own guard (if iumd already protects processes here) is untouched.
# Environment: IUM, IUMD, KEYD, VICTIM, ATTACK (make demo sets them; the VM has them on PATH).
IUM=${IUM:-ium}
IUMD=${IUMD:-iumd}
KEYD=${KEYD:-ium-keyd}
VICTIM=${VICTIM:-victim}
ATTACK=${ATTACK:-attack}
W=$(mktemp -d /tmp/ium-demo.XXXXXX)
PIN=/sys/fs/bpf/ium-demo-$$
export IUM_SOCKET=$W/iumd.sock
cleanup() {
    kill -9 "${pid:-}" "${holder:-}" "${kpid:-}" "${keyd:-}" 2>/dev/null
    [ -n "${daemon:-}" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    [ -d "$PIN" ] && "$IUMD" --pin-dir "$PIN" --unload > /dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Start iumd (it loads the kernel guard and picks the backend this kernel supports)"
"$IUMD" --pin-dir "$PIN" --socket "$IUM_SOCKET" --database "$W/audit.sqlite" > "$W/iumd.log" 2>&1 &
daemon=$!
i=0
while [ ! -S "$IUM_SOCKET" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
run "$IUM" status

say "A program holding a secret in memory"
mkfifo "$W/in"
sleep 1000000 > "$W/in" &
holder=$!
"$VICTIM" < "$W/in" > "$W/victim.out" 2>&1 &
i=0
while [ ! -s "$W/victim.out" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
set -- $(head -n 1 "$W/victim.out")
pid=$3 addr=$7
echo "victim: pid $pid, secret at $addr"

say "Tag it secure"
run "$IUM" tag "$pid"

say "Attach a debugger to it: strace -p $pid"
run strace -qq -o /dev/null -p "$pid"
echo "(exit code $?: EPERM with the lsm backend, killed (137) with the kill backend)"

say "Write into its memory with process_vm_writev, as root"
run "$ATTACK" vmwrite "$pid" "$addr"
echo "(exit code $?)"
echo check > "$W/in"
sleep 0.2
echo "the victim checks its secret: $(tail -n 1 "$W/victim.out")"

say "Ask for its Flags, as a WDK driver would (ZwQueryInformationProcess, PROCESS_EXTENDED_BASIC_INFORMATION)"
run "$IUM" query "$pid"

say "The audit store"
sleep 0.3
run "$IUM" events

say "A trustlet: ium-keyd holds a signing key in secret memory and runs secure (ium run)"
# The demo's key is made in secret memory and handed over in a file that ium-keyd wipes; the
# demo keeps only its bitwise inverse, to search for it.
if key=$("$ATTACK" keyfile "$W/key"); then
    printf '$ %s\n' "$IUM run --no-new-privs -- $KEYD serve --socket $W/keyd.sock --key-file $W/key &"
    "$IUM" run --no-new-privs -- "$KEYD" serve --socket "$W/keyd.sock" --key-file "$W/key" > "$W/keyd.out" 2>&1 &
    keyd=$!
    i=0
    while ! grep -q 'public key' "$W/keyd.out" && [ $i -lt 600 ] && kill -0 $keyd 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    cat "$W/keyd.out"
    kpid=$(sed -n 's/^ium-keyd: pid \([0-9]*\),.*/\1/p' "$W/keyd.out")
    run "$KEYD" sign --socket "$W/keyd.sock" "pay 100 to alice"
    sig=$("$KEYD" sign --socket "$W/keyd.sock" "pay 100 to alice")
    run "$KEYD" verify --socket "$W/keyd.sock" "$sig" "pay 100 to alice"
    echo "(the key file is gone: $(ls "$W/key" 2>&1))"

    say "Root tries to take the key: read all of ium-keyd's memory, then scan the kernel's view of RAM"
    run "$ATTACK" scanmem "$kpid" "$key" mem
    echo "(exit code $?: EPERM with the lsm backend, killed (137) with the kill backend)"
    if [ -r /proc/kcore ]; then
        run "$ATTACK" kcore "$key" ram
        echo "(exit code $?; 3 is not found: secret memory is not in the kernel's direct map)"
    fi
    run "$KEYD" sign --socket "$W/keyd.sock" "pay 200 to bob"
else
    echo "no secret memory in this kernel ($key): on Linux 6.1 boot with secretmem.enable=1"
fi

say "Unload the guard (root, through iumd; a sealed guard would refuse)"
run "$IUM" guard unload
wait "$daemon" 2>/dev/null
daemon=
