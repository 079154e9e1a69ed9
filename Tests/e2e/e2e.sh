#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# iumd and its clients end to end, on whatever backend this kernel gives (host: kill;
# VM: lsm). Needs root. Environment: IUM, IUMD, VICTIM, ATTACK, NT_RULES, IS_SECURE,
# CALLER_VIEW, FRESHNESS (FRESHNESS_ROUNDS: its rounds, 3000), FIXTURE (testproc).
# Starts a private iumd (its guard under /sys/fs/bpf/ium-test-<pid>, its own socket and
# database: the machine's guard is never touched); prints a table and
# "N passed, N failed, N skipped"; exits non-zero when a case failed.
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init e2e

echo "ium end-to-end: kernel $(uname -r)"
METRICS=127.0.0.1:$((20000 + $$ % 20000))
tl_serve_or_exit "iumd end to end" --metrics "$METRICS"
BACKEND=$("$IUM" status --json | sed -n 's/.*"backend":"\([a-z]*\)".*/\1/p')
[ -n "$BACKEND" ] && tl_pass "ium status reports the backend ($BACKEND)" || tl_fail "ium status reports the backend" "$("$IUM" status 2>&1)"
if [ "$BACKEND" = lsm ]; then DENIED=1; else DENIED=137; fi

# Sealing needs the lsm backend: with kill, iumd says so before it loads anything.
if [ "$BACKEND" = kill ]; then
    "$IUMD" --pin-dir "$TL_PIN-seal" --socket "$W/seal.sock" --database "$W/seal.sqlite" --seal > "$W/seal.log" 2>&1
    rc=$?
    if [ $rc -eq 69 ] && grep -q "sealing needs the lsm backend" "$W/seal.log" && [ ! -d "$TL_PIN-seal" ]; then
        tl_pass "iumd --seal on the kill backend is refused (exit 69, says why)"
    else
        tl_fail "iumd --seal on the kill backend is refused" "exit $rc: $(tail -n 1 "$W/seal.log")"
        "$IUMD" --pin-dir "$TL_PIN-seal" --unload > /dev/null 2>&1
    fi
fi

# One owner: a second iumd for the same guard is refused, and says who owns it.
"$IUMD" --pin-dir "$TL_PIN" --socket "$W/second.sock" --database "$W/second.sqlite" > "$W/second.log" 2>&1
rc=$?
if [ $rc -eq 69 ] && grep -q "another process (pid $TL_DAEMON) owns the guard" "$W/second.log"; then
    tl_pass "a second iumd for the same guard is refused (exit 69)"
else
    tl_fail "a second iumd for the same guard is refused" "exit $rc: $(tail -n 1 "$W/second.log")"
fi

# libium: every NT rule, in the client where libium answers there, and every query through
# iumd (IUM_IN_CLIENT=0): the same rules hold on both paths.
for path in in-client iumd; do
    if [ $path = iumd ]; then IUM_IN_CLIENT=0 "$NT_RULES" > "$W/rules.out" 2>&1; else "$NT_RULES" > "$W/rules.out" 2>&1; fi
    grep FAIL "$W/rules.out"
    tail -n 1 "$W/rules.out" | grep -q ' 0 failed' && tl_pass "libium NT rules ($path): $(tail -n 1 "$W/rules.out")" \
        || tl_fail "libium NT rules ($path)" "$(tail -n 1 "$W/rules.out")"
done

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
# IUMClient answers class 0 in the client (its task view) with iumd's bytes.
in_client=$("$IUM" query "$VPID" --json 2>&1)
through_iumd=$(IUM_IN_CLIENT=0 "$IUM" query "$VPID" --json 2>&1)
[ "$in_client" = "$through_iumd" ] && tl_pass "ium query: the in-client answer equals iumd's" \
    || tl_fail "ium query: the in-client answer equals iumd's" "$in_client vs $through_iumd"
# The caller's view: root sees what the kernel shows root. Under lsm the guard refuses root's
# ptrace read check on a secure process, so /proc/P/stat shows root no stack address and
# /proc/P/exe is unreadable: iumd's answer is the same (PebBaseAddress 0, the image as [comm]).
# Under kill the kernel shows both, and so does iumd.
stack=$(sed 's/.*) //' "/proc/$VPID/stat" | cut -d' ' -f26)
peb=$(sed -n 's/^  PebBaseAddress *0x\([0-9A-F]*\)$/\1/p' "$W/query.out")
image=$("$IUM" query "$VPID" --class ProcessImageFileName | sed -n 's/^  Buffer  *//p')
if [ "$BACKEND" = lsm ]; then want_image="[victim]"; else want_image=$(readlink "/proc/$VPID/exe"); fi
if [ "$(printf '%d' "0x$peb")" = "$stack" ] && [ "$image" = "$want_image" ]; then
    tl_pass "root's query of it shows what /proc shows root (stack $stack, image $image)"
else
    tl_fail "root's query shows what /proc shows root" "PebBaseAddress 0x$peb vs startstack $stack; image '$image' vs '$want_image'"
fi
[ "$("$IS_SECURE" "$VPID")" = "$VPID secure" ] && tl_pass "the WDK IsSecureProcess sample says secure" || tl_fail "the WDK sample says secure" "$("$IS_SECURE" "$VPID")"
[ "$("$IS_SECURE" $$)" = "$$ not secure" ] && tl_pass "the WDK sample says not secure for the shell" || tl_fail "the WDK sample on the shell" "$("$IS_SECURE" $$)"
if tl_wait_for sh -c "[ \$(\"$IUM\" events | grep -c ' on $VPID/') -ge 2 ]"; then
    tl_pass "ium events shows the denials from the audit store"
else
    tl_fail "ium events shows the denials" "$("$IUM" events 2>&1 | tail -n 3)"
fi
"$IUM" ps --secure | grep -q "^$VPID " && tl_pass "ium ps --secure lists it" || tl_fail "ium ps --secure lists it" ""
# Prometheus: the story's denials and tag on iumd's metrics endpoint (curl, or busybox wget).
if command -v curl > /dev/null 2>&1; then fetch="curl -fsS"; else fetch="wget -qO-"; fi
$fetch "http://$METRICS/metrics" > "$W/metrics.txt" 2>&1
denials=$(awk '/^ium_denials_total\{/ {n += $NF} END {print n + 0}' "$W/metrics.txt")
if [ "$denials" -ge 2 ] && grep -q '^ium_tag_requests_total{result="tagged"} [1-9]' "$W/metrics.txt"; then
    tl_pass "GET http://$METRICS/metrics shows the denials ($denials) and the tag"
else
    tl_fail "the metrics endpoint shows the denials" "$denials denials: $(head -c 300 "$W/metrics.txt")"
fi

# Log shippers: ium events --follow --json prints the stored denials and then each new one as a
# line of docs/events.schema.json.
timeout 60 "$IUM" events --follow --json > "$W/follow.json" 2> "$W/follow.err" &
FOLLOW=$!
tl_track $FOLLOW
json_denials() { grep -c "\"target\":{\"pid\":$VPID," "$W/follow.json"; }
json_more() { [ "$(json_denials)" -gt "$1" ]; }
tl_wait_for json_more 1
before=$(json_denials)
strace -qq -o /dev/null -p "$VPID" > /dev/null 2>&1
if tl_wait_for json_more "$before"; then
    tl_pass "ium events --follow --json prints a new denial as it happens"
else
    tl_fail "ium events --follow --json prints a new denial" "$before lines before, now $(json_denials): $(tail -c 300 "$W/follow.err")"
fi
kill "$FOLLOW" 2>/dev/null
wait "$FOLLOW" 2>/dev/null
SCHEMA=$(dirname "$0")/../../docs/events.schema.json
if [ -f "$SCHEMA" ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    if out=$(/usr/bin/python3 - "$SCHEMA" "$W/follow.json" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
for n, line in enumerate(lines, 1):
    jsonschema.validate(json.loads(line), schema)
if not lines: sys.exit("no lines")
print(len(lines))
PY
    ); then
        tl_pass "every --json line validates against docs/events.schema.json ($out lines)"
    else
        tl_fail "every --json line validates against docs/events.schema.json" "$(echo "$out" | tail -n 3)"
    fi
else
    tl_skip "every --json line validates against docs/events.schema.json" "no schema file or no python3-jsonschema here (the VM image)"
fi

# ium run: secure from the first instruction.
tl_start_victim run "$IUM" run -- "$VICTIM"
RPID=$VPID
[ "$("$IS_SECURE" "$RPID")" = "$RPID secure" ] && tl_pass "ium run -- PROGRAM starts it secure" || tl_fail "ium run starts it secure" "$("$IS_SECURE" "$RPID" 2>&1)"
"$ATTACK" vmread "$RPID" "$VADDR" > /dev/null 2>&1
rc=$?
[ $rc -eq $DENIED ] && tl_pass "and it is protected (exit $rc)" || tl_fail "the ium run program is protected" "exit $rc"
awk '/Max core file size/ {exit !($5 == 1)}' "/proc/$RPID/limits" && tl_pass "its RLIMIT_CORE is 1 (no file core, no pipe core)" || tl_fail "RLIMIT_CORE 1" "$(grep core /proc/$RPID/limits)"
# The trustlet options: --no-new-privs and --mdwe (Linux 6.3+), for the program and its
# children; without them neither is set (the control).
out=$("$IUM" run -- "$FIXTURE" wx 2>&1)
[ "$out" = "nnp 0 mdwe 0 wx allowed" ] && tl_pass "ium run: no-new-privs and MDWE are off by default (control)" \
    || tl_fail "ium run: no-new-privs and MDWE are off by default" "$out"
out=$("$IUM" run --no-new-privs --mdwe -- "$FIXTURE" wx 2>&1)
rc=$?
release=$(uname -r)
major=${release%%.*} rest=${release#*.}
minor=${rest%%.*}
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 3 ]; }; then
    [ "$out" = "nnp 1 mdwe 1 wx refused" ] && tl_pass "ium run --no-new-privs --mdwe: set, and W^X refused" \
        || tl_fail "ium run --no-new-privs --mdwe" "exit $rc: $out"
else
    [ $rc -eq 126 ] && echo "$out" | grep -q "^ium run: --mdwe needs Linux 6.3 or newer" \
        && tl_pass "ium run --mdwe on Linux $major.$minor: refused with the reason (exit 126)" \
        || tl_fail "ium run --mdwe on Linux $major.$minor says it needs 6.3" "exit $rc: $out"
fi
# A hard core limit of 0 can be raised to 1 only with CAP_SYS_RESOURCE (root in the VM has
# it, root on some hosts and in containers does not): either the program runs with 1, or ium
# run says it could not set it. Never silently 0 (a core_pattern pipe still dumps at 0).
core=$(prlimit --core=0:0 "$IUM" run -- cat /proc/self/limits 2> "$W/core.err" | awk '/Max core file size/ {print $5}')
if [ "$core" = 1 ]; then
    tl_pass "ium run under a hard core limit of 0: raised to 1"
elif grep -q "^ium run: warning: its RLIMIT_CORE could not be set to 1" "$W/core.err"; then
    tl_pass "ium run under a hard core limit of 0: says it stays at $core"
else
    tl_fail "ium run under a hard core limit of 0" "limit $core, stderr: $(cat "$W/core.err")"
fi

# Another user: iumd tells it nothing the kernel hides from it. A root process's stack address
# (start_stack) is 0 in /proc/PID/stat for uid 65534, and in the query.
sleep 1000 &
ROOTSLEEP=$!
tl_track $ROOTSLEEP
answer=$(tl_as 65534 "$IUM" query "$ROOTSLEEP" --json 2>&1)
if echo "$answer" | grep -q '"PebBaseAddress":0,' && echo "$answer" | grep -q '"UniqueProcessId":'"$ROOTSLEEP"; then
    tl_pass "uid 65534's query of a root process: PebBaseAddress 0, as /proc shows it"
else
    tl_fail "uid 65534's query of a root process hides its stack" "$(echo "$answer" | tr ',' '\n' | grep -E 'PebBase|UniqueProcessId|error' | tr '\n' ' ')"
fi
own=$(tl_as 65534 sh -c 'sleep 1000 > /dev/null 2>&1 & echo $!')
tl_track "$own"
answer=$(tl_as 65534 "$IUM" query "$own" --json 2>&1)
stack=$(sed 's/.*) //' "/proc/$own/stat" | cut -d' ' -f26)
if echo "$answer" | grep -q '"PebBaseAddress":'"$stack"',' && [ "$stack" != 0 ]; then
    tl_pass "uid 65534's query of its own process shows its stack address"
else
    tl_fail "uid 65534 sees its own process's stack" "stack $stack: $(echo "$answer" | tr ',' '\n' | grep PebBase)"
fi

# Every field, every class, every process, three identities: iumd equals the kernel's view.
# Each identity also owns a process with a 24 KiB command line (longer than any first buffer:
# the comparison asks again with the ReturnLength given, as WDK code does).
long=$(head -c 24000 /dev/zero | tr '\0' x)
sh -c 'sleep 1000; :' "$long" > /dev/null 2>&1 &
tl_track $!
for uid in 65534 1000; do
    for i in $(seq 1 60); do tl_spawn_as $uid sleep 1000; done
    tl_spawn_as $uid sh -c 'sleep 1000; :' "$long"
done
# view_row LABEL PREFIX [ARGS…]: caller_view ARGS as one row: at least 150 processes compared,
# none differing (LABEL names a failure; a pass shows PREFIX and the summary).
view_row() {
    label=$1 prefix=$2
    shift 2
    "$CALLER_VIEW" "$@" > "$W/view.out" 2>&1
    rc=$?
    summary=$(tail -n 1 "$W/view.out")
    n=$(echo "$summary" | sed -n 's/^compared \([0-9]*\) .*/\1/p')
    if [ $rc -eq 0 ] && [ "${n:-0}" -ge 150 ]; then tl_pass "$prefix$summary"
    else tl_fail "$label" "$(grep FAIL "$W/view.out" | head -n 3 | tr '\n' ' ') $summary"; fi
}
view_row "uid 0: iumd shows what the kernel shows" "uid 0: "
for uid in 65534 1000; do view_row "uid $uid: iumd shows what the kernel shows" "uid $uid: " --uid $uid; done
# A caller whose file table another thread shares: under kill its read probe is not believed
# (a thread could swap the pidfd under the kernel's lookup and borrow another process's
# verdict), so it sees the public view of every other process; under lsm the kernel's own.
view_row "a shared file table: iumd shows what the $BACKEND backend may" "" --shared-files "$BACKEND"

# The in-client query (libium's task view) and the socket path give the kernel's view right
# after each change completed: thousands of random changes under load, then with iumd stopped
# (no round trip), after a tag and at the exit.
"$FRESHNESS" "${FRESHNESS_ROUNDS:-3000}" "$TL_DAEMON" "$IUM" > "$W/fresh.out" 2>&1
rc=$?
summary=$(tail -n 1 "$W/fresh.out")
if [ $rc -eq 0 ]; then tl_pass "$summary"
else tl_fail "in-client and socket answers equal the kernel's view" "$(grep FAIL "$W/fresh.out" | head -n 3 | tr '\n' ' ') $summary"; fi

# /proc mounted with hidepid=2: iumd hides from a user what /proc hides from it. iumd runs in
# a mount namespace of its own whose /proc is a new procfs instance with hidepid=2 (the
# machine's /proc is untouched).
tl_stop_iumd
unshare -m --propagation private sh -c 'mount -t proc -o hidepid=2 proc /proc && exec "$0" "$@"' \
    "$IUMD" --pin-dir "$TL_PIN" --socket "$IUM_SOCKET" --database "$W/audit.sqlite" >> "$W/iumd.log" 2>&1 &
TL_DAEMON=$!
# (up to 20 s: in the TCG VM an iumd start after the tests above once took more than tl_wait_for's 5 s)
i=0
while [ ! -S "$IUM_SOCKET" ] && [ $i -lt 2000 ] && kill -0 "$TL_DAEMON" 2>/dev/null; do sleep 0.01; i=$((i + 1)); done
[ -S "$IUM_SOCKET" ] || echo "iumd under hidepid=2 did not start: $(tail -n 2 "$W/iumd.log")"
tl_as 65534 "$IUM" query "$ROOTSLEEP" > "$W/hidden.out" 2>&1
rc=$?
if [ $rc -eq 64 ] && grep -q "no process with id $ROOTSLEEP" "$W/hidden.out"; then
    tl_pass "hidepid=2: uid 65534 cannot open a root process (STATUS_INVALID_CID)"
else
    tl_fail "hidepid=2 hides a root process from uid 65534" "exit $rc: $(cat "$W/hidden.out")"
fi
tl_as 65534 "$IUM" ps > "$W/ps.out" 2>&1
if grep -q "^$own " "$W/ps.out" && ! grep -q "^$ROOTSLEEP " "$W/ps.out" && ! grep -q "^$TL_DAEMON " "$W/ps.out"; then
    tl_pass "hidepid=2: uid 65534's ium ps lists its own processes and not root's"
else
    tl_fail "hidepid=2 in ium ps" "own $own listed: $(grep -c "^$own " "$W/ps.out"), root's $ROOTSLEEP listed: $(grep -c "^$ROOTSLEEP " "$W/ps.out")"
fi
"$IUM" query "$ROOTSLEEP" > /dev/null 2>&1 && tl_pass "hidepid=2: root still opens it" || tl_fail "hidepid=2: root opens a root process" ""
tl_stop_iumd
tl_start_iumd || tl_fail "iumd restarts with the machine's /proc" "$(tail -n 3 "$W/iumd.log")"

# The audit store: root and the ium group only.
tl_as 65534 "$IUM" events > "$W/events.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^ium: reading the audit store needs root or membership of the 'ium' group$" "$W/events.out"; then
    tl_pass "another user cannot read the audit store (exit 1)"
else
    tl_fail "the audit store is refused to other users" "exit $rc: $(cat "$W/events.out")"
fi

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
