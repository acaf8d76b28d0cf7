#!/bin/bash
# Lifecycle checks for `zerofs serve`, run as root inside the kclient guest by
# test/protocols/nfs-kernel-lifecycle.test.ts:
#
#   lifecycle.sh RESTART_PORT HANDSHAKE_PORT
#
# portmap      the host runs a serve with --portmap on its 127.0.0.1:111: `mount HOST:/` names no port.
# permissions  on that mount, as uid 1000 (setpriv), POSIX refusals come back as the right errno.
# restart      on the serve at RESTART_PORT: with data committed, more acknowledged UNSTABLE and more
#              not sent yet, the host kills -9 that serve and starts it again on the same port and
#              cache when asked through HANDSHAKE_PORT; the client carries on through the same mount.
# Prints "ok/not ok LABEL NAME" per check, and "# sha256 NAME HEX" and "# bytes ..." lines the host
# reads. Exit status: the number of failed checks.
set -u
RESTART_PORT=$1
HANDSHAKE_PORT=$2
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

AS_USER="setpriv --reuid=1000 --regid=1000 --clear-groups --"
REPORT=/tmp/lifecycle-report   # lines for the host; `run` keeps a check's own output unless it fails

t_portmap_mount_io() {
    grep " $MOUNT nfs " /proc/mounts | grep -q 'vers=3'
    echo 'found through the portmapper' >pm.txt
    drop_caches
    [ "$(cat pm.txt)" = 'found through the portmapper' ]
}

t_permissions() {
    mkdir shared sticky private
    chmod 0777 shared
    chmod 1777 sticky
    chmod 0700 private
    echo root >rootfile && chmod 0644 rootfile
    echo open >openfile && chmod 0666 openfile
    echo theirs >sticky/rootfile && chmod 0666 sticky/rootfile
    RUN_AS=$AS_USER expect_errno EPERM "os.chmod('rootfile', 0o777)"
    RUN_AS=$AS_USER expect_errno EPERM "os.chown('openfile', 1000, 1000)"
    RUN_AS=$AS_USER expect_errno EACCES "open('rootfile', 'a')"
    RUN_AS=$AS_USER expect_errno EPERM "os.utime('openfile', (1, 1))"
    $AS_USER "$PY" -c "import os; os.utime('openfile')"     # to now: write permission is enough
    RUN_AS=$AS_USER expect_errno EPERM "os.unlink('sticky/rootfile')"
    RUN_AS=$AS_USER expect_errno EACCES "os.listdir('private')"
    RUN_AS=$AS_USER expect_errno EACCES "open('private/new', 'w')"
    RUN_AS=$AS_USER expect_errno EPERM "os.mknod('shared/null', 0o20644, os.makedev(1, 3))"
    # A file created 0444 takes the writes of the descriptor that created it (the server lets its owner write).
    $AS_USER "$PY" -c "
import os
fd = os.open('shared/readonly', os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o444)
os.write(fd, b'written after create')
os.close(fd)"
    drop_caches
    [ "$(stat -c '%a %u %g' shared/readonly)" = '444 1000 1000' ]
    [ "$(cat shared/readonly)" = 'written after create' ]
    RUN_AS=$AS_USER expect_errno EACCES "open('shared/readonly', 'a')"
    $AS_USER rm -f shared/readonly
    [ ! -e shared/readonly ]
}

report_sha() {  # NAME FILE
    echo "# sha256 $1 $(sha256sum "$2" | cut -d' ' -f1)" >>"$REPORT"
}

t_restart() {
    mkdir "$MOUNT/keep"
    cd "$MOUNT/keep"   # what the host checks afterwards
    head -c 8388608 /dev/urandom >/tmp/committed
    dd if=/tmp/committed of=committed bs=1M conv=fsync status=none   # COMMITted before the kill
    report_sha committed /tmp/committed
    exec 4<committed                                                  # a descriptor held across the restart
    head -c 50331648 /dev/urandom >/tmp/inflight
    report_sha inflight /tmp/inflight
    # No periodic writeback meanwhile: it would COMMIT behind the script's back.
    local periodic
    periodic=$(cat /proc/sys/vm/dirty_writeback_centisecs)
    echo 0 >/proc/sys/vm/dirty_writeback_centisecs
    "$PY" - "$HOST" "$HANDSHAKE_PORT" "$MOUNT" <<'PYTHON'
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
SYNC_FILE_RANGE_WRITE = 2   # <fcntl.h>: start writeback, do not wait for it
mount = sys.argv[3]

def acknowledged():
    """Bytes the server acknowledged in WRITE replies on this mount (serverwritebytes)."""
    here = False
    for line in open('/proc/self/mountstats'):
        fields = line.split()
        if fields and fields[0] == 'device':
            here = len(fields) > 4 and fields[4] == mount
        elif here and fields and fields[0] == 'bytes:':
            return int(fields[6])
    raise SystemExit(f'no statistics for {mount}')

data = open('/tmp/inflight', 'rb').read()
third = len(data) // 3
before = acknowledged()
fd = os.open('inflight', os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
os.write(fd, data[:third])
if libc.sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0:
    raise OSError(ctypes.get_errno(), 'sync_file_range')
# Kill once part of it is acknowledged UNSTABLE and the rest is still on the wire: the client cannot
# have committed it yet (it commits after the last write returns), so it must send it again.
while acknowledged() - before < 4 << 20:
    time.sleep(0.005)
with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as host:
    host.sendall(b'kill\n')
    reply = host.makefile().readline().strip()
assert reply == 'restarted', f'the host answered {reply!r}'
os.write(fd, data[third:])  # and more, written through the same descriptor to the new server
os.fsync(fd)
os.close(fd)
PYTHON
    echo "$periodic" >/proc/sys/vm/dirty_writeback_centisecs
    cmp /tmp/committed <(cat <&4)
    exec 4<&-
    echo after >after-restart
    drop_caches
    cmp /tmp/committed committed
    cmp /tmp/inflight inflight
    [ "$(cat after-restart)" = after ]
    ls -l >/dev/null
    # bytes: normalreadbytes normalwritebytes directreadbytes directwritebytes serverreadbytes serverwritebytes ...
    awk -v mnt="$MOUNT" '$1 == "device" { here = ($5 == mnt) } here && $1 == "bytes:" { print "# bytes", $3, $7 }' /proc/self/mountstats >>"$REPORT"
}

guest_setup

LABEL=portmap
MOUNT=/mnt/portmap
WORK=$MOUNT/work
mkdir -p "$MOUNT"
if mount -t nfs -o vers=3,nolock "$HOST:/" "$MOUNT"; then
    echo "ok $LABEL mount without port options"
    mkdir "$WORK"
    run read-write t_portmap_mount_io
    LABEL=permissions run as-uid-1000 t_permissions
    rm -rf "$WORK"
    umount "$MOUNT" && echo "ok $LABEL umount" || { echo "not ok $LABEL umount"; failures=$((failures + 1)); }
else
    echo "not ok $LABEL mount without port options"
    failures=$((failures + 1))
fi

LABEL=restart
MOUNT=/mnt/restart
WORK=$MOUNT/work
mkdir -p "$MOUNT"
if mount -t nfs -o vers=3,proto=tcp,port="$RESTART_PORT",mountport="$RESTART_PORT",mountproto=tcp,nolock "$HOST:/" "$MOUNT"; then
    echo "ok $LABEL mount"
    mkdir "$WORK"
    run kill-9-and-restart-under-a-live-mount t_restart
    cat "$REPORT" 2>/dev/null
    cd /
    umount "$MOUNT" && echo "ok $LABEL umount" || { echo "not ok $LABEL umount"; failures=$((failures + 1)); }
else
    echo "not ok $LABEL mount"
    failures=$((failures + 1))
fi
echo "lifecycle finished with $failures failure(s)"
exit "$failures"
