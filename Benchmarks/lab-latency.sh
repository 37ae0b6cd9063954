#!/bin/sh
# Benchmark (not a test): the lab's figures. Time from `inject lab up` to a ready guest; time from
# a GHES injection to the guest kernel's report, through the polled and the NMI-notified source
# (the latency --verify measures: from the end of the injection to the poll that saw the report);
# and what --verify adds to a run (an mce-inject injection with and without it).
#
#   Benchmarks/lab-latency.sh [SAMPLES]
#
# Needs root (or a user who may run QEMU) and the lab's packages. Results also go to
# bench-results/lab-latency.txt.
set -eu
cd "$(dirname "$0")/.."
samples=${1:-6}
swift build -c release >/dev/null
inject=.build/release/inject
lab=bench-$$
export INJECT_JOURNAL=off
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true' EXIT
up=$("$inject" lab up -n "$lab" --json)
mkdir -p bench-results
python3 - "$inject" "$lab" "$samples" "$up" <<'PY' | tee bench-results/lab-latency.txt
import json, subprocess, sys, time, statistics
inject, lab, samples, up = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
print(f"lab benchmark, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {samples} samples, guest {up['kernel']}, {up['cpus']} vCPU, {up['memoryMiB']} MiB")
print(f"lab up to a ready guest: {up['bootSeconds']:.2f} s, QEMU resident {up['residentKiB'] // 1024} MiB")

def run(args):
    start = time.perf_counter()
    out = subprocess.run([inject, "run", *args, "--lab", lab, "--json"], capture_output=True, text=True)
    return out, (time.perf_counter() - start) * 1000

for source, name in [(0, "polled (100 ms)"), (1, "NMI")]:
    latencies = []
    for i in range(samples):
        # Vary the record and space the runs: the kernel prints 2 corrected records per 5 s and
        # drops repeats within 10 s.
        out, _ = run(["ghes", f"source={source}", f"address={0x100000 + 0x1000 * (i + 16 * source)}", "--verify", "--verify-timeout", "5"])
        report = json.loads(out.stdout)
        seen = [f["latencyMilliseconds"] for f in report["verification"] if f["matched"] and f["expected"].startswith("Hardware error")]
        if seen: latencies.append(seen[0])
        time.sleep(2.6)
    if latencies:
        print(f"GHES {name}: injection to kernel report median {statistics.median(latencies):.0f} ms, max {max(latencies)} ms ({len(latencies)}/{samples} seen)")
    else:
        print(f"GHES {name}: no report seen in {samples} runs")

plain, verified = [], []
for i in range(samples):
    plain.append(run(["mce", "bank=1", "addr=0x1000"])[1])
    verified.append(run(["mce", "bank=1", "addr=0x1000", "--verify"])[1])
p, v = statistics.median(plain), statistics.median(verified)
print(f"mce-inject run in the lab: {p:.0f} ms plain, {v:.0f} ms with --verify (+{v - p:.0f} ms to arm the tracefs instance, read the log and trace, and clean up)")
PY
