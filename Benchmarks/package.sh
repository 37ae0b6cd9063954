#!/bin/sh
# Benchmark (not a test): the package's budgets (issue 36) measured on a release build: the .deb's
# size (at most 15 MB), the installed size (at most 40 MB), and the start-up instructions of the
# packaged binaries (stripped, their own runtime in lib/inject/swift) beside the build tree's
# (callgrind, whole process; for `run` the working process of the two, see Benchmarks/startup.sh).
#
#   Benchmarks/package.sh
set -eu
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not installed: apt-get install valgrind" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release >/dev/null
Scripts/package.sh --build-dir .build/release --output "$work/dist" >"$work/package.txt"
deb=$(ls "$work"/dist/*.deb)
mkdir -p "$work/prefix" "$work/tree"
tar -C "$work/prefix" -xzf "$work"/dist/*.tar.gz
release=$(dirname "$(readlink -f .build/release/inject)")
cp "$release/inject" "$release"/libInject*.so "$work/tree/"
strip "$work"/tree/inject "$work"/tree/libInject*.so  # valgrind 3.19 cannot read swiftc's DWARF 5
export INJECT_JOURNAL=off
instructions() { # the working process's total, second of two runs
    rm -f "$work"/cg.*
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$@" >/dev/null 2>&1 || true
    rm -f "$work"/cg.*
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$@" >/dev/null 2>&1 || true
    awk '/^summary:/ {if ($2 > most) most = $2} END {print most}' "$work"/cg.*
}
ratio() { python3 -c "import sys; print(f'{int(sys.argv[1]) / int(sys.argv[2]):.3f}')" "$1" "$2"; }
run="run mce cpu=0 bank=1 --dry-run --root /nonexistent"
INJECT_REGISTRY="$work/tree.cache" "$work/tree/inject" list >/dev/null
INJECT_REGISTRY="$work/package.cache" "$work/prefix/usr/bin/inject" list >/dev/null
tree_list=$(INJECT_REGISTRY="$work/tree.cache" instructions "$work/tree/inject" list)
package_list=$(INJECT_REGISTRY="$work/package.cache" instructions "$work/prefix/usr/bin/inject" list)
# shellcheck disable=SC2086
tree_run=$(INJECT_REGISTRY="$work/tree.cache" instructions "$work/tree/inject" $run)
# shellcheck disable=SC2086
package_run=$(INJECT_REGISTRY="$work/package.cache" instructions "$work/prefix/usr/bin/inject" $run)
mkdir -p bench-results
{
    echo "package benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
    echo ".deb:            $(stat -c %s "$deb" | awk '{printf "%.1f MB", $1 / 1e6}') (budget 15 MB)"
    echo "installed size:  $(sed -n 's/^installed size: \([0-9]*\) KiB/\1/p' "$work/package.txt" | awk '{printf "%.1f MB", $1 * 1024 / 1e6}') (budget 40 MB)"
    sed -n 's/^Depends: /Depends:         /p' "$work/package.txt"
    echo "inject list:     packaged $tree_list -> $package_list instructions, ratio $(ratio "$package_list" "$tree_list") (budget 1.03)"
    echo "inject $run: packaged $tree_run -> $package_run, ratio $(ratio "$package_run" "$tree_run") (budget 1.03)"
} | tee bench-results/package.txt
