#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the VM (ium.mode=bench): the lsm backend's cost, guarded against unguarded in
# the same boot, then sealed (last: a seal lasts until reboot). Prints "bench-json: {…}" lines
# for Benchmarks/run.sh.
B=/usr/local/bin/bench
out() { sed "s/^{/bench-json: {\"env\":\"vm-lsm\",\"round\":$1,/"; }
# measure ROUND STATE: the unrelated syscalls, fork+exec+exit, file I/O and bpf(), named STATE.
measure() {
    $B getpid 2000000 | sed "s/\"getpid\"/\"getpid_$2\"/" | out "$1"
    $B forkexec 300 | sed "s/\"forkexec\"/\"forkexec_$2\"/" | out "$1"
    $B rw4k 200000 | sed "s/\"rw4k\"/\"rw4k_$2\"/" | out "$1"
    $B bpfcall 500000 | sed "s/\"bpfcall\"/\"bpfcall_$2\"/" | out "$1"
}
# queries ROUND: the query paths through the guarded iumd, each beside the raw round trip and
# the /proc parse of the same round (one vCPU: every placement is "same CPU"). Under lsm the
# read probe passes through the LSM hook only, without the kill backend's syscall tracepoints.
queries() {
    $B echo-server /tmp/echo.sock > /tmp/echo.out &
    e=$!
    $B wire-floor-server /tmp/floor.sock > /tmp/floor.out &
    f=$!
    while [ ! -s /tmp/echo.out ] || [ ! -s /tmp/floor.out ]; do sleep 0.01; done
    sleep 100000 &
    o=$!
    IUM_SOCKET=/tmp/bench.sock IUM_IN_CLIENT=0 $B query 5000 $o | sed 's/"query"/"query_socket"/' | out "$1"
    IUM_SOCKET=/tmp/bench.sock $B cycle 5000 $o | out "$1"
    $B echo /tmp/echo.sock 5000 | out "$1"
    IUM_SOCKET=/tmp/floor.sock IUM_IN_CLIENT=0 $B query 5000 $o | sed 's/"query"/"query_floor"/' | out "$1"
    IUM_SOCKET=/tmp/bench.sock $B query 5000 | sed 's/"query"/"query_inclient_self"/' | out "$1"
    IUM_SOCKET=/tmp/bench.sock $B query 5000 $o | sed 's/"query"/"query_inclient_other"/' | out "$1"
    $B proc $o 5000 | out "$1"
    kill $e $f $o
    rm -f /tmp/echo.sock /tmp/echo.out /tmp/floor.sock /tmp/floor.out
}
start_iumd() {
    iumd --pin-dir /sys/fs/bpf/ium-bench --socket /tmp/bench.sock --database /tmp/bench.sqlite >> /tmp/iumd.log 2>&1 &
    d=$!
    i=0
    while [ ! -S /tmp/bench.sock ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
}
# Unguarded and guarded side by side, in three rounds, the order swapped each round (U G, G U,
# U G): TCG's speed drifts within a boot by more than the guard costs, and report.py takes the
# median of the rounds' ratios. Per-program run times in the last round.
measure 1 unguarded
start_iumd
measure 1 guarded
queries 1
measure 2 guarded
queries 2
kill -TERM $d
wait $d
iumd --pin-dir /sys/fs/bpf/ium-bench --unload > /dev/null 2>&1
rm -f /tmp/bench.sock
measure 2 unguarded
measure 3 unguarded
start_iumd
echo 1 > /proc/sys/kernel/bpf_stats_enabled
measure 3 guarded
queries 3
kill -TERM $d
wait $d
/usr/sbin/bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("ium_") and p.get("run_cnt"):
        print(json.dumps({"bench": "prog", "name": p["name"], "run_cnt": p["run_cnt"], "ns_per_run": p["run_time_ns"] / p["run_cnt"]}))
' | out 0
echo 0 > /proc/sys/kernel/bpf_stats_enabled
# Sealed: the same daemon and guard, sealed; stopped the way systemd stops it (cgroup.kill).
mkdir -p /sys/fs/cgroup/ium-bench
sh -c 'echo $$ > /sys/fs/cgroup/ium-bench/cgroup.procs && exec iumd --pin-dir /sys/fs/bpf/ium-bench --socket /tmp/bench.sock --database /tmp/bench.sqlite --seal' >> /tmp/iumd.log 2>&1 &
i=0
while ! grep -q 'guard sealed' /tmp/iumd.log && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
$B getpid 2000000 | sed 's/"getpid"/"getpid_sealed"/' | out 3
$B bpfcall 500000 | sed 's/"bpfcall"/"bpfcall_sealed"/' | out 3
echo 1 > /sys/fs/cgroup/ium-bench/cgroup.kill
