#!/bin/bash
# Run as root inside the kclient guest by test/protocols/p9-kernel.test.ts: the POSIX behaviour
# suite over 9P on every server named (as posix-suite.sh takes them), then the lock checks
# between processes and between two mounts of the first server.
#
#   guest.sh LABEL:PORT:LONGNAMES...
set -u
here=$(dirname "$0")
export PROTO=9p
bash "$here/../nfs-kernel/posix-suite.sh" "$@"
failures=$?

IFS=: read -r _ PORT _ <<<"$1"
mkdir -p /mnt/lock1 /mnt/lock2
# locktimeout: how long the client waits before asking again for a blocked lock (default 30 s).
options=trans=tcp,port=$PORT,version=9p2000.L,uname=root,locktimeout=1
if mount -t 9p -o "$options" "$HOST" /mnt/lock1 && mount -t 9p -o "$options" "$HOST" /mnt/lock2; then
    mkdir -p /mnt/lock1/locks
    if /usr/bin/python3 "$here/locks.py" /mnt/lock1/locks/file /mnt/lock2/locks/file; then
        echo "ok locks"
    else
        echo "not ok locks"
        failures=$((failures + 1))
    fi
    rm -r /mnt/lock1/locks
    umount /mnt/lock1 /mnt/lock2 || { echo "not ok lock umount"; failures=$((failures + 1)); }
else
    echo "not ok lock mounts"
    failures=$((failures + 1))
fi
echo "guest finished with $failures failure(s)"
exit "$failures"
