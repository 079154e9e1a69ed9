#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the initramfs the VM tests boot: busybox, ium and its guard object, the attack
# programs, the real tools (gdb, strace, python3) — each with the libraries ldd lists — the
# matrix, the /init script, and VM_EXTRA's files.
#
#   build-initramfs.sh OUT.cpio        (run as root: it creates /dev/console)
# Environment: IUM_BIN, IUMD_BIN, KEYD_BIN, VICTIM, ATTACK, FIXTURE, NT_RULES, IS_SECURE
# (built programs), VM_EXTRA.
set -euo pipefail
out=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/ium-initramfs.XXXXXX)
chmod 755 "$root" # the VM's /: other users must traverse it
trap 'rm -rf "$root"' EXIT

# copy FILE [DEST]: a file at its own path (or DEST) in the image, with its libraries.
copy() {
    local file=$1 dest=${2:-$1}
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$file" "$root$dest"
    libs "$file"
}
libs() {
    local lib
    while read -r lib; do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
        libs "$lib"
    done < <(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' || true)
}

mkdir -p "$root"/{bin,sbin,usr/bin,usr/local/bin,proc,sys,dev,tmp,run,etc,ium,extra,var/lib}
mkdir -p "$(dirname "$out")"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$root/etc/passwd"

copy "$IUM_BIN" /usr/local/bin/ium
copy "$IUMD_BIN" /usr/local/bin/iumd
[ -z "${KEYD_BIN:-}" ] || copy "$KEYD_BIN" /usr/local/bin/ium-keyd # the trustlet (not in make bench's image)
copy "$NT_RULES" /usr/local/bin/nt_rules
copy "$(dirname "$NT_RULES")/caller_view" /usr/local/bin/caller_view
copy "$(dirname "$NT_RULES")/freshness" /usr/local/bin/freshness
copy "$IS_SECURE" /usr/local/bin/is-secure
cp -L "$(dirname "$NT_RULES")/libium.so.1" "$root/usr/local/bin/" # their rpath is $ORIGIN
mkdir -p "$root/ium/e2e" "$root/ium/attack" "$root/ium/lib" "$root/ium/vm" "$root/ium/trustlet"
cp "$here/../trustlet/keyd.sh" "$root/ium/trustlet/keyd.sh"
cp "$here/lockdown.sh" "$root/ium/vm/lockdown.sh"
cp "$here/../e2e/e2e.sh" "$root/ium/e2e/e2e.sh"
cp "$here/../lib/testlib.sh" "$root/ium/lib/testlib.sh"
cp "$here/../../scripts/demo-story.sh" "$root/ium/demo-story.sh"
if [ -n "${BENCH:-}" ]; then # make bench: the measurements
    copy "$BENCH" /usr/local/bin/bench
    cp "$here/../../Benchmarks/vm-bench.sh" "$root/ium/vm-bench.sh"
fi
copy "$(command -v bpftool)" /usr/sbin/bpftool # bpf_stats (bench), the guard's map ids (sealing)
attackers=$(dirname "$ATTACK")
copy "$VICTIM" /usr/local/bin/victim
copy "$ATTACK" /usr/local/bin/attack
cp "$attackers/evil.bpf.o" "$root/usr/local/bin/" # attack bpf loads it from next to itself
mkdir -p "$root/usr/local/lib"
cp "$attackers/libsidedoor.so" "$attackers/libpreload.so" "$root/usr/local/lib/"
libs "$attackers/libpreload.so"
copy "$FIXTURE" /usr/local/bin/testproc
cp "$here/../attack/matrix.sh" "$here/../attack/sidedoors.sh" "$here/../attack/secretmem.sh" "$here/../attack/sealing.sh" "$root/ium/attack/"
cp "$here/init" "$root/init"
chmod +x "$root/init"

# Real attackers. gdb embeds Python: it needs the standard library and its own data dir.
copy /usr/bin/strace
copy /usr/bin/setpriv # util-linux's: busybox's cannot change uids
copy /usr/bin/prlimit
copy /usr/bin/unshare
copy /usr/bin/gdb
copy /lib/x86_64-linux-gnu/libthread_db.so.1
mkdir -p "$root/usr/share"
cp -r /usr/share/gdb "$root/usr/share/gdb"
python=$(readlink -f /usr/bin/python3)
copy "$python" /usr/bin/python3
pyver=$(basename "$python")
mkdir -p "$root/usr/lib/$pyver"
(cd "/usr/lib/$pyver" && find . \( -name __pycache__ -o -name test -o -name tests -o -name idlelib -o -name tkinter \
    -o -name turtledemo -o -name ensurepip -o -name lib2to3 -o -name pydoc_data -o -name 'config-*' \
    -o -name site-packages -o -name dist-packages \) -prune -o -type f -print | cpio -pdm --quiet "$root/usr/lib/$pyver")
for so in "$root/usr/lib/$pyver"/lib-dynload/*.so; do libs "$so"; done

if [ -n "${VM_EXTRA:-}" ]; then
    cp -r "$VM_EXTRA"/. "$root/extra/"
    for f in "$root"/extra/*; do [ -f "$f" ] && [ -x "$f" ] && libs "$f"; done
fi

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
echo "initramfs: $out ($(du -h "$out" | cut -f1))"
