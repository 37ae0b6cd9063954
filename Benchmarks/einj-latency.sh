#!/bin/sh
# Benchmark (not a test): EINJ in the lab, from the write to error_inject to the guest kernel's
# report of the record the lab's firmware made. Every time is read on the guest kernel's own log
# clock, with shell built-ins only (no process is started between the marks): a marker written to
# /dev/kmsg just before error_inject, one just after it returned (the write: EXECUTE, the
# firmware's busy loop, the trigger), and the report's first line ("Hardware error from APEI
# Generic Hardware Error Source"). Memory-correctable records, 2.6 s apart (the kernel prints 2
# corrected records per 5 s).
#
#   Benchmarks/einj-latency.sh [SAMPLES]     (20 by default)
#
# Needs root and the lab's packages. Results also go to bench-results/einj-latency.txt.
set -eu
cd "$(dirname "$0")/.."
samples=${1:-20}
swift build -c release >/dev/null
inject=.build/release/inject
lab=bench-einj-$$
export INJECT_JOURNAL=off
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true' EXIT
"$inject" lab up -n "$lab" >/dev/null
mkdir -p bench-results
# One guest shell runs every sample: a marker, the injection (timed), then a wait for the report.
script='
cd /sys/kernel/debug/apei/einj
i=0
while [ $i -lt '"$samples"' ]; do
    address=$(printf "0x%x" $(( 0x3000000 + i * 0x1000 )))
    echo 0x8 > error_type; echo 0x2 > flags; echo $address > param1; echo 0xfffffffffffff000 > param2; echo 0 > notrigger
    echo "einj-bench $i" > /dev/kmsg; echo 1 > error_inject; echo "einj-done $i" > /dev/kmsg
    n=0; while ! dmesg | grep -q "physical_address: 0x0000000$(printf %09x $(( 0x3000000 + i * 0x1000 )))" && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
    sleep 2.6
    i=$((i+1))
done
dmesg
'
"$inject" lab exec -n "$lab" -- "$script" > bench-results/einj-raw.txt
python3 - "$samples" <<'PY' | tee bench-results/einj-latency.txt
import re, statistics, sys
samples = int(sys.argv[1])
text = open("bench-results/einj-raw.txt").read()
marks, done, reports, latencies = {}, {}, [], []
for m in re.finditer(r"^\[\s*([\d.]+)\] (.*)$", text, re.M):
    stamp, line = float(m.group(1)), m.group(2)
    mark = re.search(r"einj-(bench|done) (\d+)", line)
    if mark: (marks if mark.group(1) == "bench" else done)[int(mark.group(2))] = stamp
    elif "Hardware error from APEI Generic Hardware Error Source" in line: reports.append(stamp)
writes = [(done[i] - marks[i]) * 1e6 for i in marks if i in done]
for index, stamp in sorted(marks.items()):
    later = [r for r in reports if r >= stamp]
    if later: latencies.append((later[0] - stamp) * 1000)
print(f"EINJ in the lab: {len(latencies)} of {samples} memory-correctable injections reported")
print(f"write to error_inject (EXECUTE, busy poll, trigger): median {statistics.median(writes) / 1000:.1f} ms, max {max(writes) / 1000:.1f} ms")
print("  (the polled source is read every 100 ms; the emulator polls its doorbell every 1 ms)")
print(f"marker to the kernel's report (guest log clock): median {statistics.median(latencies):.0f} ms, min {min(latencies):.0f} ms, max {max(latencies):.0f} ms")
PY
