#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The fleet deployment (root): contrib/k8s/ium.yaml validates against the Kubernetes schemas
# (kubernetes-validate, strict); the OCI image runs under podman as the DaemonSet runs it
# (privileged, read-only root, host PID namespace, the host's bpffs) with a test guard of its own, and serves
# the user story against a process of the host: tag, strace denied, IsSecureProcess, the
# DaemonSet's readiness command, the denial on the metrics endpoint.
# Environment: IMAGE, ARCHIVE (make oci), KUBERNETES_VALIDATE, IUM, IUMD (host builds, for the
# host side and the test guard's cleanup), VICTIM.
. "$(dirname "$0")/../lib/testlib.sh"
MANIFEST=$(cd "$(dirname "$0")/../../contrib/k8s" && pwd)/ium.yaml
tl_init oci
echo "ium OCI image and Kubernetes manifest: $IMAGE"

for k in 1.30.0 1.37.0; do
    if out=$("$KUBERNETES_VALIDATE" --strict -k "$k" "$MANIFEST" 2>&1); then
        tl_pass "contrib/k8s/ium.yaml validates (Kubernetes $k, strict)" "$(echo "$out" | grep -c passed) resources"
    else
        tl_fail "contrib/k8s/ium.yaml validates (Kubernetes $k, strict)" "$(echo "$out" | grep ERROR | head -n 2)"
    fi
done
grep -q "image: $IMAGE\$" "$MANIFEST" && tl_pass "the manifest names this image ($IMAGE)" \
    || tl_fail "the manifest names this image" "$(grep 'image:' "$MANIFEST")"

# podman, as root, with runc (crun refuses hybrid cgroup hierarchies) and resource limits no
# higher than this shell's (raising them needs CAP_SYS_RESOURCE, which some hosts withhold).
limit() { awk -v name="$1" -v cap="$2" 'index($0, name) == 1 { v = $(NF - 2); print (v == "unlimited" || v + 0 > cap) ? cap : v }' /proc/self/limits; }
nofile=$(limit "Max open files" 16384)
nproc=$(limit "Max processes" 4096)
podman_run() { podman --runtime runc run --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$@"; }
# Can this machine run a container at all? A busybox image built here tells it apart from a
# problem of ium's image.
probe=$(buildah from scratch) && buildah copy "$probe" /bin/busybox /bin/busybox > /dev/null \
    && buildah commit --quiet --rm "$probe" localhost/ium-probe > /dev/null
if ! out=$(podman_run --rm localhost/ium-probe /bin/busybox true 2>&1); then
    tl_skip "the image runs under podman" "podman cannot run containers on this machine: $out"
    tl_summary
    exit
fi
podman rmi -f localhost/ium-probe > /dev/null 2>&1

mkdir -p "$W/run" "$W/audit"
METRICS=127.0.0.1:$((20000 + $$ % 20000))
CONTAINER=ium-test-$$
if out=$(podman load --quiet --input "$ARCHIVE" 2>&1); then tl_pass "podman load of the image archive" "$out"
else tl_fail "podman load of the image archive" "$out"; fi
if podman_run -d --name "$CONTAINER" --privileged --read-only --pid host --network host \
    -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/security:/sys/kernel/security -v "$W/run:/run/ium" -v "$W/audit:/var/lib/ium" \
    "$IMAGE" --pin-dir "$TL_PIN" --metrics "$METRICS" > "$W/podman.log" 2>&1; then
    tl_wait_for test -S "$W/run/iumd.sock"
fi
cleanup_container() { podman rm -f -t 5 "$CONTAINER" > /dev/null 2>&1; }
trap 'rc=$?; cleanup_container; (exit $rc); tl_cleanup' EXIT
export IUM_SOCKET="$W/run/iumd.sock"
if [ -S "$IUM_SOCKET" ]; then
    tl_pass "the image runs privileged in the host PID namespace" "$(podman logs "$CONTAINER" 2>&1 | grep -o 'backend=[a-z]*' | head -n 1)"
else
    tl_fail "the image runs privileged in the host PID namespace" "$(cat "$W/podman.log"; podman logs "$CONTAINER" 2>&1 | tail -n 3)"
    tl_summary
    exit
fi
podman exec "$CONTAINER" /usr/bin/ium status > /dev/null 2>&1 && tl_pass "the DaemonSet's readiness command (ium status) succeeds in it" \
    || tl_fail "the readiness command succeeds" "$(podman exec "$CONTAINER" /usr/bin/ium status 2>&1 | tail -n 1)"
tl_start_victim story
"$IUM" tag "$VPID" > "$W/tag.out" 2>&1 && tl_pass "the host's ium tags a host process through the container's iumd" \
    || tl_fail "tag through the container's iumd" "$(cat "$W/tag.out")"
strace -qq -o /dev/null -p "$VPID" > /dev/null 2>&1
rc=$?
[ $rc -ne 0 ] && tl_pass "strace -p of it is denied (exit $rc)" || tl_fail "strace -p is denied" "exit 0"
[ "$(tl_ask check)" = intact ] && tl_pass "the secret is intact" || tl_fail "the secret is intact" "$(tail -n 1 "$VOUT")"
"$IUM" query "$VPID" | grep -q '^    IsSecureProcess       1$' && tl_pass "ium query shows IsSecureProcess 1" \
    || tl_fail "ium query shows IsSecureProcess 1" "$("$IUM" query "$VPID" 2>&1 | head -n 3)"
tl_wait_for sh -c "curl -fsS http://$METRICS/metrics | grep -q '^ium_denials_total{'"
curl -fsS "http://$METRICS/metrics" > "$W/metrics.txt" 2>&1
grep -q '^ium_denials_total{' "$W/metrics.txt" && tl_pass "the denial is on the container's metrics endpoint" \
    || tl_fail "the denial is on the metrics endpoint" "$(head -c 200 "$W/metrics.txt")"
kill -9 "$VPID" 2> /dev/null
cleanup_container
tl_summary
