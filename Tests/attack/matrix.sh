#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The attack matrix: every way into a process tagged secure, tried by real attackers.
#
#   matrix.sh BACKEND        BACKEND: lsm (the VM) or kill (a kernel without the BPF LSM)
#
# Needs root. Environment: IUM, IUMD, VICTIM, ATTACK (Tests/attack/*.c built), optional
# FIXTURE (Tests/Fixtures/testproc.c built, for pid reuse). Starts a private iumd whose guard
# (backend BACKEND) is pinned under /sys/fs/bpf/ium-test-<pid>: the machine's own guard, if
# any, is never touched, and Yama's ptrace_scope is restored on exit. Prints a table and
# "N passed, N failed, N skipped"; exits non-zero when a case failed.
#
# Each denial case checks the outcome for the backend (lsm: the call fails with EPERM;
# kill: the caller is killed, exit 137), that the victim's secret is intact, that it is not
# left stopped, and that the audit store has a denial naming it. Cases marked "gap" record
# what the kill backend does not cover (README: threat model).

BACKEND=${1:?usage: matrix.sh lsm|kill}
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init matrix

# deny NAME TARGET-PID COMMAND…: a denial case.
deny() {
    name=$1 target=$2
    shift 2
    before=$(tl_denials "$target")
    "$@" > "$W/attack.out" 2>&1
    rc=$?
    if [ "$BACKEND" = lsm ]; then want=1; else want=137; fi
    if [ $rc -ne $want ]; then tl_fail "$name" "exit $rc, want $want: $(tr '\n' ' ' < "$W/attack.out" | cut -c1-120)"; return; fi
    if ! tl_wait_denial "$target" "$before"; then tl_fail "$name" "exit $rc but no denial in the audit store for $target"; return; fi
    if [ -n "$VPID" ] && kill -0 "$VPID" 2>/dev/null; then
        [ "$(tl_ask check)" = intact ] || { tl_fail "$name" "the victim's secret changed"; return; }
        st=$(tl_state_of "$VPID")
        case $st in T | t) tl_fail "$name" "victim left stopped ($st)"; return ;; esac
    fi
    tl_pass "$name" "exit $rc, audited, intact"
}

# allow NAME COMMAND…: the attack must work (untagged targets, the gaps of kill).
allow() {
    name=$1
    shift
    "$@" > "$W/attack.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then tl_pass "$name" "allowed"; else tl_fail "$name" "exit $rc, want allowed: $(tr '\n' ' ' < "$W/attack.out" | cut -c1-120)"; fi
}

# gdb_read PID ADDR: gdb attaches and prints the secret. gdb exits 0 even when the attach
# fails, so judge it by what it printed: 0 read the secret, 1 EPERM, 137 killed, 2 other.
gdb_read() {
    gdb -nx -batch -p "$1" -ex "x/s $2" > "$W/gdb.out" 2>&1
    rc=$?
    cat "$W/gdb.out"
    [ $rc -eq 137 ] && return 137
    grep -q 'IUM-SECRET' "$W/gdb.out" && return 0
    grep -q 'Operation not permitted' "$W/gdb.out" && return 1
    return 2
}

# gap NAME TARGET COMMAND…: lsm must deny; kill records today's behaviour (allowed).
gap() {
    name=$1 target=$2
    shift 2
    if [ "$BACKEND" = lsm ]; then deny "$name" "$target" "$@"; else allow "$name (gap)" "$@"; fi
}

tag() { "$IUM" tag "$1" > "$W/tag.out" 2>&1 || { cat "$W/tag.out"; return 1; }; }

echo "ium attack matrix: backend $BACKEND, kernel $(uname -r)"
tl_serve_or_exit "attack matrix ($BACKEND)" --backend "$BACKEND"
[ -e /proc/sys/kernel/yama/ptrace_scope ] && tl_sysctl_set /proc/sys/kernel/yama/ptrace_scope 0
tl_row CASE RESULT

tl_start_victim v1
tag "$VPID"
deny "PTRACE_ATTACH" "$VPID" "$ATTACK" attach "$VPID" "$VADDR"
deny "PTRACE_SEIZE" "$VPID" "$ATTACK" seize "$VPID" "$VADDR"
deny "PTRACE_ATTACH to a non-leader thread" "$VPID" "$ATTACK" attach "$VTID" "$VADDR"
deny "process_vm_writev" "$VPID" "$ATTACK" vmwrite "$VPID" "$VADDR"
deny "process_vm_readv" "$VPID" "$ATTACK" vmread "$VPID" "$VADDR"
deny "open /proc/P/mem" "$VPID" "$ATTACK" mem "/proc/$VPID/mem" "$VADDR"
deny "open /proc/P/task/T/mem" "$VPID" "$ATTACK" mem "/proc/$VPID/task/$VTID/mem" "$VADDR"
deny "openat(dirfd /proc/P, mem)" "$VPID" "$ATTACK" memdirfd "$VPID" "$VADDR"
deny "open /proc/self/../P/mem" "$VPID" "$ATTACK" mem "/proc/self/../$VPID/mem" "$VADDR"
deny "open /proc/P/environ" "$VPID" cat "/proc/$VPID/environ"
gap "io_uring openat of /proc/P/mem" "$VPID" "$ATTACK" iouring "/proc/$VPID/mem" "$VADDR"
deny "pidfd_getfd" "$VPID" "$ATTACK" getfd "$VPID" "$VFD"
gap "sigqueue with a payload (APC)" "$VPID" "$ATTACK" sigqueue "$VPID"
if [ "$BACKEND" = lsm ]; then
    answer=$(tl_ask apc)
    [ "$answer" = no-apc ] && tl_pass "the payload signal never arrived" || tl_fail "the payload signal never arrived" "$answer"
fi
deny "gdb -p" "$VPID" gdb_read "$VPID" "$VADDR"
deny "strace -p" "$VPID" timeout 5 strace -qq -o /dev/null -p "$VPID"
if command -v python3 > /dev/null 2>&1; then
    deny "python ctypes process_vm_writev" "$VPID" python3 -c "
import ctypes, sys
class iov(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
libc = ctypes.CDLL(None, use_errno=True)
data = ctypes.create_string_buffer(b'PWNED')
l = iov(ctypes.cast(data, ctypes.c_void_p), 5); r = iov($VADDR, 5)
n = libc.process_vm_writev($VPID, ctypes.byref(l), 1, ctypes.byref(r), 1, 0)
print('process_vm_writev', n, ctypes.get_errno()); sys.exit(0 if n == 5 else 1 if ctypes.get_errno() == 1 else 2)"
else
    tl_skip "python ctypes process_vm_writev" "python3 is not installed"
fi

# Same-uid and root attackers: the kernel alone would allow a same-uid attach.
tl_start_victim v2 "$VICTIM" --uid 65534
tag "$VPID"
deny "same-uid attacker (uid 65534) vmread" "$VPID" "$ATTACK" --uid 65534 vmread "$VPID" "$VADDR"
deny "same-uid attacker (uid 65534) attach" "$VPID" "$ATTACK" --uid 65534 attach "$VPID" "$VADDR"
deny "root attacker vmwrite" "$VPID" "$ATTACK" vmwrite "$VPID" "$VADDR"

# The process itself still reads its own memory.
tl_start_victim v3
tag "$VPID"
answer=$(tl_ask selfread)
[ "$answer" = "selfread ok" ] && tl_pass "the process reads its own /proc/self/mem" || tl_fail "the process reads its own /proc/self/mem" "$answer"

# A child and a thread created after tagging inherit the tag.
set -- $(tl_ask spawn)
child=$2 thread=$4
tl_track "$child"
deny "a child created after tagging" "$child" "$ATTACK" vmread "$child" "$VADDR"
deny "a thread created after tagging" "$VPID" "$ATTACK" attach "$thread" "$VADDR"

# exec keeps the tag.
have=$(wc -l < "$VOUT")
echo exec > "$VIN"
tl_wait_lines "$VOUT" $((have + 1))
set -- $(tail -n 1 "$VOUT")
VADDR=$7
tl_is_secure "$VPID" && tl_pass "exec keeps the tag" || tl_fail "exec keeps the tag" "not secure after exec"
deny "process_vm_readv after exec" "$VPID" "$ATTACK" vmread "$VPID" "$VADDR"

# PTRACE_TRACEME by a secure process.
tl_start_victim v4
tag "$VPID"
before=$(tl_denials "$VPID")
answer=$(tl_ask traceme)
if [ "$BACKEND" = lsm ]; then
    if [ "$answer" != "traceme EPERM" ]; then tl_fail "PTRACE_TRACEME in a secure process" "$answer"
    elif ! tl_wait_denial "$VPID" "$before"; then tl_fail "PTRACE_TRACEME in a secure process" "no denial in the audit store"
    else tl_pass "PTRACE_TRACEME in a secure process" "$answer, audited"; fi
else
    if tl_wait_for sh -c "! kill -0 $VPID"; then tl_pass "PTRACE_TRACEME in a secure process" "tracee killed"
    else tl_fail "PTRACE_TRACEME in a secure process" "the tracee was not killed ($answer)"; fi
    VPID=
fi

# A process already being traced cannot be tagged.
tl_start_victim v5
timeout 10 strace -qq -o /dev/null -p "$VPID" &
tracer=$!
tl_wait_for grep -q "TracerPid:[[:space:]]*[1-9]" "/proc/$VPID/status"
if "$IUM" tag "$VPID" > "$W/tag.out" 2>&1; then tl_fail "tagging a traced process is refused" "tagged"
elif grep -q "being traced" "$W/tag.out"; then tl_pass "tagging a traced process is refused" "refused: being traced"
else tl_fail "tagging a traced process is refused" "$(cat "$W/tag.out")"; fi
kill "$tracer" 2>/dev/null
wait "$tracer" 2>/dev/null

# Untagged processes are unaffected.
tl_start_victim v6
allow "gdb -p on an untagged process reads the secret" gdb_read "$VPID" "$VADDR"
allow "process_vm_writev on an untagged process" "$ATTACK" vmwrite "$VPID" "$VADDR"

# PID reuse: a new process with a tagged process's pid is not secure.
if [ -z "${FIXTURE:-}" ]; then
    tl_skip "a reused pid is not secure" "FIXTURE (testproc) not given"
else
    tl_start_victim v7
    tag "$VPID"
    old=$VPID
    kill -9 "$old"
    wait "$old" 2>/dev/null
    "$FIXTURE" settid "$old" > "$W/settid.out" 2>&1 &
    creator=$!
    tl_track "$creator"
    tl_wait_lines "$W/settid.out" 1
    if [ "$(cut -d' ' -f2 "$W/settid.out")" != "$old" ]; then
        tl_fail "a reused pid is not secure" "clone3 set_tid failed: $(cat "$W/settid.out")"
    elif tl_is_secure "$old"; then
        tl_fail "a reused pid is not secure" "the new process inherited the tag"
    else
        allow "a reused pid is not secure (attach allowed)" "$ATTACK" attach "$old" 0
    fi
    kill -9 "$old" 2>/dev/null
fi

"$IUM" status | grep '^counters'
tl_summary
