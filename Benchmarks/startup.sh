#!/bin/sh
# Benchmark (not a test): what `inject` costs at start-up beyond the CLI library it chose. Counts
# the instructions (callgrind, whole process) of, in the same run:
#   - `inject list` and `inject run mce cpu=0 bank=1 --dry-run` (4 plugins, registry cache warm);
#   - the same two command lines given to `cli-floor`, the same command tree in
#     swift-argument-parser with nothing behind it (Benchmarks/CLIFloor);
#   - `empty-swift` (a Swift executable that does nothing) and python3 -c pass;
# and says where inject's remaining instructions go (callgrind's top objects).
#
#   Benchmarks/startup.sh
set -eu
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
command -v valgrind >/dev/null || { echo "valgrind not installed: apt-get install valgrind" >&2; exit 1; }
release=$(dirname "$(readlink -f .build/release/inject)")

# Valgrind 3.19 cannot read the DWARF 5 that swiftc emits, so callgrind runs stripped copies.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$release/inject" "$release/cli-floor" "$release/empty-swift" "$release"/libInject*.so "$work/"
strip "$work"/inject "$work"/cli-floor "$work"/empty-swift "$work"/libInject*.so
export INJECT_REGISTRY="$work/registry.json" INJECT_JOURNAL=off
python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')

instructions() { # callgrind's total for one run of "$@" (run twice: the first warms the cache).
    # `run` forks a witness for plugin calls (PluginCallWitness): each process's profile holds
    # everything before the fork, so the total is the working process's (the larger); the
    # witness's own part after the fork is a wait, noted in $work/witness.
    rm -f "$work"/callgrind.out.*
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" "$@" >/dev/null 2>&1 || true
    rm -f "$work"/callgrind.out.*
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" "$@" >/dev/null 2>"$work/log" || { tail -3 "$work/log" >&2; echo 0; return; }
    awk '/^summary:/ {if ($2 > most) most = $2} END {print most}' "$work"/callgrind.out.*
}
ratio() { python3 -c "import sys; print(f'{int(sys.argv[1]) / int(sys.argv[2]):.3f}')" "$1" "$2"; }
millions() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.2f} M')" "$1"; }

run="run mce cpu=0 bank=1 --dry-run --root /nonexistent"
"$work/inject" list >/dev/null
list_inject=$(instructions "$work/inject" list)
list_floor=$(instructions "$work/cli-floor" list)
run_inject=$(instructions "$work/inject" $run)
run_floor=$(instructions "$work/cli-floor" $run)
empty=$(instructions "$work/empty-swift")
py=$(instructions "$python" -c pass)

mkdir -p bench-results
{
    echo "start-up benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores (instructions, callgrind)"
    echo "inject list:                 $(millions "$list_inject")   cli-floor list: $(millions "$list_floor")   ratio $(ratio "$list_inject" "$list_floor") (aim 1.05)"
    echo "inject $run: $(millions "$run_inject")   cli-floor: $(millions "$run_floor")   ratio $(ratio "$run_inject" "$run_floor") (aim 1.10)"
    echo "empty Swift executable:      $(millions "$empty")"
    echo "python3 -c pass:             $(millions "$py")  ($python)"
    echo "where inject's '$run' goes (callgrind, by object):"
    valgrind --tool=callgrind --callgrind-out-file="$work/where.out.%p" "$work/inject" $run >/dev/null 2>&1 || true
    # the process that did the work (the other is the witness, waiting)
    where=$(awk '/^summary:/ && $2 > most {most = $2; file = FILENAME} END {print file}' "$work"/where.out.*)
    callgrind_annotate --threshold=100 "$where" 2>/dev/null | python3 -c '
import re, sys, collections
total = collections.Counter()
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S+ \[(.+)\]\s*$", line)
    if m: total[m.group(2).rsplit("/", 1)[-1]] += int(m.group(1).replace(",", ""))
for name, count in total.most_common(8): print(f"  {count / 1e6:8.2f} M  {name}")'
} | tee bench-results/startup.txt
