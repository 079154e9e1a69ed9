#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The Debian package end to end (root): lintian finds no error or warning; apt-get installs it;
# the installed iumd (with a test guard of its own, as every test) serves the user story to the
# installed ium and to C code built against the installed ntddk.h and libium, and the installed
# ium-keyd runs secure as its unit starts it; apt-get purge leaves none of its files. Environment: DEB (the package), VICTIM.
# It refuses to run (SKIP) where it could touch a real installation: ium already installed,
# the machine's guard loaded, an audit store in /var/lib/ium, or systemd running (the
# package's postinst would start iumd).
. "$(dirname "$0")/../lib/testlib.sh"
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
IUM=/usr/bin/ium
IUMD=/usr/sbin/iumd
tl_init deb
echo "ium Debian package: $(basename "$DEB")"
why=
if dpkg-query -W -f='${Status}' ium 2> /dev/null | grep -q installed; then why="ium is installed on this machine: the test would replace it"
elif [ -d /sys/fs/bpf/ium ]; then why="the machine's guard is loaded (/sys/fs/bpf/ium): purging would unload it"
elif [ -e /var/lib/ium ]; then why="an audit store exists (/var/lib/ium): purging would delete it"
elif [ -d /run/systemd/system ]; then why="systemd runs here: installing would start the machine's iumd"
fi
if [ -n "$why" ]; then
    tl_skip "the package installs, serves the user story and purges" "$why"
    tl_summary
    exit
fi

if out=$(lintian --fail-on error,warning --display-info "$DEB" 2>&1); then
    tl_pass "lintian: no error or warning" "$(echo "$out" | grep -c '^I:') info tags"
else
    tl_fail "lintian: no error or warning" "$(echo "$out" | grep -E '^(E|W):' | head -n 5)"
fi

group_before=$(getent group ium)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" > "$W/install.log" 2>&1
rc=$?
# Its files and links (not directories, nor /lib, a link to a directory on merged-/usr systems).
files=$(dpkg -L ium 2> /dev/null | while read -r f; do [ ! -d "$f" ] && { [ -f "$f" ] || [ -L "$f" ]; } && echo "$f"; done)
if [ $rc -eq 0 ] && [ -x $IUM ] && [ -x $IUMD ] && getent group ium > /dev/null; then
    tl_pass "apt-get install ./$(basename "$DEB")" "$(echo "$files" | wc -l) files, group ium"
else
    tl_fail "apt-get install" "exit $rc: $(tail -n 3 "$W/install.log")"
fi
[ "$($IUM --version)" = "$(dpkg-query -W -f='${Version}' ium)" ] && tl_pass "ium --version is the package's version" \
    || tl_fail "ium --version is the package's version" "$($IUM --version)"

# C code against the installed header and library (pkg-config), WDK sample unchanged.
if cc -O2 -o "$W/is-secure" "$EXAMPLES/main.c" "$EXAMPLES/IsSecureProcess.c" $(pkg-config --cflags --libs libium) 2> "$W/cc.log"; then
    tl_pass "the WDK sample builds against the installed ntddk.h (pkg-config libium)"
else
    tl_fail "the WDK sample builds against the installed ntddk.h" "$(head -n 3 "$W/cc.log")"
fi

cat > "$W/secret.c" <<'C'
#include <stdio.h>
#include <ium_secret.h>
int main(void) {
    ium_secret s;
    int err = ium_secret_alloc(32, IUM_SECRET_SEAL, &s);
    if (err) { puts(ium_secret_strerror(err)); return 1; }
    ium_secret_free(&s);
    puts("secret ok");
    return 0;
}
C
if cc -o "$W/secret" "$W/secret.c" $(pkg-config --cflags --libs libium) 2> "$W/cc.log"; then
    tl_pass "ium_secret.h builds and links against the installed libium" "$("$W/secret" 2>&1)"
else
    tl_fail "ium_secret.h builds and links against the installed libium" "$(head -n 3 "$W/cc.log")"
fi

# The user story with the installed binaries.
if tl_start_iumd; then
    tl_start_victim story
    tl_check "installed ium tag PID" "$($IUM tag "$VPID" 2>&1)" $IUM tag "$VPID"
    strace -qq -o /dev/null -p "$VPID" > /dev/null 2>&1
    rc=$?
    [ $rc -ne 0 ] && tl_pass "strace -p is denied (exit $rc)" || tl_fail "strace -p is denied" "exit 0"
    [ "$(tl_ask check)" = intact ] && tl_pass "the secret is intact" || tl_fail "the secret is intact" "$(tail -n 1 "$VOUT")"
    $IUM query "$VPID" | grep -q '^    IsSecureProcess       1$' && tl_pass "installed ium query shows IsSecureProcess 1" \
        || tl_fail "installed ium query shows IsSecureProcess 1" "$($IUM query "$VPID" 2>&1 | head -n 3)"
    [ "$("$W/is-secure" "$VPID")" = "$VPID secure" ] && tl_pass "the sample linked to the installed libium says secure" \
        || tl_fail "the sample linked to the installed libium says secure" "$("$W/is-secure" "$VPID" 2>&1)"
    kill -9 "$VPID" 2> /dev/null
    # The trustlet as the packaged unit starts it (its ExecStart, with a test socket), from the
    # installed binaries: secure, signing, verifying.
    exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/ium-keyd.service)
    set -- $exec_start
    if [ "$1" = /usr/bin/ium ] && [ -x "$1" ] && echo "$exec_start" | grep -q ' /usr/bin/ium-keyd serve '; then
        tl_pass "ium-keyd.service starts the installed ium-keyd with the installed ium run" "$exec_start"
    else
        tl_fail "ium-keyd.service starts the installed ium-keyd with ium run" "$exec_start"
    fi
    mdwe=--mdwe
    [ "$(printf '%s\n' "$(uname -r)" 6.3 | sort -V | head -n 1)" = 6.3 ] || mdwe=
    $IUM run --no-new-privs $mdwe -- /usr/bin/ium-keyd serve --socket "$W/keyd.sock" > "$W/keyd.out" 2>&1 &
    tl_track $!
    i=0
    while ! grep -q 'public key' "$W/keyd.out" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    kpid=$(sed -n 's/^ium-keyd: pid \([0-9]*\),.*/\1/p' "$W/keyd.out")
    sig=$(/usr/bin/ium-keyd sign --socket "$W/keyd.sock" "pay 100 to alice" 2>&1)
    if [ -n "$kpid" ] && $IUM query "$kpid" | grep -q '^    IsSecureProcess       1$' &&
        [ "$(/usr/bin/ium-keyd verify --socket "$W/keyd.sock" "$sig" "pay 100 to alice" 2>&1)" = valid ]; then
        tl_pass "the installed ium-keyd runs secure, signs and verifies" "pid $kpid"
    else
        tl_fail "the installed ium-keyd runs secure, signs and verifies" "$(head -n 2 "$W/keyd.out") $sig"
    fi
    [ -n "$kpid" ] && kill -9 "$kpid" 2> /dev/null
    tl_stop_iumd
    $IUMD --pin-dir "$TL_PIN" --unload > /dev/null 2>&1
else
    tl_fail "the installed iumd starts" "$(tail -n 3 "$W/iumd.log")"
fi

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ium > "$W/purge.log" 2>&1
rc=$?
left=$(for f in $files; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
if [ $rc -eq 0 ] && [ -n "$files" ] && [ -z "$left" ] && ! dpkg-query -W ium > /dev/null 2>&1 && [ ! -e /var/lib/ium ]; then
    tl_pass "apt-get purge ium leaves none of its files"
else
    tl_fail "apt-get purge ium leaves none of its files" "exit $rc; left: $(echo $left | head -c 200)"
fi
# Debian keeps a package's system group after purge (files may still carry its gid); the test
# restores the machine as it found it.
[ -n "$group_before" ] || delgroup --system --quiet ium 2> /dev/null
tl_summary
