#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# build-deb.sh BINDIR LIBIUM OUT.deb: the 'ium' binary package, with dpkg-deb (no debian/
# source tree: the project builds its own binaries). `make deb` calls it.
#   BINDIR  the release binaries ium, iumd and ium-keyd (--static-swift-stdlib; the version
#           is `ium --version`'s)
#   LIBIUM  libium.so.1
# Layout: /usr/bin/ium, /usr/sbin/iumd, /usr/bin/ium-keyd, /lib/systemd/system/iumd.service
# and ium-keyd.service (ExecStart rewritten; ium-keyd's is not enabled), libium with its header
# and pkg-config file under the multiarch directories, man pages, copyright and changelog.
# Depends comes from dpkg-shlibdeps. Reproducible for a given SOURCE_DATE_EPOCH (default: the
# last commit's time).
set -eu
[ $# -eq 3 ] || { echo "usage: $0 BINDIR LIBIUM OUT.deb" >&2; exit 64; }
BINDIR=$1 LIBIUM=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
VERSION=$("$BINDIR/ium" --version)
MAINTAINER="ium maintainers <ium@example.org>"
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
LIB=usr/lib/$MA
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || date +%s)}

W=$(mktemp -d "${TMPDIR:-/tmp}/ium-deb.XXXXXX")
trap 'rm -rf "$W"' EXIT
umask 022
# dpkg-shlibdeps and dpkg-gensymbols insist on a debian/control.
mkdir -p "$W/src/debian"
printf 'Source: ium\n\nPackage: ium\nArchitecture: any\n' > "$W/src/debian/control"
sed -e "s|@VERSION@|$VERSION|" -e "s|@MAINTAINER@|$MAINTAINER|" -e "s|@DATE@|$(date -R -u -d "@$SOURCE_DATE_EPOCH")|" \
    "$HERE/changelog" > "$W/src/debian/changelog"

R=$W/ium
install -d "$R/DEBIAN" "$R/usr/share/doc/ium" "$R/lib/systemd/system" "$R/usr/share/man/man1" "$R/usr/share/man/man8" \
    "$R/$LIB/pkgconfig" "$R/usr/include/ium" "$R/usr/share/lintian/overrides"
install -m 0644 "$HERE/copyright" "$R/usr/share/doc/ium/copyright"
gzip -9n < "$W/src/debian/changelog" > "$R/usr/share/doc/ium/changelog.gz"
# The binaries, stripped as dh_strip would (the release build keeps symbols).
install -D -m 0755 "$BINDIR/ium" "$R/usr/bin/ium"
install -D -m 0755 "$BINDIR/iumd" "$R/usr/sbin/iumd"
install -D -m 0755 "$BINDIR/ium-keyd" "$R/usr/bin/ium-keyd"
strip --remove-section=.comment --remove-section=.note "$R/usr/bin/ium" "$R/usr/sbin/iumd" "$R/usr/bin/ium-keyd"
sed 's|/usr/local/bin/iumd|/usr/sbin/iumd|g' "$TOP/contrib/iumd.service" > "$R/lib/systemd/system/iumd.service"
sed 's|/usr/local/bin/|/usr/bin/|g' "$TOP/contrib/ium-keyd.service" > "$R/lib/systemd/system/ium-keyd.service"
chmod 0644 "$R/lib/systemd/system/iumd.service" "$R/lib/systemd/system/ium-keyd.service"
gzip -9n < "$HERE/ium.1" > "$R/usr/share/man/man1/ium.1.gz"
gzip -9n < "$HERE/ium-keyd.1" > "$R/usr/share/man/man1/ium-keyd.1.gz"
gzip -9n < "$HERE/iumd.8" > "$R/usr/share/man/man8/iumd.8.gz"
for f in preinst postinst prerm postrm; do install -m 0755 "$HERE/$f" "$R/DEBIAN/$f"; done
install -m 0644 "$HERE/lintian-overrides" "$R/usr/share/lintian/overrides/ium"
# libium: the library (ldconfig trigger, shlibs, symbols), the header and pkg-config file.
install -m 0644 "$LIBIUM" "$R/$LIB/libium.so.1"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$R/$LIB/libium.so.1"
ln -s libium.so.1 "$R/$LIB/libium.so"
install -m 0644 "$TOP/CModules/libium/include/ntddk.h" "$TOP/CModules/CLinuxShims/include/ium_secret.h" "$R/usr/include/ium/"
install -m 0644 "$HERE/triggers" "$R/DEBIAN/triggers"
echo "libium 1 ium (>= $VERSION)" > "$R/DEBIAN/shlibs"
(cd "$W/src" && dpkg-gensymbols -q -c0 -pium -P"$R" -v"$VERSION" -e"$R/$LIB/libium.so.1" -O"$R/DEBIAN/symbols")
sed -i "1a * Build-Depends-Package: ium" "$R/DEBIAN/symbols"
cat > "$R/$LIB/pkgconfig/libium.pc" <<PC
prefix=/usr
libdir=\${prefix}/lib/$MA
includedir=\${prefix}/include/ium

Name: libium
Description: NtOpenProcess, NtQueryInformationProcess and NtClose (ntddk.h), answered by iumd
Version: $VERSION
Libs: -L\${libdir} -lium
Cflags: -I\${includedir}
PC
chmod 0644 "$R/$LIB/pkgconfig/libium.pc"

DEPENDS=$(cd "$W/src" && dpkg-shlibdeps -O -e"$R/usr/bin/ium" -e"$R/usr/sbin/iumd" -e"$R/usr/bin/ium-keyd" -e"$R/$LIB/libium.so.1" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
(cd "$R" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$R/DEBIAN/md5sums"
cat > "$R/DEBIAN/control" <<CONTROL
Package: ium
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$R" | cut -f1)
Depends: adduser, $DEPENDS
Section: admin
Priority: optional
Homepage: https://example.org/ium
Description: isolated user mode for Linux: secure processes and NT process queries
 ium brings Windows' secure-process contract to Linux: an eBPF kernel guard
 denies every access into a process tagged secure, root included.
 .
 This package contains the daemon iumd, with its systemd unit, which loads
 the guard and answers NT process queries, and the command-line client ium.
 It also contains libium, a C library with an ntddk.h header and a
 pkg-config file, for querying iumd from C, and ium-keyd, a reference
 trustlet: an Ed25519 signing key in secret memory inside a secure process
 (its unit, ium-keyd.service, is installed but not enabled).
CONTROL
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --build --root-owner-group -Zxz "$R" "$OUT"
