#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the VM (ium.mode=bench): the lsm backend's cost, guarded against unguarded in
# the same boot, then sealed (last: a seal lasts until reboot). Prints "bench-json: {…}" lines
# for Benchmarks/run.sh.
B=/usr/local/bin/bench
out() { sed 's/^{/bench-json: {"env":"vm-lsm",/'; }
$B getpid 2000000 | sed 's/"getpid"/"getpid_unguarded"/' | out
$B forkexec 300 | sed 's/"forkexec"/"forkexec_unguarded"/' | out
$B rw4k 200000 | sed 's/"rw4k"/"rw4k_unguarded"/' | out
$B bpfcall 500000 | sed 's/"bpfcall"/"bpfcall_unguarded"/' | out
iumd --pin-dir /sys/fs/bpf/ium-bench --socket /tmp/bench.sock --database /tmp/bench.sqlite > /tmp/iumd.log 2>&1 &
d=$!
i=0
while [ ! -S /tmp/bench.sock ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
echo 1 > /proc/sys/kernel/bpf_stats_enabled
$B getpid 2000000 | sed 's/"getpid"/"getpid_guarded"/' | out
$B forkexec 300 | sed 's/"forkexec"/"forkexec_guarded"/' | out
$B rw4k 200000 | sed 's/"rw4k"/"rw4k_guarded"/' | out
$B bpfcall 500000 | sed 's/"bpfcall"/"bpfcall_guarded"/' | out
bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("ium_") and p.get("run_cnt"):
        print(json.dumps({"bench": "prog", "name": p["name"], "run_cnt": p["run_cnt"], "ns_per_run": p["run_time_ns"] / p["run_cnt"]}))
' | out
echo 0 > /proc/sys/kernel/bpf_stats_enabled
kill -TERM $d
wait $d
# Sealed: the same daemon and guard, sealed; stopped the way systemd stops it (cgroup.kill).
mkdir -p /sys/fs/cgroup/ium-bench
sh -c 'echo $$ > /sys/fs/cgroup/ium-bench/cgroup.procs && exec iumd --pin-dir /sys/fs/bpf/ium-bench --socket /tmp/bench.sock --database /tmp/bench.sqlite --seal' >> /tmp/iumd.log 2>&1 &
i=0
while ! grep -q 'guard sealed' /tmp/iumd.log && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
$B getpid 2000000 | sed 's/"getpid"/"getpid_sealed"/' | out
$B bpfcall 500000 | sed 's/"bpfcall"/"bpfcall_sealed"/' | out
echo 1 > /sys/fs/cgroup/ium-bench/cgroup.kill
