#!/bin/bash
# The kernel-client half of bench/nfs.ts (and, with PROTO=9p, of bench/9p.ts), run as root inside
# one kclient guest:
#
#   nfs-kernel-bench.sh HANDSHAKE_PORT LABEL:NFSPORT:MOUNTPORT:EXPORT...
#
# With PROTO=9p, NFSPORT is the 9P port, MOUNTPORT is unused and EXPORT is the aname.
# For each server it mounts HOST:EXPORT and times the seed operations and the sequential transfers,
# printing "RESULT LABEL OPERATION MILLISECONDS" lines (one per run) for the host to read. A write
# counts as done once the host sees the whole object in the server's store: the guest asks it with
# "visible LABEL NAME SIZE" on HANDSHAKE_PORT and waits for "yes".
#
# Cold means neither the server nor the client has seen the directory; every other run starts
# with the client's caches dropped (so the server answers), the server's caches as they are.
set -u
HANDSHAKE_PORT=$1
shift
RUNS=${BENCH_RUNS:-5}
SEQ_MIB=${BENCH_SEQ_MIB:-256}

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
result() { echo "RESULT $LABEL $1 $(( ($3 - $2) / 1000 )).$(printf %03d $(( ($3 - $2) % 1000 )))"; }

visible() {  # NAME SIZE: waits until the host sees NAME with SIZE bytes in this server's store
    local reply
    exec 3<>"/dev/tcp/$HOST/$HANDSHAKE_PORT"
    echo "visible $LABEL $1 $2" >&3
    read -r reply <&3
    exec 3>&-
    [ "$reply" = yes ] || { echo "# $LABEL: $1 never became visible ($reply)" >&2; return 1; }
}

timed() {  # OPERATION COMMAND...: one timed run of COMMAND (its output discarded)
    local start end
    start=$(now_us)
    "${@:2}" >/dev/null || { echo "# $LABEL $1 failed" >&2; return 1; }
    end=$(now_us)
    result "$1" "$start" "$end"
}

write_visible() {  # SOURCE NAME SIZE: writes, fsyncs and closes NAME, then waits until it is in the store
    dd if="$1" of="$2" bs=1M conv=fsync status=none && visible "$2" "$3"
}

bench_server() {
    drop_caches
    timed ls-l-cold ls -l ls-kernel
    for _ in $(seq "$RUNS"); do drop_caches; timed ls-l-warm ls -l ls-kernel; done
    for _ in $(seq "$RUNS"); do drop_caches; timed stat stat one-mib.bin; done
    for _ in $(seq "$RUNS"); do drop_caches; timed read-1mib cat one-mib.bin; done
    for run in $(seq "$RUNS"); do timed write-1mib write_visible /tmp/one-mib "kernel-w1-$run" 1048576; done
    timed write-seq write_visible /tmp/seq "kernel-seq.bin" $((SEQ_MIB * 1048576))
    drop_caches
    timed read-seq cat kernel-seq.bin
}

mount_server() {  # PORT MOUNTPORT EXPORT MOUNT
    if [ "${PROTO:-nfs}" = 9p ]; then
        mount -t 9p -o trans=tcp,port="$1",version=9p2000.L,uname=root,aname="$3" "$HOST" "$4"
    else
        mount -t nfs -o vers=3,proto=tcp,port="$1",mountport="$2",mountproto=tcp,nolock "$HOST:$3" "$4"
    fi
}

if [ "${PROTO:-nfs}" = 9p ]; then modprobe 9pnet_fd; modprobe 9p; else modprobe nfsv3; fi
head -c 1048576 /dev/urandom >/tmp/one-mib
head -c $((SEQ_MIB * 1048576)) /dev/urandom >/tmp/seq
status=0
for spec in "$@"; do
    IFS=: read -r LABEL NFSPORT MOUNTPORT EXPORT <<<"$spec"
    MOUNT=/mnt/$LABEL
    mkdir -p "$MOUNT"
    if ! mount_server "$NFSPORT" "$MOUNTPORT" "$EXPORT" "$MOUNT"; then
        echo "# $LABEL: mount failed" >&2
        status=1
        continue
    fi
    (cd "$MOUNT" && bench_server) || status=1
    umount "$MOUNT" || status=1
done
exit "$status"
