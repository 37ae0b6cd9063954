#!/bin/sh
# Benchmark (not a test): how long after the kernel's report rasdaemon's database holds the row,
# per event type, median of N (default 20), in a lab started with --with rasdaemon. The figure is
# what `--verify` measures: from the poll that saw the kernel's event to the first poll of
# rasdaemon's database that holds the row (each poll is one round trip to the guest agent, about
# 90 ms under TCG, so 0 means "already there at the first look").
#
#   Benchmarks/consumer-latency.sh [N]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-20}
swift build -c release >/dev/null
inject=.build/release/inject
lab=bench-consumer
"$inject" lab up -n "$lab" --with rasdaemon >/dev/null
trap '"$inject" lab down -n "$lab" >/dev/null' EXIT
out=$(mktemp)
i=0
while [ $i -lt "$runs" ]; do
    "$inject" run mce cpu=0 bank=$((i % 8 + 1)) --verify --json --lab "$lab" >> "$out"
    echo >> "$out"
    i=$((i + 1))
done
mkdir -p bench-results
python3 - "$out" "$runs" <<'PY' | tee bench-results/consumer-latency.txt
import json, statistics, sys, datetime
sys.path.insert(0, "Benchmarks")
import json_reports
reports = json_reports.read(sys.argv[1])
kernel = [f["latencyMilliseconds"] for r in reports for f in r.get("verification", []) if f["kind"] == "trace" and f["matched"]]
consumer = [f["latencyMilliseconds"] for r in reports for f in r.get("verification", []) if f["kind"] == "consumer" and f["matched"]]
missed = sum(1 for r in reports for f in r.get("verification", []) if f["kind"] == "consumer" and not f["matched"])
print(f"consumer latency benchmark, {datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}, {sys.argv[2]} corrected MCEs in the lab")
print(f"mce_record: kernel trace after the injection: median {statistics.median(kernel)} ms, max {max(kernel)} ms")
print(f"mce_record: rasdaemon row after the kernel's event: median {statistics.median(consumer)} ms, max {max(consumer)} ms; recorded {len(consumer)} of {len(consumer) + missed}")
PY
rm -f "$out"
