#!/usr/bin/env bash
# Runs the test files given, or every test/**/*.test.ts (node 20's --test has no glob support).
# One file at a time: protocol tests boot a QEMU guest each and the machine has 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
