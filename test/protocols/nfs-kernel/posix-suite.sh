#!/bin/bash
# POSIX behaviour suite for `zerofs serve`, run as root inside the kclient guest by
# test/protocols/nfs-kernel.test.ts (NFSv3) and test/protocols/p9-kernel.test.ts (9P2000.L, with
# PROTO=9p in the environment). Each argument names one server to mount from the host:
#
#   posix-suite.sh LABEL:PORT:LONGNAMES...     e.g.  file:40123:1 s3:40125:0
#
# PROTO=nfs (default) or 9p chooses the mount.
# LONGNAMES=1 adds the 255/256-byte name checks (s3rver exits on key components over ~240 bytes).
# Each check prints "ok LABEL NAME" or "not ok LABEL NAME" followed by "#"-prefixed details.
# Each check works in its own MOUNT/work/NAME (all removed at the end); MOUNT/keep is left for the host to inspect
# through the S3 API afterwards. Exit status: the number of failed checks.
set -u
PROTO=${PROTO:-nfs}
TREE=/usr/lib/python3.11/email   # a real tree of files and directories (and what the host compares keep/tree with)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

same_tree() {  # DIR1 DIR2: same files, bytes, permission bits, and mtimes of files and directories (whole seconds)
    diff -r "$1" "$2"
    diff <(cd "$1" && find . -printf '%p %y %m %T@\n' | sed -e 's/\.[0-9]*$//' | sort) \
         <(cd "$2" && find . -printf '%p %y %m %T@\n' | sed -e 's/\.[0-9]*$//' | sort)
}

t_read_write() {
    echo hello >f
    [ "$(cat f)" = hello ]
    printf ' world' >>f
    same "$(cat f)" "$(printf 'hello\n world')"
    echo bye >f
    [ "$(cat f)" = bye ]
    printf 'XY' | dd of=f bs=1 seek=1 conv=notrunc status=none
    [ "$(cat f)" = bXY ]
    head -c 3000000 < <(yes zerofs) >/tmp/big
    cp /tmp/big big
    cmp /tmp/big big
    # writing on through one descriptor after an fsync: the second part is staged on top of the
    # object the first part became
    "$PY" - <<'EOF'
import os, time
data = os.urandom(3 << 20)
with open('/tmp/paused', 'wb') as f:
    f.write(data)
fd = os.open('paused', os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, data[:1 << 20])
os.fsync(fd)
time.sleep(1.5)
os.write(fd, data[1 << 20:])
os.fsync(fd)
os.close(fd)
EOF
    cmp /tmp/paused paused
    dd if=/dev/zero of=sparse bs=1 count=1 seek=100000 status=none
    [ "$(stat -c %s sparse)" = 100001 ]
    drop_caches
    [ "$(cat f)" = bXY ]
    cmp /tmp/big big
    cmp /tmp/paused paused
    cmp <(head -c 100001 /dev/zero) sparse
}

t_truncate() {
    printf abcdef >t
    truncate -s 3 t
    [ "$(cat t)" = abc ]
    truncate -s 10 t
    [ "$(stat -c %s t)" = 10 ]
    cmp <(printf 'abc\0\0\0\0\0\0\0') t
    head -c 2000000 < <(yes) >t2
    truncate -s 1000 t2
    drop_caches
    [ "$(stat -c %s t2)" = 1000 ]
    cmp <(head -c 1000 < <(yes)) t2
    truncate -s 0 t
    [ ! -s t ]
}

t_rename() {
    echo a >r1
    mv r1 r2
    [ ! -e r1 ]
    [ "$(cat r2)" = a ]
    echo b >r3
    mv r3 r2                               # over an existing file
    [ "$(cat r2)" = b ]
    [ ! -e r3 ]
    mkdir -p d1/sub && echo c >d1/sub/f
    mv d1 d2                               # a directory with contents
    [ "$(cat d2/sub/f)" = c ]
    [ ! -e d1 ]
    mkdir d3
    mv r2 d3/                              # across directories
    [ -f d3/r2 ]
    mkdir empty
    "$PY" -c "import os; os.rename('d2', 'empty')"   # over an empty directory
    [ "$(cat empty/sub/f)" = c ]
    [ ! -e d2 ]
    mkdir full && touch full/x
    expect_errno ENOTEMPTY "os.rename('empty', 'full')"
    expect_errno ENOTDIR "os.rename('full', 'd3/r2')"
    expect_errno EISDIR "os.rename('d3/r2', 'full')"
    drop_caches
    [ "$(cat empty/sub/f)" = c ]
    [ "$(cat d3/r2)" = b ]
    [ -e full/x ]
}

t_unlink_open() {
    PROTO=$PROTO "$PY" - <<'EOF'
import os
nfs = os.environ['PROTO'] == 'nfs'
fd = os.open('open-unlinked', os.O_CREAT | os.O_RDWR, 0o644)
os.write(fd, b'still here')
os.fsync(fd)
os.unlink('open-unlinked')
assert not os.path.exists('open-unlinked')
hidden = [n for n in os.listdir('.') if n.startswith('.nfs')]
# NFS: the client silly-renames an open file it unlinks; 9P: the server keeps it, nameless.
assert hidden if nfs else os.listdir('.') == [], os.listdir('.')
os.lseek(fd, 0, 0)
assert os.read(fd, 100) == b'still here'
os.write(fd, b' and more')
os.fsync(fd)
os.lseek(fd, 0, 0)
assert os.read(fd, 100) == b'still here and more'
os.close(fd)

# Renaming over an open file: the descriptor keeps the old contents, the name shows the new.
fd = os.open('replaced', os.O_CREAT | os.O_RDWR, 0o644)
os.write(fd, b'old')
os.fsync(fd)
with open('newer', 'w') as f:
    f.write('new')
os.rename('newer', 'replaced')
with open('replaced') as f:
    assert f.read() == 'new'
os.lseek(fd, 0, 0)
assert os.read(fd, 100) == b'old'
os.close(fd)
EOF
    [ "$(cat replaced)" = new ]
    # NFS: the client removes the .nfsXXXX files once the last descriptor is closed
    for _ in $(seq 100); do ls -A | grep -q '^\.nfs' || break; sleep 0.1; done
    absent grep '^\.nfs' <(ls -A)
}

t_attributes() {
    echo x >a
    chmod 0640 a
    [ "$(stat -c %a a)" = 640 ]
    chown 1234:5678 a
    [ "$(stat -c %u:%g a)" = 1234:5678 ]
    touch -m -d @1600000000 a
    [ "$(stat -c %Y a)" = 1600000000 ]
    touch -a -d @1500000000 a
    [ "$(stat -c %X a)" = 1500000000 ]
    "$PY" -c "import os; os.utime('a', ns=(1_400_000_000_000_000_000, 1_400_000_000_250_000_000))"
    [ "$(stat -c %Y a)" = 1400000000 ]
    mkdir ad
    chmod 0700 ad
    [ "$(stat -c %a ad)" = 700 ]
    drop_caches
    [ "$(stat -c '%a %u:%g %Y' a)" = "640 1234:5678 1400000000" ]
    [ "$(stat -c %a ad)" = 700 ]
}

t_symlinks() {
    echo target >tgt
    ln -s tgt l1
    [ "$(readlink l1)" = tgt ]
    [ "$(cat l1)" = target ]
    ln -s /nonexistent/abs l2
    [ -L l2 ]
    [ ! -e l2 ]
    [ "$(readlink l2)" = /nonexistent/abs ]
    mkdir sd
    ln -s ../tgt sd/up
    [ "$(cat sd/up)" = target ]
    rm l1
    [ -e tgt ]
    drop_caches
    [ "$(readlink l2)" = /nonexistent/abs ]
    [ "$(stat -c %F sd/up)" = "symbolic link" ]
}

t_directories() {
    mkdir -p a/b/c
    [ -d a/b/c ]
    touch a/b/c/f
    expect_errno ENOTEMPTY "os.rmdir('a/b/c')"
    expect_errno EEXIST "os.mkdir('a')"
    expect_errno ENOENT "os.rmdir('nothing')"
    expect_errno ENOTDIR "os.rmdir('a/b/c/f')"
    rm a/b/c/f
    rmdir a/b/c a/b a
    [ ! -e a ]
    mkdir 'héllo wörld ☃'
    echo utf8 >'héllo wörld ☃/fïle'
    drop_caches
    [ "$(cat 'héllo wörld ☃/fïle')" = utf8 ]
    rm -r 'héllo wörld ☃'
}

t_exclusive_create() {
    "$PY" - <<'EOF'
import os, time
fd = os.open('excl', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
os.write(fd, b'first')
os.close(fd)
try:
    os.open('excl', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    raise SystemExit('a second O_EXCL create succeeded')
except FileExistsError:
    pass
st = os.stat('excl')
assert st.st_mode & 0o7777 == 0o600, oct(st.st_mode)
assert abs(st.st_mtime - time.time()) < 3600, f'mtime {st.st_mtime} still holds the create verifier'
assert open('excl', 'rb').read() == b'first'
EOF
}

t_long_names() {
    local n255 n256
    n255=$(printf 'x%.0s' $(seq 255))
    n256=${n255}y
    echo long >"$n255"
    [ "$(cat "$n255")" = long ]
    ls | grep -qx "$n255"
    local d255=d${n255:1}
    mkdir "$d255"
    expect_errno ENAMETOOLONG "open('$n256', 'w')"
    expect_errno ENAMETOOLONG "os.mkdir('$n256')"
    drop_caches
    [ "$(cat "$n255")" = long ]
    [ -d "$d255" ]
    rm "$n255"
    rmdir "$d255"
}

t_thousand_entries() {
    mkdir big
    (cd big && for i in $(seq 1000); do : >"f$i"; done)
    [ "$(ls big | wc -l)" = 1000 ]
    [ "$(ls -l big | grep -c '^-')" = 1000 ]
    drop_caches
    [ "$(find big -type f | wc -l)" = 1000 ]
    # sed reads to the end: head would exit early and sort, killed by SIGPIPE, fail the pipeline
    same "$(ls -f big | LC_ALL=C sort | sed -n 1,3p | tr '\n' ' ')" ". .. f1 "
    rm -r big
    [ ! -e big ]
}

t_copy_trees() {
    cp -a "$SRC" cpa
    same_tree "$SRC" cpa
    mkdir tarx
    tar -C "$(dirname "$SRC")" -cf /tmp/tree.tar "$(basename "$SRC")"
    tar -C tarx -xf /tmp/tree.tar
    same_tree "$SRC" "tarx/$(basename "$SRC")"
    rsync -a "$SRC/" rs/
    same_tree "$SRC" rs
    # a second rsync finds nothing to update: sizes and mtimes of files and directories came back as set
    [ -z "$(rsync -ai "$SRC/" rs/)" ]
    drop_caches
    same_tree "$SRC" cpa
}

t_two_writers() {
    head -c 4000000 < <(yes one) >w1 &
    local first=$!
    head -c 4000000 < <(yes two) >w2 &
    local second=$!
    wait "$first"
    wait "$second"
    drop_caches
    cmp <(head -c 4000000 < <(yes one)) w1
    cmp <(head -c 4000000 < <(yes two)) w2
}

t_special_files() {
    mkfifo p
    [ -p p ]
    mknod c c 1 3
    [ "$(stat -c '%F %t %T' c)" = "character special file 1 3" ]
    drop_caches
    [ -p p ]
    [ -c c ]
    rm p c
}

t_reserved_hidden() {
    absent grep -x .zerofs <(ls -A "$MOUNT")
    [ ! -e "$MOUNT/.zerofs" ]
}

t_remove_work() {
    cd "$MOUNT"
    rm -rf "$WORK"
    [ ! -e "$WORK" ]
    [ "$(ls -A "$MOUNT")" = keep ]
}

keep_for_the_host() {  # what nfs-kernel.test.ts checks in the bucket afterwards
    mkdir "$MOUNT/keep"
    cd "$MOUNT/keep"
    printf 'hello bucket\n' >hello.txt
    chmod 0640 hello.txt
    chown 1234:5678 hello.txt
    touch -m -d @1600000000 hello.txt
    ln -s hello.txt link
    mkdir dir
    head -c 5242880 < <(yes zerofs) >big.bin
    mkfifo fifo
    cp -a "$SRC" tree
}

mount_server() {  # PORT MOUNT
    if [ "$PROTO" = 9p ]; then
        mount -t 9p -o trans=tcp,port="$1",version=9p2000.L,uname=root "$HOST" "$2"
    else
        mount -t nfs -o vers=3,proto=tcp,port="$1",mountport="$1",mountproto=tcp,nolock "$HOST:/" "$2"
    fi
}

guest_setup
cp -a "$TREE" /tmp/tree
SRC=/tmp/tree
for spec in "$@"; do
    IFS=: read -r LABEL PORT LONGNAMES <<<"$spec"
    MOUNT=/mnt/$LABEL
    WORK=$MOUNT/work
    mkdir -p "$MOUNT"
    if ! mount_server "$PORT" "$MOUNT"; then
        echo "not ok $LABEL mount"
        failures=$((failures + 1))
        continue
    fi
    echo "ok $LABEL mount"
    mkdir "$WORK"
    run read-write-append-overwrite t_read_write
    run truncate-up-and-down t_truncate
    run rename-cases t_rename
    run unlink-while-open t_unlink_open
    run chmod-chown-utimes t_attributes
    run symlinks t_symlinks
    run mkdir-rmdir-enotempty t_directories
    run o-excl t_exclusive_create
    [ "$LONGNAMES" = 1 ] && run names-255-and-256-bytes t_long_names
    run thousand-entry-directory t_thousand_entries
    run cp-a-tar-x-rsync-a t_copy_trees
    run two-writers-at-once t_two_writers
    run fifo-and-device-nodes t_special_files
    run reserved-dir-hidden t_reserved_hidden
    run keep-for-the-host keep_for_the_host
    run remove-the-work-tree t_remove_work
    cd /
    if umount "$MOUNT"; then echo "ok $LABEL umount"; else echo "not ok $LABEL umount"; failures=$((failures + 1)); fi
done
echo "suite finished with $failures failure(s)"
exit "$failures"
