#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Sealed mode against root: every way root could switch ium off or read a secure process
# around it (the guard's maps, pins and programs, root's own BPF programs, perf, tracefs,
# /proc/kcore, /dev/mem, modules, kexec, sysctls, signals to iumd, a second loader, a
# changed iumd).
#
#   sealing.sh          (root, lsm backend: the VM. Sealing lasts until reboot: run it last.)
#
# Environment: IUM, IUMD, VICTIM, ATTACK. First the controls: each attack works against an
# unsealed guard (a scratch guard, loaded and unloaded here), so a broken attack cannot pass.
# Then iumd --seal, and each attack again, as root: it must be refused, with a denial row in
# the audit store, the tagged victim's secret unchanged and the victim still denied to a
# plain ptrace read. Last, iumd is killed (cgroup.kill, as systemd stops it): enforcement
# goes on, and a restarted iumd — the same executable — regains control; a changed copy does not.

ATTACK=${ATTACK:-attack}
. "$(dirname "$0")/../lib/testlib.sh"
tl_init sealing
echo "ium sealing: kernel $(uname -r)"
if grep -q . /run/ium/sealed 2> /dev/null; then
    tl_skip "sealing" "this machine is already sealed ($(cat /run/ium/sealed))"
    tl_summary
    exit
fi
tl_row CASE RESULT
VEXE=$(readlink -f "$VICTIM") # (a secure process's /proc/P/exe is not readable)

# ---- controls: an unsealed scratch guard -------------------------------------------------
MAIN_PIN=$TL_PIN MAIN_SOCKET=$IUM_SOCKET
TL_PIN=$MAIN_PIN-scratch
IUM_SOCKET=$W/scratch.sock
if ! tl_start_iumd --backend lsm; then
    cat "$W/iumd.log"
    tl_fail "start an unsealed scratch guard" "see the log above"
    tl_summary
    exit
fi
# control NAME COMMAND…: the attack must work against the unsealed guard.
control() {
    name=$1
    shift
    if "$@" > "$W/control.out" 2>&1; then tl_pass "control: $name" "works unsealed"
    else tl_fail "control: $name" "exit $?, the attack does not work unsealed: $(tr '\n' ' ' < "$W/control.out" | cut -c1-100)"; fi
}
tag() { "$IUM" tag "$1" > "$W/tag.out" 2>&1 || { cat "$W/tag.out"; return 1; }; }

# bpf_attack KIND PID ADDR: `attack bpf` while the victim reads a command (where the
# tracepoint, kprobe and uprobe fire).
bpf_attack() {
    "$ATTACK" bpf "$@" > "$W/bpf.out" 2>&1 &
    bpid=$!
    tl_wait_for grep -q attached "$W/bpf.out"
    while kill -0 "$bpid" 2> /dev/null; do tl_ask check > /dev/null; sleep 0.2; done
    wait "$bpid"
    brc=$?
    cat "$W/bpf.out"
    return $brc
}
# perf_attack PID|cpu: samples while the victim spins with its secret on the stack.
perf_attack() {
    "$ATTACK" perf "$1" > "$W/perf.out" 2>&1 &
    ppid_=$!
    tl_wait_for grep -q attached "$W/perf.out"
    kill -0 "$ppid_" 2> /dev/null && tl_ask spin > /dev/null
    wait "$ppid_"
    prc=$?
    cat "$W/perf.out"
    return $prc
}
# tracefs_uprobe: a uprobe event on the victim's compare_secret fetching argument 1 as a
# string; 0 when the trace shows the secret.
TRACEFS=/sys/kernel/tracing
tracefs_uprobe() {
    echo "p:iumtest/secret $VEXE:$VHOOK +0(%di):string" >> $TRACEFS/uprobe_events || return 1
    echo 1 > $TRACEFS/events/iumtest/secret/enable || return 1
    tl_ask check > /dev/null
    grep -q IUM-SECRET $TRACEFS/trace
    found=$?
    echo 0 > $TRACEFS/events/iumtest/secret/enable
    echo '-:iumtest/secret' >> $TRACEFS/uprobe_events
    echo > $TRACEFS/trace
    return $found
}
# start a victim, tag it; VHOOK and VRANDOM from its first line
secure_victim() {
    tl_start_victim "$1"
    VHOOK=$(sed -n 's/.* hook \([^ ]*\).*/\1/p' "$VOUT" | head -n 1)
    VRANDOM=$(sed -n 's/.* random \([^ ]*\).*/\1/p' "$VOUT" | head -n 1)
    tag "$VPID"
}

secure_victim control
for kind in tp_read rawtp_read kprobe_read iter_read; do
    control "root's BPF program ($kind) on a secure process" bpf_attack "$kind" "$VPID" "$VADDR"
done
control "root's BPF program (uprobe_read) on a secure process" bpf_attack uprobe_read "$VPID" "$VHOOK" "$VEXE"
control "CPU-wide perf sampling of the user stack" perf_attack cpu
control "the uprobe PMU" "$ATTACK" uprobepmu "$VEXE" "$VHOOK"
control "a tracefs uprobe fetching the secret" tracefs_uprobe
control "/proc/kcore scan for a secure process's secret" "$ATTACK" kcore "$VRANDOM"
control "open /dev/mem" "$ATTACK" devmem /dev/mem
control "load an LSM program beside the guard" "$ATTACK" bpf lsm_load 0 0
printf 'not a module' > "$W/bogus.ko"
# A bogus file: the kernel reads it and rejects the contents (ENOEXEC), not the caller.
"$ATTACK" kmod "$W/bogus.ko" > "$W/control.out" 2>&1
[ $? -eq 2 ] && tl_pass "control: finit_module reads a file" "rejected for its contents" || tl_fail "control: finit_module reads a file" "$(cat "$W/control.out")"
"$ATTACK" kexec "$W/bogus.ko" > "$W/control.out" 2>&1
[ $? -eq 2 ] && tl_pass "control: kexec_file_load reads a file" "rejected for its contents" || tl_fail "control: kexec_file_load reads a file" "$(cat "$W/control.out")"
control "write kernel.core_pattern" tl_sysctl_set /proc/sys/kernel/core_pattern "$(cat /proc/sys/kernel/core_pattern)"
control "stop and continue iumd (SIGSTOP, SIGCONT)" sh -c "kill -STOP $TL_DAEMON && kill -CONT $TL_DAEMON"
control "untag through the tag map's pin" "$ATTACK" untag pin "$TL_PIN/ium_tags" "$VPID"
control "the untagged process is readable" "$ATTACK" vmread "$VPID" "$VADDR"
secure_victim control3
control "root's BPF program (tp_write) on a secure process" bpf_attack tp_write "$VPID" "$VADDR"
[ "$(tl_ask check)" = CHANGED ] && tl_pass "control: the secret was overwritten" || tl_fail "control: the secret was overwritten" "it is intact"
secure_victim control2
control "untag through the tag map's id" "$ATTACK" untag id - "$VPID"
mkdir -p "$W/bpffs"
control "mount and unmount a bpffs" sh -c "mount -t bpf bpf $W/bpffs && umount $W/bpffs"
control "rename a pin and back" sh -c "mv $TL_PIN/ium_tags $TL_PIN/moved && mv $TL_PIN/moved $TL_PIN/ium_tags"
"$IUM" guard unload > "$W/unload.out" 2>&1
if grep -q 'guard unloaded' "$W/unload.out" && [ ! -d "$TL_PIN" ]; then tl_pass "control: ium guard unload (unsealed)" "unloaded, says so"
else tl_fail "control: ium guard unload (unsealed)" "$(cat "$W/unload.out")"; fi
wait "$TL_DAEMON" 2> /dev/null
TL_DAEMON=
stop_victims() { for p in $(cat "$W/pids"); do kill -9 "$p" 2> /dev/null; done; : > "$W/pids"; }
stop_victims

# ---- seal --------------------------------------------------------------------------------
TL_PIN=$MAIN_PIN
IUM_SOCKET=$MAIN_SOCKET
# iumd in its own cgroup: the sealed iumd takes signals only from PID 1; the test stops it
# the way systemd does, with cgroup.kill.
CG=/sys/fs/cgroup/ium-sealing-$$
mkdir -p "$CG"
tl_stop_iumd() {
    [ -n "$TL_DAEMON" ] || return 0
    echo 1 > "$CG/cgroup.kill"
    wait "$TL_DAEMON" 2> /dev/null
    TL_DAEMON=
}
start_sealed() {
    rm -f "$IUM_SOCKET" # (left by a killed iumd)
    sh -c "echo \$\$ > $CG/cgroup.procs && exec $IUMD --pin-dir $TL_PIN --socket $IUM_SOCKET --database $W/audit.sqlite --backend lsm --seal" \
        >> "$W/iumd.log" 2>&1 &
    TL_DAEMON=$!
    i=0 # (a restart re-reads the sealed guard and /proc: slow under TCG)
    while [ ! -S "$IUM_SOCKET" ] && [ $i -lt 300 ] && kill -0 "$TL_DAEMON" 2> /dev/null; do sleep 0.1; i=$((i + 1)); done
    [ -S "$IUM_SOCKET" ]
}
if ! start_sealed; then
    cat "$W/iumd.log"
    tl_fail "iumd --seal" "see the log above"
    tl_summary
    exit
fi
"$IUM" status > "$W/status.out" 2>&1
grep -q 'sealed: *since' "$W/status.out" && tl_pass "iumd --seal; ium status says sealed" "$(grep -m1 'sealed' "$W/status.out" | tr -s ' ' | cut -c1-60)" \
    || tl_fail "iumd --seal; ium status says sealed" "$(cat "$W/status.out")"

secure_victim sealed
# sealed NAME OP COMMAND…: the attack must be refused (exit 1), audited as OP (- : refused by
# iumd, not the kernel), and the victim must still hold its secret and be denied to a plain read.
sealed() {
    name=$1 op=$2
    shift 2
    before=$(tl_op_denials "$op")
    "$@" > "$W/attack.out" 2>&1
    rc=$?
    if [ $rc -ne 1 ]; then tl_fail "$name" "exit $rc, want 1 (refused): $(tr '\n' ' ' < "$W/attack.out" | cut -c1-110)"; return; fi
    if [ "$op" != - ] && ! tl_wait_op "$op" "$before"; then tl_fail "$name" "refused, but no $op denial in the audit store"; return; fi
    answer=$(tl_ask check)
    if [ "$answer" != intact ]; then tl_fail "$name" "the victim answered: $answer"; return; fi
    if "$ATTACK" vmread "$VPID" "$VADDR" > /dev/null 2>&1; then tl_fail "$name" "the victim is readable afterwards"; return; fi
    if [ "$op" = - ]; then tl_pass "$name" "refused"; else tl_pass "$name" "refused, $op"; fi
}
sealed "ium guard unload" - sh -c "\"$IUM\" guard unload; [ \$? -ne 0 ] && [ -d $TL_PIN ] && exit 1"
sealed "rm -rf the pin directory" tamper-pin rm -rf "$TL_PIN"
sealed "rename a pin" tamper-pin mv "$TL_PIN/ium_tags" "$TL_PIN/moved"
sealed "chmod a pin" tamper-pin chmod 777 "$TL_PIN/ium_tags"
sealed "unmount bpffs" tamper-pin umount /sys/fs/bpf
sealed "unmount sysfs" tamper-pin umount -l /sys
sealed "untag through the tag map's pin" tamper-bpf "$ATTACK" untag pin "$TL_PIN/ium_tags" "$VPID"
sealed "untag through the tag map's id" tamper-bpf "$ATTACK" untag id - "$VPID"
# No control: the kernel offers no detach and no program update for LSM and tracing links
# (EOPNOTSUPP, EINVAL), sealed or not; this catches a kernel that starts to.
sealed "detach or replace the guard's links (BPF_LINK_DETACH, BPF_LINK_UPDATE)" - "$ATTACK" links
for kind in tp_read tp_write rawtp_read kprobe_read iter_read; do
    case $kind in tp_*) t=tracepoint ;; rawtp_*) t=raw-tracepoint ;; kprobe_*) t=kprobe ;; iter_*) t=tracing ;; esac
    sealed "root's BPF program ($kind)" "bpf-load:$t" bpf_attack "$kind" "$VPID" "$VADDR"
done
sealed "root's BPF program (uprobe_read)" bpf-load:kprobe bpf_attack uprobe_read "$VPID" "$VHOOK" "$VEXE"
sealed "perf sampling of the secure process" perf perf_attack "$VPID"
sealed "CPU-wide perf sampling of the user stack" perf perf_attack cpu
sealed "the uprobe PMU" perf "$ATTACK" uprobepmu "$VEXE" "$VHOOK"
sealed "a tracefs uprobe fetching the secret" lockdown:tracefs tracefs_uprobe
sealed "/proc/kcore scan" lockdown:kcore "$ATTACK" kcore "$VRANDOM"
sealed "open /dev/mem" lockdown:dev-mem "$ATTACK" devmem /dev/mem
sealed "load an LSM program beside the guard" bpf-load:lsm "$ATTACK" bpf lsm_load 0 0
sealed "finit_module" kmod:module "$ATTACK" kmod "$W/bogus.ko"
sealed "kexec_file_load" kmod:kexec-image "$ATTACK" kexec "$W/bogus.ko"
for s in kernel/core_pattern fs/suid_dumpable kernel/ftrace_enabled; do
    sealed "write $s" sysctl sh -c "echo $(cat /proc/sys/$s) > /proc/sys/$s || exit 1"
done
for sig in STOP TERM KILL; do
    sealed "SIG$sig to iumd from root" signal-daemon kill -$sig "$TL_DAEMON"
done
tl_check "iumd answers after the signals" "ium status failed" "$IUM" status
# The same iumd started again for the same guard: the running one owns it (flock).
timeout 10 "$IUMD" --pin-dir "$TL_PIN" --socket "$W/second.sock" --database "$W/second.sqlite" --backend lsm > "$W/second.log" 2>&1
rc=$?
[ $rc -eq 69 ] && grep -q 'owns the guard' "$W/second.log" && tl_pass "a second iumd for the sealed guard" "refused (exit 69): the running one owns it" \
    || tl_fail "a second iumd for the sealed guard" "exit $rc: $(tail -n 2 "$W/second.log")"
"$ATTACK" bpf socket_filter 0 0 > "$W/attack.out" 2>&1 \
    && tl_pass "a socket filter still loads when sealed" || tl_fail "a socket filter still loads when sealed" "$(cat "$W/attack.out")"
mkdir -p "$W/bpffs2"
sh -c "mount -t bpf bpf $W/bpffs2 && umount $W/bpffs2" > "$W/attack.out" 2>&1 \
    && tl_pass "another bpffs still mounts and unmounts when sealed" || tl_fail "another bpffs still mounts and unmounts when sealed" "$(cat "$W/attack.out")"

# ---- a dead iumd changes nothing; the same iumd regains control, another does not ----------
tl_stop_iumd
kill -0 "$VPID" 2> /dev/null && ! "$ATTACK" vmread "$VPID" "$VADDR" > /dev/null 2>&1 \
    && ! "$ATTACK" untag pin "$TL_PIN/ium_tags" "$VPID" > /dev/null 2>&1 && [ "$(tl_ask check)" = intact ] \
    && tl_pass "iumd killed (cgroup.kill): enforcement and the seal go on" \
    || tl_fail "iumd killed (cgroup.kill): enforcement and the seal go on" "the victim was reached"
cp "$IUMD" "$W/iumd-copy"
printf 'x' >> "$W/iumd-copy"
timeout 10 "$W/iumd-copy" --pin-dir "$TL_PIN" --socket "$W/copy.sock" --database "$W/audit.sqlite" --backend lsm > "$W/copy.log" 2>&1
rc=$?
[ $rc -ne 0 ] && ! [ -S "$W/copy.sock" ] && tl_pass "a changed copy of iumd cannot take the sealed guard" "exit $rc: $(tail -n 1 "$W/copy.log" | cut -c1-60)" \
    || tl_fail "a changed copy of iumd cannot take the sealed guard" "exit $rc"
before=$(tl_denials "$VPID")
if start_sealed && "$IUM" status 2> /dev/null | grep -q 'sealed: *since'; then
    tl_pass "the same iumd restarted takes the sealed guard back"
    # denials made while iumd was down were kept in the ring buffer
    tl_wait_denial "$VPID" "$before" && tl_pass "denials made while iumd was down reach the audit store" \
        || tl_fail "denials made while iumd was down reach the audit store" "none for $VPID"
    secure_victim after
    "$ATTACK" vmread "$VPID" "$VADDR" > /dev/null 2>&1 && tl_fail "the restarted iumd tags" "a new tagged process is readable" \
        || tl_pass "the restarted iumd tags" "process $VPID denied"
else
    tl_fail "the same iumd restarted takes the sealed guard back" "$(tail -n 3 "$W/iumd.log")"
fi
tl_stop_iumd
rmdir "$CG" 2> /dev/null
tl_summary
