#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Side doors into a secure process: core dumps, code changed on disk under it, injection at
# start (LD_PRELOAD put back around `ium run`, a seccomp supervisor), payload signals through
# F_SETOWN/F_SETSIG, and /proc/P/mem-like fds opened before the tag.
#
#   sidedoors.sh BACKEND        BACKEND: lsm (the VM) or kill (a kernel without the BPF LSM)
#
# Needs root. Environment: IUM, IUMD, VICTIM, ATTACK, SIDEDOOR_LIB (libsidedoor.so),
# PRELOAD_LIB (libpreload.so). Runs a private iumd and guard (testlib.sh); the sysctls it
# changes (kernel.core_pattern) are restored on exit.
#
# Every case first runs the attack against an untagged victim (the control: it must work, so
# a broken attack cannot pass), then against a tagged one: under lsm it must be refused, the
# secret unchanged, and the audit store must hold a denial naming the victim; under kill the
# row records what that backend does (README: threat model, "Backends").

BACKEND=${1:?usage: sidedoors.sh lsm|kill}
ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init sidedoors

echo "ium side doors: backend $BACKEND, kernel $(uname -r)"
tl_serve_or_exit "side doors ($BACKEND)" --backend "$BACKEND"
tl_row CASE RESULT

tag() { "$IUM" tag "$1" > "$W/tag.out" 2>&1 || { cat "$W/tag.out"; return 1; }; }

# outcome NAME CONTROL-OK ATTACK-WORKED BEFORE [DETAIL]: judges a case from the control and
# the attack on the tagged victim ($VPID): lsm must refuse and audit it (BEFORE: the denials
# on $VPID before the attack; "-" where nothing is refused, so nothing is audited), kill
# records a gap.
outcome() {
    name=$1 control=$2 worked=$3 before=$4 detail=$5
    if [ "$control" != yes ]; then tl_fail "$name" "the control failed: the attack does not work on an untagged process ($detail)"; return; fi
    if [ "$BACKEND" = kill ]; then
        if [ "$worked" = yes ]; then tl_pass "$name (gap)" "works under kill, as listed"; else tl_fail "$name (gap)" "listed as a gap of kill but refused: update the README"; fi
        return
    fi
    if [ "$worked" = yes ]; then tl_fail "$name" "the attack worked on the secure process ($detail)"; return; fi
    if [ "$before" != - ] && ! tl_wait_denial "$VPID" "$before"; then tl_fail "$name" "refused, but no denial naming $VPID in the audit store"; return; fi
    if kill -0 "$VPID" 2> /dev/null && [ "$(tl_ask check)" != intact ]; then tl_fail "$name" "the secret changed"; return; fi
    if [ "$before" = - ]; then tl_pass "$name" "refused"; else tl_pass "$name" "refused, audited"; fi
}


# ---- core dumps -------------------------------------------------------------------------
# victim_with_core LIMIT: a victim whose soft RLIMIT_CORE is LIMIT (the hard one unlimited).
victim_with_core() { tl_start_victim core sh -c "ulimit -H -c unlimited; ulimit -S -c $1; exec $VICTIM"; }
# core_after_segv DIR: root raises the limit (where it can) and sends SIGSEGV; "yes" when a
# core holding the secret appears in DIR within 3 seconds.
core_after_segv() {
    prlimit --core=unlimited:unlimited --pid "$VPID" > /dev/null 2>&1
    kill -SEGV "$VPID"
    i=0
    while [ $i -lt 30 ]; do
        if grep -aqs IUM-SECRET "$1"/core.* 2> /dev/null; then echo yes; return; fi
        sleep 0.1
        i=$((i + 1))
    done
    echo no
}
# core_case NAME DIR LIMIT: the control (an untagged victim with soft RLIMIT_CORE LIMIT: a pipe
# core ignores 0) must leave a core with the secret in DIR; the secure victim must not.
core_case() {
    victim_with_core "$3"
    control=$(core_after_segv "$2")
    rm -f "$2"/*
    victim_with_core unlimited
    tag "$VPID"
    before=$(tl_denials "$VPID")
    worked=$(core_after_segv "$2")
    core_outcome "$1" "$control" "$worked" "$before"
    tl_stop_victim
}
cat > "$W/corecatch" <<EOF
#!/bin/sh
cat > "$W/pipecores/core.\$1"
EOF
chmod 755 "$W/corecatch"
mkdir -p "$W/cores" "$W/pipecores"

# kill lowers a secure process's RLIMIT_CORE to 1 (soft and hard): root with CAP_SYS_RESOURCE
# raises it again (a gap), root without it (some containers, this CI host) cannot.
core_outcome() {
    if [ "$BACKEND" = kill ] && ! tl_has_cap 24; then
        if [ "$2" != yes ]; then tl_fail "$1" "the control failed"
        elif [ "$3" = no ]; then tl_pass "$1" "refused: kill set RLIMIT_CORE 1 and root here lacks CAP_SYS_RESOURCE"
        else tl_fail "$1" "worked although root lacks CAP_SYS_RESOURCE"; fi
        return
    fi
    outcome "$@"
}
if tl_sysctl_set /proc/sys/kernel/core_pattern "$W/cores/core.%p"; then
    victim_with_core 0
    prlimit --core=unlimited:unlimited --pid "$VPID" > /dev/null 2>&1 && control=yes || control=no
    tl_stop_victim
    victim_with_core 0
    tag "$VPID"
    before=$(tl_denials "$VPID")
    prlimit --core=unlimited:unlimited --pid "$VPID" > "$W/prlimit.out" 2>&1 && worked=yes || worked=no
    core_outcome "root raises a secure process's RLIMIT_CORE (prlimit)" "$control" "$worked" "$before" "$(cat "$W/prlimit.out")"
    tl_stop_victim

    core_case "core file of a secure process (root: limit raised, SIGSEGV)" "$W/cores" unlimited
    tl_sysctl_set /proc/sys/kernel/core_pattern "|$W/corecatch %p"
    core_case "core of a secure process to a core_pattern pipe" "$W/pipecores" 0
else
    tl_skip "core dumps" "kernel.core_pattern is not writable here (a sealed machine refuses it)"
fi

# ---- code changed on disk under a secure process -----------------------------------------
# code_attack HOW LIB: the attack `code HOW` against LIB, which the victim dlopens. Prints "yes"
# when the attack reported success (and, for the patching ones, the victim then ran 1337).
code_attack() {
    how=$1 lib=$2
    case $how in
    open | truncate)
        tl_ask "lib $lib" > /dev/null
        "$ATTACK" code "$how" "$lib" > "$W/code.attack" 2>&1
        rc=$?
        ;;
    *)
        tl_start_attacker code "$ATTACK" code "$how" "$lib"
        tl_ask "lib $lib" > /dev/null
        rc=$(tl_go code)
        ;;
    esac
    if [ "$rc" != 0 ]; then echo no; return; fi
    case $how in
    truncate | ftruncate | fallocate) echo yes ;; # the code is gone; calling it would crash
    *) [ "$(tl_ask "lib $lib")" = "lib 1337" ] && echo yes || echo "patched-but-not-run" ;;
    esac
}
n=0
for how in open write truncate ftruncate fallocate copy mmap; do
    n=$((n + 1))
    cp "$SIDEDOOR_LIB" "$W/control$n.so"
    cp "$SIDEDOOR_LIB" "$W/secure$n.so"
    tl_start_victim code
    control=$(code_attack "$how" "$W/control$n.so")
    tl_stop_victim
    tl_start_victim code
    tag "$VPID"
    before=$(tl_denials "$VPID")
    worked=$(code_attack "$how" "$W/secure$n.so")
    outcome "code a secure process runs: $how" "$control" "$worked" "$before" "$(cat "$W/code.attack" 2> /dev/null)"
    if [ "$BACKEND" = lsm ] && [ "$how" = open ]; then
        # Replacing the file by rename stays allowed; the process keeps running the old inode.
        cp "$SIDEDOOR_LIB" "$W/new.so"
        "$ATTACK" code open "$W/new.so" > /dev/null 2>&1
        ln "$W/secure$n.so" "$W/mapped$n.so" # the inode the victim maps, after the rename
        mv "$W/new.so" "$W/secure$n.so" && [ "$(tl_ask "lib $W/secure$n.so")" = "lib 42" ] \
            && tl_pass "a new file renamed over a secure process's library" "allowed, it keeps the old code" \
            || tl_fail "a new file renamed over a secure process's library" "refused, or the running code changed"
        tl_stop_victim
        "$ATTACK" code open "$W/mapped$n.so" > /dev/null 2>&1 \
            && tl_pass "the library is writable again once no secure process maps it" \
            || tl_fail "the library is writable again once no secure process maps it" "still refused"
    fi
    tl_stop_victim
done

# ---- injection at start -----------------------------------------------------------------
tl_start_victim preload env LD_PRELOAD="$PRELOAD_LIB" "$VICTIM"
grep -q '^PRELOADED victim' "$VOUT" && control=yes || control=no
tl_stop_victim
tl_start_victim preload env LD_PRELOAD="$PRELOAD_LIB" "$IUM" run -- "$VICTIM"
grep -q '^PRELOADED victim' "$VOUT" && worked=yes || worked=no
# (secure-exec makes the loader ignore it: nothing is refused, so nothing is audited)
outcome "LD_PRELOAD put back by a wrapper around ium run" "$control" "$worked" -
if [ "$BACKEND" = lsm ]; then
    grep -q ' secure 1 ' "$VOUT" && tl_pass "ium run starts the program with AT_SECURE" \
        || tl_fail "ium run starts the program with AT_SECURE" "$(head -n 1 "$VOUT")"
    have=$(wc -l < "$VOUT")
    echo "execenv LD_PRELOAD=$PRELOAD_LIB" > "$VIN"
    tl_wait_lines "$VOUT" $((have + 1))
    "$ATTACK" vmread "$VPID" "$(tail -n 1 "$VOUT" | cut -d' ' -f7)" > "$W/attack.out" 2>&1
    rc=$?
    if grep -q '^PRELOADED victim' "$VOUT"; then tl_fail "a secure process's own exec with LD_PRELOAD" "the library was loaded"
    elif tail -n 1 "$VOUT" | grep -q ' secure 1 ' && [ $rc -eq 1 ] && tl_wait_for tl_is_secure "$VPID"; then
        tl_pass "a secure process's own exec with LD_PRELOAD" "ignored, still secure"
    else tl_fail "a secure process's own exec with LD_PRELOAD" "vmread exit $rc ($(cat "$W/attack.out")), $(tail -n 1 "$VOUT")"; fi
fi
tl_stop_victim

echo SUPERVISED > "$W/substitute"
echo genuine > "$W/ium-supervised"
tl_start_victim supervised "$ATTACK" supervise "$W/substitute" "$VICTIM"
[ "$(tl_ask "open $W/ium-supervised")" = "open SUPERVISED" ] && control=yes || control=no
# The same supervisor around ium run: the program must not start as a secure process.
"$ATTACK" supervise "$W/substitute" "$IUM" run -- "$VICTIM" < /dev/null > "$W/supervised-run.out" 2>&1
rc=$?
if [ "$control" != yes ]; then tl_fail "a seccomp supervisor around ium run" "the control failed: no fd swapped"
elif [ "$BACKEND" = kill ]; then
    grep -q '^victim' "$W/supervised-run.out" && tl_pass "a seccomp supervisor around ium run (gap)" "starts under kill, as listed" \
        || tl_fail "a seccomp supervisor around ium run (gap)" "listed as a gap of kill but refused: update the README"
elif [ $rc -ne 0 ] && grep -q 'seccomp' "$W/supervised-run.out" && ! grep -q '^victim' "$W/supervised-run.out"; then
    tl_pass "a seccomp supervisor around ium run" "refused: $(grep -m1 seccomp "$W/supervised-run.out" | cut -c1-70)"
else tl_fail "a seccomp supervisor around ium run" "exit $rc: $(tr '\n' ' ' < "$W/supervised-run.out" | cut -c1-120)"; fi
# ium tag of a supervised process.
if [ "$BACKEND" = lsm ]; then
    "$IUM" tag "$VPID" > "$W/tag.out" 2>&1
    rc=$?
    if [ $rc -ne 0 ] && grep -q seccomp "$W/tag.out" && ! tl_is_secure "$VPID"; then tl_pass "ium tag of a process under a seccomp supervisor" "refused"
    else tl_fail "ium tag of a process under a seccomp supervisor" "exit $rc: $(cat "$W/tag.out")"; fi
fi
tl_stop_victim

# ---- payload signals through SIGIO --------------------------------------------------------
for who in 0 65534; do
    tl_start_victim sigio "$VICTIM" --uid "$who"
    "$ATTACK" --uid "$who" sigio "$VPID" > /dev/null 2>&1
    [ "$(tl_ask sigio)" = sigio-received ] && control=yes || control=no
    tl_stop_victim
    tl_start_victim sigio "$VICTIM" --uid "$who"
    tag "$VPID"
    before=$(tl_denials "$VPID")
    "$ATTACK" --uid "$who" sigio "$VPID" > /dev/null 2>&1
    [ "$(tl_ask sigio)" = sigio-received ] && worked=yes || worked=no
    outcome "F_SETOWN/F_SETSIG signal into a secure process (uid $who)" "$control" "$worked" "$before"
    tl_stop_victim
done

# ---- handles opened before the tag --------------------------------------------------------
# oldfd_case NAME FILE ADDR r|w: FILE under /proc/$VPID, opened by the attacker before the tag.
oldfd_attack() {
    file=$1 addr=$2 rw=$3 dotag=$4
    tl_start_attacker oldfd "$ATTACK" oldfd "/proc/$VPID/$file" "$addr" "$rw"
    [ "$dotag" = tag ] && tag "$VPID"
    [ "$(tl_go oldfd)" = 0 ] && echo yes || echo no
}
for c in "mem $VADDR r" "mem $VADDR w" "environ 0 r" "task/TID/mem $VADDR r"; do
    set -- $c
    tl_start_victim oldfd
    file=$(echo "$1" | sed "s/TID/$VTID/")
    control=$(oldfd_attack "$file" "$VADDR" "$3" no)
    [ "$3" = w ] && tl_ask check > /dev/null # (the control overwrote the secret)
    tl_stop_victim
    tl_start_victim oldfd
    file=$(echo "$1" | sed "s/TID/$VTID/")
    before=$(tl_denials "$VPID")
    worked=$(oldfd_attack "$file" "$VADDR" "$3" tag)
    outcome "/proc/P/$1 fd opened before the tag ($3)" "$control" "$worked" "$before" "$(cat "$W/oldfd.attack")"
    tl_stop_victim
done

# ---- perf on a secure task ------------------------------------------------------------------
# perf_attack: samples $VPID's user stack while it spins with its secret on the stack.
perf_attack() {
    "$ATTACK" perf "$VPID" > "$W/perf.attack" 2>&1 &
    apid=$!
    tl_wait_for grep -q attached "$W/perf.attack"
    kill -0 "$apid" 2> /dev/null && tl_ask spin > /dev/null
    wait "$apid" && echo yes || echo no
}
tl_start_victim perf
control=$(perf_attack)
tl_stop_victim
tl_start_victim perf
tag "$VPID"
before=$(tl_denials "$VPID")
worked=$(perf_attack)
outcome "perf sampling of a secure process's user stack (root)" "$control" "$worked" "$before" "$(cat "$W/perf.attack")"
tl_stop_victim

# ---- what must keep working ---------------------------------------------------------------
"$IUM" run -- python3 -c 'import hashlib, json, ssl; print(hashlib.sha256(b"ium").hexdigest()[:16], json.dumps([1]))' \
    > "$W/python.out" 2>&1
[ "$(cat "$W/python.out")" = "4e28d7f19138b1fa [1]" ] && tl_pass "python3 under ium run" "runs normally" \
    || tl_fail "python3 under ium run" "$(tr '\n' ' ' < "$W/python.out" | cut -c1-120)"
tl_start_victim cmdline "$IUM" run -- "$VICTIM" with-args
tl_as 65534 cat "/proc/$VPID/cmdline" 2> /dev/null | tr '\0' ' ' | grep -q 'with-args' \
    && tl_pass "a secure process's /proc/P/cmdline stays readable (ps)" \
    || tl_fail "a secure process's /proc/P/cmdline stays readable (ps)" "not readable by another user"
tl_stop_victim

tl_summary
