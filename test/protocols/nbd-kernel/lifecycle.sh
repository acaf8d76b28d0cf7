#!/bin/bash
# The kernel's NBD client against `zerofs serve --nbd`, run as root inside the kclient guest by
# test/protocols/nbd-kernel.test.ts:
#
#   lifecycle.sh PORT HANDSHAKE_PORT EXPORT
#
# Connects /dev/nbd0 to EXPORT, makes an ext4, writes files, unmounts and disconnects; asks the host
# (through HANDSHAKE_PORT) to kill -9 the server and start it again on the same port and cache;
# reconnects, checks the filesystem with fsck.ext4 -n -f and the files' sha256, writes once more.
# Prints "ok STEP" per step; the first failure ends the script with "not ok" and a non-zero status.
set -eEuo pipefail
PORT=$1
HANDSHAKE_PORT=$2
EXPORT=$3
MNT=/mnt/nbd
STEP=start
trap 'echo "not ok $STEP: failed: $BASH_COMMAND (line $LINENO)"' ERR

step() { echo "ok $STEP"; STEP=$1; }

connect() {
    nbd-client "$HOST" "$PORT" /dev/nbd0 -N "$EXPORT"
    [ "$(blockdev --getsize64 /dev/nbd0)" -gt 0 ]
}

disconnect() {
    nbd-client -d /dev/nbd0
    # The device is free once the kernel has let go of the connection.
    for _ in $(seq 1 100); do
        [ "$(cat /sys/block/nbd0/size)" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

modprobe nbd
STEP=connect
connect
step mkfs
mkfs.ext4 -q -F /dev/nbd0
mkdir -p "$MNT"
mount /dev/nbd0 "$MNT"
step write
head -c 3000000 /dev/urandom >"$MNT/random.bin"
mkdir "$MNT/dir"
for i in $(seq 1 50); do echo "file $i" >"$MNT/dir/f$i"; done
ln -s random.bin "$MNT/link"
(cd "$MNT" && sha256sum random.bin dir/*) >/tmp/before.sha
sed -n '1s/^/# sha256 /p' /tmp/before.sha
step umount-disconnect
umount "$MNT"
disconnect
step kill-restart
python3 - "$HOST" "$HANDSHAKE_PORT" <<'PYTHON'
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as host:
    host.sendall(b'kill\n')
    reply = host.makefile().readline().strip()
assert reply == 'restarted', f'the host answered {reply!r}'
PYTHON
step reconnect
connect
step fsck-clean
fsck.ext4 -n -f /dev/nbd0
step data-intact
mount /dev/nbd0 "$MNT"
(cd "$MNT" && sha256sum --quiet -c /tmp/before.sha)
[ "$(readlink "$MNT/link")" = random.bin ]
step write-after-restart
echo after >"$MNT/after"
umount "$MNT"
disconnect
step done
