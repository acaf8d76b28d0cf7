# Helpers the guest scripts (posix-suite.sh, lifecycle.sh) share; sourced, not run. They expect
# $LABEL (printed with each check) and $WORK (where checks run); `failures` counts failed checks.
# Checks run with errexit, so a check is a command that fails: `! cmd` never stops errexit, write
# `absent cmd...` (or a test with [ ]) instead.
PY=/usr/bin/python3
failures=0

run() {  # NAME FUNCTION: runs FUNCTION with errexit in a subshell, in a new directory $WORK/NAME; prints "ok/not ok LABEL NAME"
    local out status start=$SECONDS
    # Not in an `if` or `&&` list: bash ignores errexit in everything run from a condition, subshells included.
    out=$( (set -eEuo pipefail
            trap 'echo "failed: $BASH_COMMAND (line $LINENO)"' ERR
            mkdir -p "$WORK/$1"
            cd "$WORK/$1"
            "$2") 2>&1 )
    status=$?
    if [ "$status" = 0 ]; then
        echo "ok $LABEL $1 ($((SECONDS - start))s)"
    else
        echo "not ok $LABEL $1 ($((SECONDS - start))s)"
        printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
        failures=$((failures + 1))
    fi
}

expect_errno() {  # ERRNO PYTHON: the Python statement must fail with that errno (run through $RUN_AS, if set)
    ${RUN_AS:-} "$PY" - "$@" <<'PYTHON'
import errno, os, sys
want = getattr(errno, sys.argv[1])
try:
    exec(sys.argv[2])
except OSError as e:
    if e.errno == want:
        sys.exit(0)
    sys.exit(f"expected {sys.argv[1]} from {sys.argv[2]!r}, got {errno.errorcode.get(e.errno)}: {e}")
sys.exit(f"expected {sys.argv[1]} from {sys.argv[2]!r}, but it succeeded")
PYTHON
}

same() {  # ACTUAL EXPECTED: fails showing both when they differ
    [ "$1" = "$2" ] || { printf 'expected %q\n     got %q\n' "$2" "$1"; return 1; }
}

absent() {  # COMMAND...: succeeds when COMMAND fails (where `! COMMAND` would be ignored by errexit)
    if "$@"; then return 1; fi
}

drop_caches() {  # forget cached pages, dentries and attributes: the next access asks the server
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

guest_setup() {  # what every guest script needs first
    if [ "${PROTO:-nfs}" = 9p ]; then modprobe 9pnet_fd; modprobe 9p; else modprobe nfsv3; fi
    [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd   # for <(...): the guest's /dev is minimal
}
