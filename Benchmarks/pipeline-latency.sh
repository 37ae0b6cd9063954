#!/bin/sh
# Benchmark (not a test): each stage of a corrected DIMM error's way through the stack, from the
# end of the injection to the kernel's trace event, its log line, the EDAC counter, rasdaemon's
# row and node_exporter's metric: median of N (default 20) `inject run edac --verify` in a lab
# with both consumers (the pipeline `--verify` prints). Runs are spaced and rotate over the four
# DIMMs, below the kernel's rate limit of corrected GHES records in its log (2 per 5 s, repeats
# dropped within 10 s). Each look is one round trip to the guest agent (about 90 ms under TCG);
# a scrape of the exporter is one more command in the guest.
#
#   Benchmarks/pipeline-latency.sh [N] [KERNEL]
#
# Needs root (or a user who may run QEMU) and the package (Scripts/package.sh makes it).
# Results also go to bench-results/pipeline-latency.txt.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-20}
kernel=${2:-bookworm-backports}
Scripts/package.sh >/dev/null
inject=.build/release/inject
lab=bench-pipeline-$$
export INJECT_JOURNAL=off
"$inject" lab up -n "$lab" --kernel "$kernel" --with rasdaemon --with node_exporter >/dev/null
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true' EXIT
out=$(mktemp)
i=0
for dimm in $(python3 -c "print(' '.join(['DIMM_A1','DIMM_A2','DIMM_B1','DIMM_B2'][i % 4] for i in range($runs)))"); do
    "$inject" run edac dimm="$dimm" --verify --json --lab "$lab" >> "$out" || true
    echo >> "$out"
    sleep 2.6
    i=$((i + 1))
done
mkdir -p bench-results
python3 - "$out" "$runs" "$kernel" <<'PY' | tee bench-results/pipeline-latency.txt
import json, statistics, sys, time
sys.path.insert(0, "Benchmarks")
import json_reports
reports = json_reports.read(sys.argv[1])
print(f"pipeline latency, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, kernel {sys.argv[3]}, "
      f"{len(reports)} of {sys.argv[2]} runs of `inject run edac dimm=... --verify` (release), rasdaemon and node_exporter running")
stages = {}
order = []
for report in reports:
    for stage in (report.get("pipeline") or {}).get("stages", []):
        if stage["name"] not in stages: order.append(stage["name"])
        entry = stages.setdefault(stage["name"], {"latency": [], "passed": 0, "runs": 0})
        entry["runs"] += 1
        if stage["seen"] == stage["expected"]:
            entry["passed"] += 1
            if stage.get("latencyMilliseconds") is not None: entry["latency"].append(stage["latencyMilliseconds"])
for name in order:
    entry = stages[name]
    values = entry["latency"]
    figures = (f"median {statistics.median(values):.0f} ms (min {min(values)}, max {max(values)})" if values else "no latency")
    print(f"  {name:14s} seen in {entry['passed']:2d} of {entry['runs']:2d} runs; {figures}")
PY
rm -f "$out"
