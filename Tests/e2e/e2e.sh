#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# iumd and its clients end to end, on whatever backend this kernel gives (host: kill;
# VM: lsm). Needs root. Environment: IUM, IUMD, VICTIM, ATTACK, NT_RULES, IS_SECURE.
# Starts its own iumd on a temporary socket and database; prints a table and
# "N passed, N failed"; exits non-zero when a case failed.
IUM=${IUM:-ium}
IUMD=${IUMD:-iumd}
W=$(mktemp -d /tmp/ium-e2e.XXXXXX)
chmod 755 "$W" # other users reach the socket
export IUM_SOCKET=$W/iumd.sock
pass=0
fail=0

ok() { printf '%-58s PASS\n' "$1"; pass=$((pass + 1)); }
bad() { printf '%-58s FAIL %s\n' "$1" "$2"; fail=$((fail + 1)); }
expect() { # NAME COMMAND… : the command must succeed
    name=$1; shift
    if "$@" > "$W/out" 2>&1; then ok "$name"; else bad "$name" "$(tr '\n' ' ' < "$W/out" | cut -c1-160)"; fi
}

start_daemon() {
    "$IUMD" --socket "$IUM_SOCKET" --database "$W/audit.sqlite" >> "$W/iumd.log" 2>&1 &
    DPID=$!
    i=0
    while [ ! -S "$IUM_SOCKET" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
    [ -S "$IUM_SOCKET" ]
}
stop_daemon() { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }

wait_lines() {
    i=0
    while [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -lt "$2" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}

# start_victim NAME [launcher…]: a victim holding a secret, kept alive by a FIFO on fd 3/4.
start_victim() {
    mkfifo "$W/$1.in"
    : > "$W/$1.out"
    shift_name=$1
    shift
    if [ "$1" = fd4 ]; then shift; exec 4<>"$W/$shift_name.in"; else exec 3<>"$W/$shift_name.in"; fi
    "$@" < "$W/$shift_name.in" > "$W/$shift_name.out" 2>&1 &
    wait_lines "$W/$shift_name.out" 1
    set -- $(grep '^victim' "$W/$shift_name.out" | head -n 1)
    VPID=$3 VADDR=$7
}

"$IUM" guard unload > /dev/null 2>&1
echo "ium end-to-end: kernel $(uname -r)"
if ! start_daemon; then
    cat "$W/iumd.log"
    echo "0 passed, 1 failed"
    exit 1
fi
BACKEND=$("$IUM" status --json | sed -n 's/.*"backend":"\([a-z]*\)".*/\1/p')
[ -n "$BACKEND" ] && ok "ium status reports the backend ($BACKEND)" || bad "ium status reports the backend" "$("$IUM" status 2>&1)"
if [ "$BACKEND" = lsm ]; then DENIED=1; else DENIED=137; fi

# libium: every NT rule, through the daemon.
"$NT_RULES" > "$W/rules.out" 2>&1
grep FAIL "$W/rules.out"
tail -n 1 "$W/rules.out" | grep -q ' 0 failed' && ok "libium NT rules: $(tail -n 1 "$W/rules.out")" || bad "libium NT rules" "$(tail -n 1 "$W/rules.out")"

# The user story: tag, try to ptrace it, see the denial, query its flags.
start_victim story "$VICTIM"
expect "ium tag PID" "$IUM" tag "$VPID"
strace -qq -o /dev/null -p "$VPID" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && ok "strace -p is denied (exit $rc)" || bad "strace -p is denied" "exit $rc"
"$ATTACK" vmwrite "$VPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && ok "process_vm_writev is denied (exit $rc)" || bad "process_vm_writev is denied" "exit $rc"
echo check >&3
wait_lines "$W/story.out" 2
[ "$(tail -n 1 "$W/story.out")" = intact ] && ok "the secret is intact" || bad "the secret is intact" "$(tail -n 1 "$W/story.out")"
"$IUM" query "$VPID" > "$W/query.out" 2>&1
grep -q '^    IsSecureProcess       1$' "$W/query.out" && ok "ium query shows IsSecureProcess 1" || bad "ium query shows IsSecureProcess 1" "$(head -c 300 "$W/query.out")"
# iumd (INSPECTOR) may make READ-mode checks on secure processes: stat's startstack, exe.
grep -qE '^  PebBaseAddress +0x[1-9A-F]' "$W/query.out" && ok "iumd reads the secure process's PebBaseAddress" || bad "iumd reads PebBaseAddress" "$(grep PebBase "$W/query.out")"
if [ "$BACKEND" = lsm ]; then
    "$IUM" query --local "$VPID" | grep -qE '^  PebBaseAddress +0x0$' && ok "root without iumd's INSPECTOR bit cannot read it (0)" || bad "only iumd reads PebBaseAddress" "$("$IUM" query --local "$VPID" | grep PebBase)"
fi
"$IUM" query "$VPID" --class ProcessImageFileName | grep -q "Buffer  *$VICTIM\|Buffer  *.*/victim$" && ok "iumd reads the secure process's image name" || bad "iumd reads the image name" "$("$IUM" query "$VPID" --class ProcessImageFileName 2>&1 | head -4)"
[ "$("$IS_SECURE" "$VPID")" = "$VPID secure" ] && ok "the WDK IsSecureProcess sample says secure" || bad "the WDK sample says secure" "$("$IS_SECURE" "$VPID")"
[ "$("$IS_SECURE" $$)" = "$$ not secure" ] && ok "the WDK sample says not secure for the shell" || bad "the WDK sample on the shell" "$("$IS_SECURE" $$)"
sleep 0.5
"$IUM" events > "$W/events.out" 2>&1
n=$(grep -c " on $VPID/" "$W/events.out")
[ "$n" -ge 2 ] && ok "ium events shows the $n denials from the audit store" || bad "ium events shows the denials" "$(cat "$W/events.out")"
"$IUM" ps --secure | grep -q "^$VPID " && ok "ium ps --secure lists it" || bad "ium ps --secure lists it" ""

# ium run: secure from the first instruction.
start_victim run fd4 "$IUM" run -- "$VICTIM"
RPID=$VPID
[ "$("$IS_SECURE" "$RPID")" = "$RPID secure" ] && ok "ium run -- PROGRAM starts it secure" || bad "ium run starts it secure" "$("$IS_SECURE" "$RPID" 2>&1)"
"$ATTACK" vmread "$RPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && ok "and it is protected (exit $rc)" || bad "the ium run program is protected" "exit $rc"
awk '/Max core file size/ {exit !($5 == 0)}' "/proc/$RPID/limits" && ok "it leaves no core dump (RLIMIT_CORE 0)" || bad "RLIMIT_CORE 0" "$(grep core /proc/$RPID/limits)"

# Two users: the NT access rules.
sleep 1000 &
PLAIN=$!
[ "$("$NT_RULES" access "$PLAIN")" = "class0 0x00000000 class7 0x00000000 vmread 0x00000000" ] \
    && ok "root: QUERY_INFORMATION and VM_READ on an ordinary process" || bad "root on an ordinary process" "$("$NT_RULES" access "$PLAIN")"
[ "$("$NT_RULES" --uid 65534 access "$PLAIN")" = "class0 0x00000000 class7 0xC0000022 vmread 0xC0000022" ] \
    && ok "another user: QUERY_LIMITED only" || bad "another user: QUERY_LIMITED only" "$("$NT_RULES" --uid 65534 access "$PLAIN")"
[ "$("$NT_RULES" access "$RPID")" = "class0 0x00000000 class7 0x00000000 vmread 0xC0000022" ] \
    && ok "root: VM_READ on a secure process is ACCESS_DENIED" || bad "root VM_READ on secure" "$("$NT_RULES" access "$RPID")"
kill "$PLAIN"

# A daemon restart while secure processes run.
mkfifo "$W/hold.in"
exec 5<>"$W/hold.in"
"$NT_RULES" hold "$RPID" < "$W/hold.in" > "$W/hold.out" 2>&1 &
wait_lines "$W/hold.out" 1
stop_daemon
"$ATTACK" vmwrite "$VPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && ok "iumd stopped: still denied (the guard stays in the kernel)" || bad "denied while iumd is stopped" "exit $rc"
"$IUM" query "$VPID" > /dev/null 2>&1
rc=$?
[ $rc -eq 69 ] && ok "iumd stopped: ium says how to start it (exit 69)" || bad "ium without iumd exits 69" "exit $rc"
start_daemon && ok "iumd restarts and adopts the pinned guard" || bad "iumd restarts" "$(tail -n 3 "$W/iumd.log")"
"$IUM" query "$VPID" | grep -q '^    IsSecureProcess       1$' \
    && ok "after the restart it is still reported secure" || bad "still reported secure after restart" ""
"$ATTACK" vmwrite "$VPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && ok "after the restart it is still denied" || bad "still denied after restart" "exit $rc"
echo go >&5
wait_lines "$W/hold.out" 2
[ "$(tail -n 1 "$W/hold.out")" = "old 0xC0000008 new 0x00000000" ] \
    && ok "old connection's handle is gone, a new one works" || bad "handles after restart" "$(tail -n 1 "$W/hold.out")"

stop_daemon
kill -9 "$VPID" "$RPID" 2>/dev/null
"$IUM" guard unload > /dev/null 2>&1
rm -rf "$W"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
