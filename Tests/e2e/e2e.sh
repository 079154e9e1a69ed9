#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# iumd and its clients end to end, on whatever backend this kernel gives (host: kill;
# VM: lsm). Needs root. Environment: IUM, IUMD, VICTIM, ATTACK, NT_RULES, IS_SECURE.
# Starts a private iumd (its guard under /sys/fs/bpf/ium-test-<pid>, its own socket and
# database: the machine's guard is never touched); prints a table and
# "N passed, N failed, N skipped"; exits non-zero when a case failed.
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init e2e

echo "ium end-to-end: kernel $(uname -r)"
tl_start_iumd
case $? in
0) ;;
2) tl_skip "iumd end to end" "the machine's guard is sealed: test guards cannot load"; tl_summary; exit ;;
*) cat "$W/iumd.log"; tl_fail "start iumd" "see the log above"; tl_summary; exit ;;
esac
BACKEND=$("$IUM" status --json | sed -n 's/.*"backend":"\([a-z]*\)".*/\1/p')
[ -n "$BACKEND" ] && tl_pass "ium status reports the backend ($BACKEND)" || tl_fail "ium status reports the backend" "$("$IUM" status 2>&1)"
if [ "$BACKEND" = lsm ]; then DENIED=1; else DENIED=137; fi

# One owner: a second iumd for the same guard is refused, and says who owns it.
"$IUMD" --pin-dir "$TL_PIN" --socket "$W/second.sock" --database "$W/second.sqlite" > "$W/second.log" 2>&1
rc=$?
if [ $rc -eq 69 ] && grep -q "another process (pid $TL_DAEMON) owns the guard" "$W/second.log"; then
    tl_pass "a second iumd for the same guard is refused (exit 69)"
else
    tl_fail "a second iumd for the same guard is refused" "exit $rc: $(tail -n 1 "$W/second.log")"
fi

# libium: every NT rule, through the daemon.
"$NT_RULES" > "$W/rules.out" 2>&1
grep FAIL "$W/rules.out"
tail -n 1 "$W/rules.out" | grep -q ' 0 failed' && tl_pass "libium NT rules: $(tail -n 1 "$W/rules.out")" || tl_fail "libium NT rules" "$(tail -n 1 "$W/rules.out")"

# The user story: tag, try to ptrace it, see the denial, query its flags.
tl_start_victim story
STORY=$VPID STORY_ADDR=$VADDR
tl_check "ium tag PID" "$("$IUM" tag "$VPID" 2>&1)" "$IUM" tag "$VPID"
strace -qq -o /dev/null -p "$VPID" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "strace -p is denied (exit $rc)" || tl_fail "strace -p is denied" "exit $rc"
"$ATTACK" vmwrite "$VPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "process_vm_writev is denied (exit $rc)" || tl_fail "process_vm_writev is denied" "exit $rc"
[ "$(tl_ask check)" = intact ] && tl_pass "the secret is intact" || tl_fail "the secret is intact" "$(tail -n 1 "$VOUT")"
"$IUM" query "$VPID" > "$W/query.out" 2>&1
grep -q '^    IsSecureProcess       1$' "$W/query.out" && tl_pass "ium query shows IsSecureProcess 1" || tl_fail "ium query shows IsSecureProcess 1" "$(head -c 300 "$W/query.out")"
# iumd (INSPECTOR) may make READ-mode checks on secure processes: stat's startstack, exe.
grep -qE '^  PebBaseAddress +0x[1-9A-F]' "$W/query.out" && tl_pass "iumd reads the secure process's PebBaseAddress" || tl_fail "iumd reads PebBaseAddress" "$(grep PebBase "$W/query.out")"
if [ "$BACKEND" = lsm ]; then
    stack=$(sed 's/.*) //' "/proc/$VPID/stat" | cut -d' ' -f26)
    [ "$stack" = 0 ] && tl_pass "root's own read of /proc/P/stat hides its stack (0)" || tl_fail "root reads /proc/P/stat startstack" "$stack"
fi
"$IUM" query "$VPID" --class ProcessImageFileName | grep -q "Buffer  *.*/victim$" && tl_pass "iumd reads the secure process's image name" || tl_fail "iumd reads the image name" "$("$IUM" query "$VPID" --class ProcessImageFileName 2>&1 | head -4)"
[ "$("$IS_SECURE" "$VPID")" = "$VPID secure" ] && tl_pass "the WDK IsSecureProcess sample says secure" || tl_fail "the WDK sample says secure" "$("$IS_SECURE" "$VPID")"
[ "$("$IS_SECURE" $$)" = "$$ not secure" ] && tl_pass "the WDK sample says not secure for the shell" || tl_fail "the WDK sample on the shell" "$("$IS_SECURE" $$)"
if tl_wait_for sh -c "[ \$(\"$IUM\" events | grep -c ' on $VPID/') -ge 2 ]"; then
    tl_pass "ium events shows the denials from the audit store"
else
    tl_fail "ium events shows the denials" "$("$IUM" events 2>&1 | tail -n 3)"
fi
"$IUM" ps --secure | grep -q "^$VPID " && tl_pass "ium ps --secure lists it" || tl_fail "ium ps --secure lists it" ""

# ium run: secure from the first instruction.
tl_start_victim run "$IUM" run -- "$VICTIM"
RPID=$VPID
[ "$("$IS_SECURE" "$RPID")" = "$RPID secure" ] && tl_pass "ium run -- PROGRAM starts it secure" || tl_fail "ium run starts it secure" "$("$IS_SECURE" "$RPID" 2>&1)"
"$ATTACK" vmread "$RPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "and it is protected (exit $rc)" || tl_fail "the ium run program is protected" "exit $rc"
awk '/Max core file size/ {exit !($5 == 0)}' "/proc/$RPID/limits" && tl_pass "it leaves no core dump (RLIMIT_CORE 0)" || tl_fail "RLIMIT_CORE 0" "$(grep core /proc/$RPID/limits)"

# Two users: the NT access rules.
sleep 1000 &
PLAIN=$!
tl_track $PLAIN
[ "$("$NT_RULES" access "$PLAIN")" = "class0 0x00000000 class7 0x00000000 vmread 0x00000000" ] \
    && tl_pass "root: QUERY_INFORMATION and VM_READ on an ordinary process" || tl_fail "root on an ordinary process" "$("$NT_RULES" access "$PLAIN")"
[ "$("$NT_RULES" --uid 65534 access "$PLAIN")" = "class0 0x00000000 class7 0xC0000022 vmread 0xC0000022" ] \
    && tl_pass "another user: QUERY_LIMITED only" || tl_fail "another user: QUERY_LIMITED only" "$("$NT_RULES" --uid 65534 access "$PLAIN")"
[ "$("$NT_RULES" access "$RPID")" = "class0 0x00000000 class7 0x00000000 vmread 0xC0000022" ] \
    && tl_pass "root: VM_READ on a secure process is ACCESS_DENIED" || tl_fail "root VM_READ on secure" "$("$NT_RULES" access "$RPID")"

# An unprivileged user holding as many connections as iumd gives it cannot starve root, and
# an accept loop out of file descriptors recovers.
flood() { # UID COUNT: opens COUNT connections and holds them; prints how many connected
    tl_as "$1" "$PYTHON" -c '
import resource, socket, sys, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(sys.argv[1])
    except OSError:
        break
    held.append(s)
print(len(held), flush=True)
time.sleep(60)
' "$IUM_SOCKET" "$2" > "$W/flood.out" 2>&1 &
    FLOOD=$!
    tl_track $FLOOD
    tl_wait_lines "$W/flood.out" 1
}
root_served() {
    timeout 2 "$IUM" status > /dev/null 2>&1 && timeout 2 "$IUM" tag "$PLAIN" > /dev/null 2>&1 \
        && [ "$(timeout 5 "$IUM" run -- sh -c 'echo ran' 2>&1)" = ran ]
}
PYTHON=/usr/bin/python3 # the system's: reachable by every uid
if [ -x "$PYTHON" ] && [ -x "$SETPRIV" ] && command -v prlimit > /dev/null 2>&1; then
    flood 65534 1100
    held=$(cat "$W/flood.out")
    if [ "$held" -lt 64 ] 2>/dev/null || ! [ "$held" -eq "$held" ] 2>/dev/null; then tl_fail "root is served while another user floods iumd" "the flood did not run: $held"
    elif root_served; then tl_pass "uid 65534 opened $held connections: root's status, tag and run answer"
    else tl_fail "root is served while another user floods iumd" "status/tag/run did not answer in time"; fi
    kill $FLOOD 2>/dev/null
    wait $FLOOD 2>/dev/null
    # Out of descriptors: iumd's own (soft) limit lowered to 48, root opens 100 connections.
    nofile=$(prlimit --pid "$TL_DAEMON" --nofile --output SOFT --noheadings | tr -d ' ')
    prlimit --pid "$TL_DAEMON" --nofile=48:
    flood 0 100
    kill $FLOOD 2>/dev/null
    wait $FLOOD 2>/dev/null
    if tl_wait_for timeout 2 "$IUM" status && grep -q "cannot accept connections; retrying" "$W/iumd.log"; then
        tl_pass "out of file descriptors (EMFILE), iumd backs off and serves again"
    else
        tl_fail "iumd recovers from EMFILE" "$(grep -c 'cannot accept' "$W/iumd.log") accept errors logged; status: $(timeout 2 "$IUM" status 2>&1 | head -n 1)"
    fi
    prlimit --pid "$TL_DAEMON" --nofile="$nofile":
else
    tl_skip "connection flooding and EMFILE" "/usr/bin/python3, $SETPRIV or prlimit is not installed"
fi

# A daemon restart while secure processes run.
mkfifo "$W/hold.in"
sleep 1000000 > "$W/hold.in" &
tl_track $!
"$NT_RULES" hold "$RPID" < "$W/hold.in" > "$W/hold.out" 2>&1 &
tl_track $!
tl_wait_lines "$W/hold.out" 1
tl_stop_iumd
"$ATTACK" vmwrite "$STORY" "$STORY_ADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "iumd stopped: still denied (the guard stays in the kernel)" || tl_fail "denied while iumd is stopped" "exit $rc"
"$IUM" query "$STORY" > /dev/null 2>&1
rc=$?
[ $rc -eq 69 ] && tl_pass "iumd stopped: ium says how to start it (exit 69)" || tl_fail "ium without iumd exits 69" "exit $rc"
tl_start_iumd && tl_pass "iumd restarts and adopts the pinned guard" || tl_fail "iumd restarts" "$(tail -n 3 "$W/iumd.log")"
"$IUM" query "$STORY" | grep -q '^    IsSecureProcess       1$' \
    && tl_pass "after the restart it is still reported secure" || tl_fail "still reported secure after restart" ""
"$ATTACK" vmwrite "$STORY" "$STORY_ADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "after the restart it is still denied" || tl_fail "still denied after restart" "exit $rc"
echo go > "$W/hold.in"
tl_wait_lines "$W/hold.out" 2
[ "$(tail -n 1 "$W/hold.out")" = "old 0xC0000008 new 0x00000000" ] \
    && tl_pass "old connection's handle is gone, a new one works" || tl_fail "handles after restart" "$(tail -n 1 "$W/hold.out")"

# Unloading (unsealed guard): only root may, through iumd; it says so and iumd stops.
tl_as 65534 "$IUM" guard unload > "$W/unload.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "unloading the guard needs root" "$W/unload.out" && ! grep -q "guard unloaded" "$W/unload.out" && [ -d "$TL_PIN" ]; then
    tl_pass "another user's 'ium guard unload' is refused (exit 1)"
else
    tl_fail "another user's 'ium guard unload' is refused" "exit $rc: $(cat "$W/unload.out")"
fi
"$IUM" guard unload > "$W/unload.out" 2>&1
rc=$?
wait "$TL_DAEMON"
drc=$?
TL_DAEMON=
if [ $rc -eq 0 ] && grep -q "^guard unloaded from $TL_PIN" "$W/unload.out" && [ $drc -eq 0 ] && [ ! -d "$TL_PIN" ]; then
    tl_pass "root's 'ium guard unload' removes the guard; iumd stops (exit 0)"
else
    tl_fail "root's 'ium guard unload'" "exit $rc, iumd exit $drc: $(cat "$W/unload.out")"
fi
# The kernel detaches the programs once the last reference to their links is gone (after an
# RCU grace period and a work item): allow it a moment.
if tl_wait_for "$ATTACK" vmread "$STORY" "$STORY_ADDR"; then
    tl_pass "after the unload the process is reachable again (unsealed mode)"
else
    tl_fail "reachable after unload" "vmread still refused 5 s after the unload"
fi

tl_summary
