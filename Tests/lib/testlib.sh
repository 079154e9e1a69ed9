# SPDX-License-Identifier: Apache-2.0
#
# The test scripts' shared library (POSIX sh: it also runs under busybox in the VM).
#
#   . Tests/lib/testlib.sh; tl_init NAME
#
# A test never touches the machine's own guard: tl_start_iumd starts a private iumd whose
# guard is pinned under /sys/fs/bpf/ium-test-<pid> with its own socket and audit store, and
# tl_cleanup (run on exit, also on failure or interruption) stops it, unloads that test guard,
# restores every sysctl changed through tl_sysctl_set and removes the work directory.
# Results are rows: PASS, FAIL (with why) and SKIP (with why); tl_summary prints
# "N passed, N failed, N skipped" and returns non-zero when something failed.
#
# Environment: IUM, IUMD (the binaries), VICTIM (Tests/attack/victim.c built).

IUM=${IUM:-ium}
IUMD=${IUMD:-iumd}
VICTIM=${VICTIM:-victim}
# util-linux's setpriv, by path: busybox sh in the VM prefers its own applet, which cannot
# change uids.
SETPRIV=/usr/bin/setpriv
# tl_as UID COMMAND…: runs COMMAND as UID (gid the same, no supplementary groups).
tl_as() {
    uid=$1
    shift
    "$SETPRIV" --reuid "$uid" --regid "$uid" --clear-groups "$@"
}
TL_PASS=0
TL_FAIL=0
TL_SKIP=0
TL_DAEMON=

# tl_init NAME: the work directory $W, the test guard's pin directory, the cleanup trap.
tl_init() {
    TL_NAME=$1
    W=$(mktemp -d "/tmp/ium-$1.XXXXXX")
    chmod 755 "$W" # other users (uid 65534 attackers and clients) reach the socket
    TL_PIN=/sys/fs/bpf/ium-test-$$
    export IUM_SOCKET="$W/iumd.sock"
    : > "$W/sysctl.restore"
    : > "$W/pids"
    trap tl_cleanup EXIT
    trap 'exit 130' INT TERM
    tl_clean_stale_pins
}

tl_cleanup() {
    rc=$?
    # Each tracked process and its children (a tracked 'sh -c "sleep …; :"' would leave its
    # sleep running).
    for pid in $(cat "$W/pids" 2>/dev/null); do
        kill -9 "$pid" $(cat /proc/"$pid"/task/*/children 2>/dev/null) 2>/dev/null
    done
    tl_stop_iumd
    [ -d "$TL_PIN" ] && "$IUMD" --pin-dir "$TL_PIN" --unload > /dev/null 2>&1
    # Restore sysctls, newest change first.
    if [ -s "$W/sysctl.restore" ]; then
        tac "$W/sysctl.restore" | while read -r path value; do { echo "$value" > "$path"; } 2> /dev/null; done
    fi
    rm -rf "$W"
    exit $rc
}

# Test guards of runs that died without cleaning up (their pid is gone).
tl_clean_stale_pins() {
    for dir in /sys/fs/bpf/ium-test-*; do
        [ -d "$dir" ] || continue
        owner=${dir##*-}
        kill -0 "$owner" 2>/dev/null || "$IUMD" --pin-dir "$dir" --unload > /dev/null 2>&1
    done
}

tl_row() { printf '%-58s %s\n' "$1" "$2"; }
tl_pass() { tl_row "$1" "PASS${2:+ ($2)}"; TL_PASS=$((TL_PASS + 1)); }
tl_fail() { tl_row "$1" "FAIL $2"; TL_FAIL=$((TL_FAIL + 1)); }
tl_skip() { tl_row "$1" "SKIP $2"; TL_SKIP=$((TL_SKIP + 1)); }
# tl_check NAME DETAIL COMMAND…: PASS when the command succeeds, else FAIL with DETAIL.
tl_check() {
    name=$1 detail=$2
    shift 2
    if "$@" > /dev/null 2>&1; then tl_pass "$name"; else tl_fail "$name" "$detail"; fi
}
tl_summary() {
    echo "$TL_PASS passed, $TL_FAIL failed, $TL_SKIP skipped"
    [ "$TL_FAIL" -eq 0 ]
}

# tl_track PID: killed at cleanup.
tl_track() { echo "$1" >> "$W/pids"; }

# tl_spawn_as UID COMMAND…: starts COMMAND as UID in the background, its output discarded, and
# tracks it. ("tl_as … &" would track the subshell running the function, not the command, and
# leave the command running after cleanup.)
tl_spawn_as() {
    uid=$1
    shift
    "$SETPRIV" --reuid "$uid" --regid "$uid" --clear-groups "$@" > /dev/null 2>&1 &
    tl_track $!
}

# tl_sysctl_set PATH VALUE: sets a /proc/sys value, restored at cleanup.
tl_sysctl_set() {
    [ -w "$1" ] || return 1
    echo "$1 $(cat "$1")" >> "$W/sysctl.restore"
    echo "$2" > "$1"
}

# tl_wait_for COMMAND…: runs COMMAND until it succeeds, for up to 5 seconds.
tl_wait_for() {
    i=0
    while ! "$@" > /dev/null 2>&1; do
        [ $i -ge 500 ] && return 1
        sleep 0.01
        i=$((i + 1))
    done
}

# tl_wait_lines FILE N: until FILE has at least N lines (5 seconds).
tl_wait_lines() {
    i=0
    while [ "$(if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi)" -lt "$2" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}

# tl_start_iumd [ARGS…]: a private iumd with its own guard. Returns 0 when it serves, 2 when
# the machine's guard is sealed (test guards cannot load: callers print SKIP), 1 otherwise.
tl_start_iumd() {
    "$IUMD" --pin-dir "$TL_PIN" --socket "$IUM_SOCKET" --database "$W/audit.sqlite" "$@" >> "$W/iumd.log" 2>&1 &
    TL_DAEMON=$!
    i=0
    while [ ! -S "$IUM_SOCKET" ] && [ $i -lt 1000 ] && kill -0 "$TL_DAEMON" 2>/dev/null; do sleep 0.01; i=$((i + 1)); done
    [ -S "$IUM_SOCKET" ] && return 0
    TL_DAEMON=
    grep -q 'sealed' "$W/iumd.log" && return 2
    return 1
}

# tl_serve_or_exit SUITE [ARGS…]: tl_start_iumd, or end the script: SKIP SUITE when the
# machine's guard is sealed, FAIL with iumd's log when it does not start.
tl_serve_or_exit() {
    suite=$1
    shift
    tl_start_iumd "$@"
    case $? in
    0) return 0 ;;
    2) tl_skip "$suite" "the machine's guard is sealed: test guards cannot load ($(tail -n 1 "$W/iumd.log"))" ;;
    *) cat "$W/iumd.log"; tl_fail "start iumd for $suite" "see the log above" ;;
    esac
    tl_summary
    exit
}

tl_stop_iumd() {
    [ -n "$TL_DAEMON" ] || return 0
    kill -TERM "$TL_DAEMON" 2>/dev/null
    wait "$TL_DAEMON" 2>/dev/null
    TL_DAEMON=
}

# tl_start_victim NAME [LAUNCHER…]: a process holding a secret, driven through a FIFO (a
# sleeping writer keeps it open). Sets VPID VTID VADDR VFD and VOUT, VIN for NAME.
tl_start_victim() {
    name=$1
    shift
    [ $# -gt 0 ] || set -- "$VICTIM"
    VIN=$W/$name.in
    VOUT=$W/$name.out
    rm -f "$VIN"
    mkfifo "$VIN"
    : > "$VOUT"
    sleep 1000000 > "$VIN" &
    tl_track $!
    "$@" < "$VIN" > "$VOUT" 2>&1 &
    tl_wait_for grep -q '^victim' "$VOUT" # (a launcher may print first)
    set -- $(grep '^victim' "$VOUT" | head -n 1)
    VPID=$3 VTID=$5 VADDR=$7 VFD=$9
    tl_track "$VPID"
}

# tl_stop_victim: kills the current victim and reaps it.
tl_stop_victim() { kill -9 "$VPID" 2> /dev/null; wait "$VPID" 2> /dev/null; }

# tl_ask COMMAND: sends a command to the current victim and prints its answer line ("dead"
# when the victim is gone: a FIFO without a reader would block the writer for good).
tl_ask() {
    if ! kill -0 "$VPID" 2> /dev/null || [ "$(tl_state_of "$VPID")" = Z ]; then echo dead; return; fi
    have=$(wc -l < "$VOUT")
    echo "$1" > "$VIN"
    tl_wait_lines "$VOUT" $((have + 1))
    tail -n 1 "$VOUT"
}

# tl_has_cap N: this shell's effective capabilities include capability number N.
tl_has_cap() {
    eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
    [ $(((0x$eff >> $1) & 1)) -eq 1 ]
}

tl_state_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }

# tl_is_secure PID: IsSecureProcess as iumd reports it.
tl_is_secure() { "$IUM" query "$1" --json 2>/dev/null | grep -q '"IsSecureProcess":true'; }

# tl_denials PID: the audit store's denials naming PID as the target.
tl_denials() { timeout 20 "$IUM" events 2>/dev/null | grep -c " on $1/"; }

# tl_wait_denial PID BEFORE: until the audit store holds more than BEFORE denials on PID.
tl_wait_denial() { tl_wait_for tl_more_denials "$1" "$2"; }
tl_more_denials() { [ "$(tl_denials "$1")" -gt "$2" ]; }

# tl_op_denials OP: the audit store's denials of operation OP (e.g. bpf-load, tamper-pin).
tl_op_denials() { timeout 20 "$IUM" events 2>/dev/null | grep -cE " (denied|killed) $1 by "; }
# tl_wait_op OP BEFORE: until the audit store holds more than BEFORE denials of OP.
tl_wait_op() { tl_wait_for tl_more_op "$1" "$2"; }
tl_more_op() { [ "$(tl_op_denials "$1")" -gt "$2" ]; }

# tl_start_attacker NAME COMMAND…: an attacker that opens something first, prints "opened"
# and waits for a line on its stdin (tl_go NAME) before it acts. Output in $W/NAME.attack; tl_go
# prints its exit status.
tl_start_attacker() {
    an=$1
    shift
    rm -f "$W/$an.go" "$W/$an.rc"
    mkfifo "$W/$an.go"
    ("$@" < "$W/$an.go" > "$W/$an.attack" 2>&1; echo $? > "$W/$an.rc") > /dev/null &
    exec 9<> "$W/$an.go" # read-write: does not block (nor fail with EINTR) before the reader opens
    tl_wait_for grep -q '^opened' "$W/$an.attack"
}
tl_go() {
    echo go >&9
    exec 9>&-
    tl_wait_for test -s "$W/$1.rc"
    cat "$W/$1.rc"
}
