#!/bin/sh
# Benchmark (not a test): a corrected-MCE storm through mce-inject's files, written into a tmpfs
# `--root` tree, by `inject run mce count=N` (release; journal off, and journal on in the same
# tmpfs) beside two C loops doing the same writes (Benchmarks/mce-storm-loop.c): the naive one that
# opens each file for each write, and the limit, which holds the three files open and rewrites them
# (3 system calls per injection), alternating in one run; then the loops alone (a run of 10 x N
# minus a run of N, so each process's start-up cancels out); then the system calls per injection
# of each, counted by strace -c.
#
#   Benchmarks/mce-storm.sh [INJECTIONS] [ROUNDS]
#
# Results are also written to bench-results/mce-storm.txt.
set -eu
cd "$(dirname "$0")/.."
count=${1:-100000}
rounds=${2:-5}
swift build -c release >/dev/null
inject=.build/release/inject
work=$(mktemp -d /dev/shm/inject-storm-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/loop" Benchmarks/mce-storm-loop.c
root="$work/root"
mkdir -p "$root/sys/kernel/debug/mce-inject"
for f in flags cpu status misc addr synd ipid bank; do : >"$root/sys/kernel/debug/mce-inject/$f"; done
storm="mce count=$count interval=0 bank=1 addr=0x1234000 severity=corrected"

# All must leave the same files behind.
"$work/loop" "$root" 2 held && held_files=$(cd "$root" && grep -r . | sort)
"$work/loop" "$root" 2 && c_files=$(cd "$root" && grep -r . | sort)
[ "$c_files" = "$held_files" ] || { echo "the two C loops leave different files" >&2; exit 1; }
# shellcheck disable=SC2086
"$inject" run $storm --root "$root" >/dev/null && i_files=$(cd "$root" && grep -r . | sort)
[ "$c_files" = "$i_files" ] || { echo "inject and the C loop leave different files" >&2; exit 1; }

python3 - "$rounds" "$count" "$inject" "$root" "$work/loop" "$storm" "$work/journal.jsonl" <<'PY' | tee "$work/rates"
import os, subprocess, sys, time, statistics
rounds, count, inject, root, loop, storm, journal = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
def seconds(argv, journal_value="off"):
    env = dict(os.environ, INJECT_JOURNAL=journal_value)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start
def rate(argv, journal_value="off"):
    return count / seconds(argv, journal_value)
def marginal(argv):
    # The loop alone: the rate of the extra 9 x count injections of a 10 x count run, so the
    # process's start-up (Benchmarks/startup.sh measures it) cancels out.
    longer = [word.replace(f"count={count}", f"count={10 * count}") for word in argv]
    if longer == argv:
        longer = argv[:2] + [str(10 * count)] + argv[3:]
    return 9 * count / (seconds(longer) - seconds(argv))
inject_argv = [inject, "run", *storm.split(), "--root", root]
c, held, off, on, held_loop, inject_loop = [], [], [], [], [], []
for _ in range(rounds):
    c.append(rate([loop, root, str(count)]))
    held.append(rate([loop, root, str(count), "held"]))
    off.append(rate(inject_argv))
    on.append(rate(inject_argv, journal))
    held_loop.append(marginal([loop, root, str(count), "held"]))
    inject_loop.append(marginal(inject_argv))
cm, hm, offm, onm, hlm, ilm = (statistics.median(x) for x in (c, held, off, on, held_loop, inject_loop))
print(f"C loop, naive (reopens):     {cm:9.0f} injections/s (median of {rounds})")
print(f"C loop, files held (limit):  {hm:9.0f} injections/s")
print(f"inject run mce, journal off: {offm:9.0f} injections/s, ratio to the limit {offm / hm:.2f} (to the naive loop {offm / cm:.2f})")
print(f"inject run mce, journal on:  {onm:9.0f} injections/s, ratio to the limit {onm / hm:.2f}")
print(f"the loops alone (10 x count minus count, start-up cancelled): C held {hlm:9.0f}/s, inject {ilm:9.0f}/s, ratio {ilm / hlm:.2f}")
PY

syscalls() { # total system calls per injection of "$@", and the count of each frequent one
    strace -f -c -o "$work/strace" "$@" >/dev/null
    awk -v n="$count" '$NF != "total" && $4 ~ /^[0-9]+$/ { total += $4; if ($4 >= n / 10) each = each sprintf(" %s %.2f", $NF, $4 / n) }
        END { printf "%.2f per injection (%s )\n", total / n, each }' "$work/strace"
}
{
    echo "mce storm benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $count injections, tmpfs root"
    cat "$work/rates"
    if command -v strace >/dev/null; then
        echo "syscalls, minimum: 3.00 per injection (a write each of status, addr, bank on files held open)"
        # shellcheck disable=SC2086
        echo "syscalls, inject:  $(INJECT_JOURNAL=off syscalls "$inject" run $storm --root "$root")"
        echo "syscalls, C loop, naive: $(syscalls "$work/loop" "$root" "$count")"
        echo "syscalls, C loop, held:  $(syscalls "$work/loop" "$root" "$count" held)"
    else
        echo "strace not installed: apt-get install strace"
    fi
} | tee "$work/report"
mkdir -p bench-results
cp "$work/report" bench-results/mce-storm.txt
