#!/bin/sh
# Benchmark (not a test): verified campaigns in the lab. A campaign of corrected machine checks
# (mce-inject through debugfs, 7 writes each) runs in batches inside the guest; beside it, in the
# same run and the same guest, the limit: a C loop making the same 7 writes per injection with
# every file held open (Benchmarks/mce-storm-loop.c, campaign mode) and the 3-write loop (status,
# addr, bank). Each campaign reports the events the kernel recorded and what it lost (its MCE
# record pool full). Then GHES records through the polled and the NMI-notified source (not
# batchable: memory writes and a notification), limited by the kernel consuming each record.
#
#   Benchmarks/lab-campaign.sh [INJECTIONS]
#
# Needs root (or a user who may run QEMU) and the lab's packages. Results also go to
# bench-results/lab-campaign.txt.
set -eu
cd "$(dirname "$0")/.."
count=${1:-10000}
swift build -c release >/dev/null
inject=$PWD/.build/release/inject
lab=bench-$$
work=$(mktemp -d /tmp/inject-lab-campaign-XXXXXX)
export INJECT_JOURNAL=off
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cc -O2 -o "$work/loop" Benchmarks/mce-storm-loop.c
"$inject" lab up -n "$lab" >/dev/null
campaign() {  # NAME COUNT RATE-JSON BACKEND PARAMETERS
    printf '{"name": "%s", "seed": 5, "steps": [{"name": "%s", "backend": "%s", "count": %s%s, "parameters": %s}]}\n' \
        "$1" "$1" "$4" "$2" "$3" "$5" >"$work/$1.json"
    "$inject" campaign "$work/$1.json" --lab "$lab" --json 2>/dev/null || true
}
mce='{"severity": "corrected", "bank": "choice 1|2|3", "addr": "random 0x100000..0x10000000 align 0x1000"}'
mkdir -p bench-results
{
    echo "lab campaign benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $count corrected machine checks"
    for round in 1 2; do
        campaign "mce-fast" "$count" "" mce "$mce" >"$work/fast.json"
        campaign "mce-max" "$count" ', "rate": "max"' mce "$mce" >"$work/max.json"
        # The loops time themselves inside the guest (no agent round trip in the figure).
        c7=$("$inject" lab exec -n "$lab" -- "s=\$(date +%s.%N); $work/loop / $count campaign; e=\$(date +%s.%N); echo \$e \$s" | awk '{print $1 - $2}')
        c3=$("$inject" lab exec -n "$lab" -- "s=\$(date +%s.%N); $work/loop / $count held; e=\$(date +%s.%N); echo \$e \$s" | awk '{print $1 - $2}')
        python3 - "$count" "$work/fast.json" "$work/max.json" "$c7" "$c3" "$round" <<'PY'
import json, sys
count, fast, paced, c7, c3, round_ = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
def show(label, path):
    step = json.load(open(path))["steps"][0]
    rate = step["injected"] / step["seconds"]
    lost = step.get("kernelDropped")
    print(f"  round {round_} {label:<22} {rate:7.0f}/s  seen {step['seenEvents']}/{step['expectedEvents']}"
          + (f", the kernel lost {lost} ({step.get('dropReason')}) at {step.get('dropRate', 0):.0f}/s" if lost else "")
          + f"  ({step.get('batches')} batches, {step['seconds']:.1f} s)")
    return rate
r = show("campaign, no rate", fast)
show("campaign, rate=max", paced)
print(f"  round {round_} C loop, same 7 writes   {count / c7:7.0f}/s  (campaign at {r / (count / c7):.2f} of it)")
print(f"  round {round_} C loop, 3 writes        {count / c3:7.0f}/s")
PY
    done
    ghes='{"source": "0", "address": "random 0x100000..0x1000000 align 0x1000"}'
    nmi='{"source": "1", "address": "random 0x100000..0x1000000 align 0x1000"}'
    for source in polled nmi; do
        [ $source = polled ] && parameters=$ghes || parameters=$nmi
        campaign "ghes-$source" 40 "" ghes "$parameters" >"$work/ghes.json"
        python3 - "$source" "$work/ghes.json" <<'PY'
import json, sys
step = json.load(open(sys.argv[2]))["steps"][0]
print(f"  GHES records, {sys.argv[1]} source: {step['injected'] / step['seconds']:.1f}/s, seen {step['seenEvents']}/{step['expectedEvents']} ({step['seconds']:.1f} s)")
PY
    done
} | tee bench-results/lab-campaign.txt
