# Helpers the guest scripts (posix-suite.sh, lifecycle.sh) share; sourced, not run. They expect
# $LABEL (printed with each check) and $WORK (where checks run); `failures` counts failed checks.
PY=/usr/bin/python3
failures=0

run() {  # NAME FUNCTION: runs FUNCTION in a subshell in $WORK with errexit; prints "ok/not ok LABEL NAME"
    local out start=$SECONDS
    if out=$( (set -euo pipefail; cd "$WORK"; "$2") 2>&1 ); then
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

drop_caches() {  # forget cached pages, dentries and attributes: the next access asks the server
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

guest_setup() {  # what every guest script needs first
    modprobe nfsv3
    [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd   # for <(...): the guest's /dev is minimal
}
