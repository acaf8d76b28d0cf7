#!/bin/sh
# Run in the kclient guest by test/transfer/nfs-kernel.test.ts: mounts `zerofs serve` (NFSv3 on the
# host's 127.0.0.1:PORT) with the kernel's client and prints every entry's attributes, one per line:
#   PATH|MODE (hex)|UID|GID|SIZE|MTIME (s)|TARGET (symlinks)
set -eu
PORT=$1
modprobe nfsv3
mkdir -p /mnt/migrated
mount -t nfs -o vers=3,proto=tcp,port="$PORT",mountport="$PORT",mountproto=tcp,nolock "$HOST:/" /mnt/migrated
cd /mnt/migrated
find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r path; do
    target=''
    if [ -L "$path" ]; then target=$(readlink "$path"); fi
    printf '%s|%s|%s\n' "$(stat -c '%n|%f|%u|%g|%s' "$path")" "$(stat -c '%Y' "$path")" "$target"
done
cd /
umount /mnt/migrated
echo 'attributes: done'
