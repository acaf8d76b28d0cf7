#!/usr/bin/env bash
# Installs the real peers the tests talk to (Debian 12 packages): rclone, s3fs + FUSE, libnfs's NFS
# tools, libnbd's nbdinfo/nbdcopy, qemu-img, nbdkit, diod's tools, the AWS CLI, rsync, GNU time, and
# what ../shared/kclient needs to boot the real Linux NFS/9P/NBD clients in QEMU. Needs root (or sudo).
# Installs only what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
need=()
command -v rclone >/dev/null || need+=(rclone)
command -v s3fs >/dev/null || need+=(s3fs)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v nfs-ls >/dev/null || need+=(libnfs-utils)
command -v aws >/dev/null || need+=(awscli)
command -v rsync >/dev/null || need+=(rsync)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v nbdcopy >/dev/null || need+=(libnbd-bin)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v nbdkit >/dev/null || need+=(nbdkit)
[ -x /usr/sbin/diodls ] || need+=(diod)
[ -x /usr/bin/time ] || need+=(time)          # benchmarks measure peak RSS with GNU time
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

kclient="$(dirname "$0")/../../shared/kclient/setup"
if [ -x "$kclient" ]; then
  $sudo "$kclient"
else
  echo "note: $kclient not found; the kernel-client tests will fail" >&2
fi
