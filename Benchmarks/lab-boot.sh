#!/bin/sh
# Benchmark (not a test): lab boot time per guest kernel, from `inject lab up` to a guest whose agent
# answers, with the kernel already in the cache (a first boot also downloads and, for 6.12, builds
# ghes_edac once; that run is reported separately and not counted).
#
#   Benchmarks/lab-boot.sh [SAMPLES] [KERNELS]      # KERNELS: comma-separated --kernel specs
#
# Needs root (or a user who may run QEMU). Results also go to bench-results/lab-boot.txt.
set -eu
cd "$(dirname "$0")/.."
samples=${1:-3}
kernels=${2:-bookworm-backports,stock}
swift build -c release >/dev/null
inject=.build/release/inject
lab=bench-boot-$$
export INJECT_JOURNAL=off
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true' EXIT
mkdir -p bench-results
python3 - "$inject" "$lab" "$samples" "$kernels" <<'PY' | tee bench-results/lab-boot.txt
import json, subprocess, sys, time, statistics
inject, lab, samples, kernels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
print(f"lab boot benchmark, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {samples} samples per kernel")
for kernel in kernels:
    # The first boot fills the cache (download, unpack, ghes_edac build) and is not counted.
    first = time.perf_counter()
    up = subprocess.run([inject, "lab", "up", "-n", lab, "--kernel", kernel, "--json"], capture_output=True, text=True)
    first = time.perf_counter() - first
    subprocess.run([inject, "lab", "down", "-n", lab], capture_output=True)
    if up.returncode != 0:
        print(f"{kernel}: lab up failed: {up.stderr.strip().splitlines()[-1] if up.stderr.strip() else up.returncode}")
        continue
    record = json.loads(up.stdout)
    boots, walls = [], []
    for _ in range(samples):
        start = time.perf_counter()
        up = subprocess.run([inject, "lab", "up", "-n", lab, "--kernel", kernel, "--json"], capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - start)
        boots.append(json.loads(up.stdout)["bootSeconds"])
        subprocess.run([inject, "lab", "down", "-n", lab], capture_output=True, check=True)
    print(f"{kernel} ({record['kernel']}; {record.get('edac', '')[:60]}): lab up median {statistics.median(boots):.2f} s "
          f"(min {min(boots):.2f}, max {max(boots):.2f}; command {statistics.median(walls):.2f} s); first run {first:.1f} s")
PY
