#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# build-image.sh BINDIR IMAGE ARCHIVE: the ium OCI image, built by buildah from scratch (no
# base image is downloaded): the release ium and iumd, the shared libraries and loader ldd
# names for them, and the directories iumd uses. Tagged IMAGE in local storage and written to
# ARCHIVE (an oci-archive, for `podman load` or a registry push). `make oci` calls it.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 BINDIR IMAGE ARCHIVE" >&2; exit 64; }
BINDIR=$1 IMAGE=$2 ARCHIVE=$3
VERSION=$("$BINDIR/ium" --version)
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" > /dev/null 2>&1' EXIT
root=$(buildah mount "$ctr")
install -d -m 0755 "$root/usr/bin" "$root/usr/sbin" "$root/run/ium" "$root/var/lib/ium" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
install -m 0755 "$BINDIR/ium" "$root/usr/bin/ium"
install -m 0755 "$BINDIR/iumd" "$root/usr/sbin/iumd"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/ium" "$root/usr/sbin/iumd"
for lib in $(ldd "$BINDIR/ium" "$BINDIR/iumd" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | sort -u); do
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
# glibc's getgrnam (the 'ium' group) reads /etc/group through NSS's files module.
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2; do [ -e "$lib" ] && install -D -m 0644 "$(readlink -f "$lib")" "$root$lib"; done
printf 'root:x:0:0:root:/:/usr/sbin/iumd\n' > "$root/etc/passwd"
printf 'root:x:0:\nium:x:990:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
buildah umount "$ctr" > /dev/null
buildah config --entrypoint '["/usr/sbin/iumd"]' --cmd '[]' \
    --env IUM_SOCKET=/run/ium/iumd.sock \
    --label org.opencontainers.image.title=ium \
    --label org.opencontainers.image.description="iumd: the kernel guard for secure processes and NT process queries" \
    --label org.opencontainers.image.version="$VERSION" \
    --label org.opencontainers.image.licenses=Apache-2.0 \
    --stop-signal SIGTERM "$ctr"
buildah commit --quiet --rm "$ctr" "$IMAGE" > /dev/null
trap - EXIT
rm -f "$ARCHIVE"
buildah push --quiet "$IMAGE" "oci-archive:$ARCHIVE:$IMAGE" > /dev/null
echo "$IMAGE ($VERSION): $(du -h "$ARCHIVE" | cut -f1) in $ARCHIVE"
