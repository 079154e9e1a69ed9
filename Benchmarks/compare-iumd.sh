#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# compare-iumd.sh OLD-IUMD NEW-IUMD [PAIRS]: the query through iumd, two builds of iumd against
# each other (root; `make bench` first builds .build/lib/bench). Each pair starts OLD, then NEW,
# each with a guard of its own (never the machine's), pinned with the client to CPU 0, and
# measures N (default 100,000) queries (libium, IUM_IN_CLIENT=0) of another process and of the
# client itself; prints the p50 of each and the CPU time iumd used per query (the bench's
# server_cpu_ns_per_op, from iumd's threads' schedstat: far steadier than latency here), in µs.
# Alternating pairs put both builds under the same noise: the way to tell a regression from this
# machine's noise (BENCHMARKS.md).
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD-IUMD NEW-IUMD [PAIRS]" >&2; exit 64; }
OLD=$1 NEW=$2 PAIRS=${3:-3} N=${N:-100000}
BENCH=$(cd "$(dirname "$0")/.." && pwd)/.build/lib/bench
[ -x "$BENCH" ] || { echo "no $BENCH: run make bench (or make libium) first" >&2; exit 1; }
W=$(mktemp -d /tmp/ium-compare.XXXXXX)
chmod 755 "$W"
sleep 100000 &
other=$!
trap 'kill $other 2> /dev/null; rm -rf "$W"' EXIT
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | awk '{ printf "%.2f", $1 / 1000 }'; } # FIELD: ns -> µs
measure() { # NAME IUMD
    pin=/sys/fs/bpf/ium-compare-$1-$$
    "$2" --pin-dir "$pin" --socket "$W/$1.sock" --database "$W/$1.sqlite" > "$W/$1.log" 2>&1 &
    daemon=$!
    i=0
    while [ ! -S "$W/$1.sock" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
    taskset -a -p -c 0 "$daemon" > /dev/null
    o=$(IUM_SOCKET=$W/$1.sock IUM_IN_CLIENT=0 BENCH_SERVER_PID=$daemon taskset -c 0 "$BENCH" query "$N" "$other")
    s=$(IUM_SOCKET=$W/$1.sock IUM_IN_CLIENT=0 BENCH_SERVER_PID=$daemon taskset -c 0 "$BENCH" query "$N")
    printf '%-4s another process %6s us (iumd CPU %s us)   itself %6s us (iumd CPU %s us)\n' "$1" \
        "$(field p50_ns <<< "$o")" "$(field server_cpu_ns_per_op <<< "$o")" \
        "$(field p50_ns <<< "$s")" "$(field server_cpu_ns_per_op <<< "$s")"
    kill -TERM "$daemon"
    wait "$daemon" 2> /dev/null
    "$2" --pin-dir "$pin" --unload > /dev/null 2>&1
}
for _ in $(seq "$PAIRS"); do
    measure old "$OLD"
    measure new "$NEW"
done
