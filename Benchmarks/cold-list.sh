#!/bin/sh
# Benchmark (not a test): start-up cost of `inject list` with the four shipped plugins, release
# build, beside `python3 -c pass` and a C program that dlopens the same plugins (the floor),
# measured in the same run; then how `inject list` grows with 1, 10 and 100 plugins.
#
#   Benchmarks/cold-list.sh [RUNS]
#
# Reports wall time per process (median and minimum of RUNS fresh processes, page cache warm) and
# instructions counted by callgrind (whole process, including the dynamic loader and every
# dlopen-ed plugin). Results are also written to bench-results/cold-list.txt.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-50}
swift build -c release >/dev/null
inject=.build/release/inject
plugins=$(dirname "$(readlink -f "$inject")")
[ "$("$inject" list --json --plugin-path "$plugins" | grep -c '"path"')" -ge 4 ] || { echo "fewer than four plugins load" >&2; exit 1; }

wall() { # median and minimum milliseconds of $runs runs of "$@"
    python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, argv = int(sys.argv[1]), sys.argv[2:]
samples = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    samples.append((time.perf_counter() - start) * 1000)
print(f"median {statistics.median(samples):.2f} ms, min {min(samples):.2f} ms")
PY
}

instructions() { # callgrind's total instruction count for one run of "$@"
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$out.log" ||
        { tail -3 "$out.log" >&2; rm -f "$out" "$out.log"; echo "valgrind failed"; return; }
    awk '/^(summary|totals):/ {print $2; exit}' "$out"
    rm -f "$out" "$out.log"
}

# Valgrind 3.19 cannot read the DWARF 5 that swiftc emits ("Possibly corrupted debuginfo file"),
# so callgrind runs stripped copies; the code executed is identical.
stripped=$(mktemp -d)
trap 'rm -rf "$stripped"' EXIT
cp "$plugins/inject" "$plugins"/libInject*.so "$stripped/"
strip "$stripped"/*
cc -O2 -o "$stripped/dlopen-plugins" Benchmarks/dlopen-plugins.c
# The real interpreter, not a pyenv shim script.
python=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')

mkdir -p bench-results
{
    echo "cold-list benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $runs runs"
    echo "inject list (4 plugins):  $(wall "$inject" list)"
    echo "C dlopen of the 4 plugins: $(wall "$stripped/dlopen-plugins" "$plugins"/libInject*.so)"
    echo "python3 -c pass:          $(wall "$python" -c pass)  ($python)"
    [ -x /usr/bin/python3 ] && echo "/usr/bin/python3 -c pass: $(wall /usr/bin/python3 -c pass)"
    if command -v valgrind >/dev/null; then
        echo "inject list instructions: $(instructions "$stripped/inject" list)"
        echo "C dlopen instructions:    $(instructions "$stripped/dlopen-plugins" "$stripped"/libInject*.so)"
        echo "python3 -c pass instr.:   $(instructions "$python" -c pass)"
        [ -x /usr/bin/python3 ] && echo "/usr/bin/python3 instr.:  $(instructions /usr/bin/python3 -c pass)"
    else
        echo "valgrind not installed: apt-get install valgrind"
    fi
} | tee bench-results/cold-list.txt

# Plugin scale: a copy of inject alone in a directory (so only the given plugins load), with 1, 10
# and 100 C plugins (the loader-test fixture under different names) on --plugin-path.
scale=$(mktemp -d)
trap 'rm -rf "$stripped" "$scale"' EXIT
cp "$inject" "$scale/inject"
{
    for count in 1 10 100; do
        mkdir -p "$scale/p$count"
        i=0
        while [ $i -lt $count ]; do
            cc -shared -fPIC -I Sources/InjectPluginABI/include -DFIXTURE_NAME="\"scale$i\"" -o "$scale/p$count/libscale$i.so" Tests/Fixtures/plugins/fixture.c
            i=$((i + 1))
        done
        echo "inject list, $count C plugin(s): $(wall "$scale/inject" list --plugin-path "$scale/p$count")"
    done
} | tee -a bench-results/cold-list.txt
