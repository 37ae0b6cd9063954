#!/bin/sh
# Benchmark (not a test): the lab's snapshots. Cold boot (`lab up --cold`, which also saves the
# ready state), the save's stop of the guest, restore-to-agent and the whole `lab up` from the
# snapshot, a panic's restart from it, and the guest root image's size.
#
#   Benchmarks/lab-snapshot.sh [SAMPLES] [KERNEL]     # SAMPLES restores (default 10), cold boots 3
#
# Needs root (or a user who may run QEMU), and the package (Scripts/package.sh makes it: the guest
# runs it). Results also go to bench-results/lab-snapshot.txt.
set -eu
cd "$(dirname "$0")/.."
samples=${1:-10}
kernel=${2:-bookworm-backports}
Scripts/package.sh >/dev/null
inject=.build/release/inject
lab=bench-snap-$$
export INJECT_JOURNAL=off
trap '"$inject" lab down -n "$lab" >/dev/null 2>&1 || true' EXIT
mkdir -p bench-results
python3 - "$inject" "$lab" "$samples" "$kernel" <<'PY' | tee bench-results/lab-snapshot.txt
import json, os, subprocess, sys, time, statistics
inject, lab, samples, kernel = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def up(*extra):
    start = time.perf_counter()
    out = subprocess.run([inject, "lab", "up", "-n", lab, "--kernel", kernel, "--with", "rasdaemon", "--json", *extra],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout), time.perf_counter() - start
def down():
    subprocess.run([inject, "lab", "down", "-n", lab], capture_output=True, check=True)
def summary(values):
    return f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"
print(f"lab snapshot benchmark, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, kernel {kernel}, with rasdaemon")
colds, saves = [], []
for _ in range(3):
    record, wall = up("--cold")
    colds.append(record["bootSeconds"]); saves.append(record.get("snapshotSaveSeconds") or float("nan"))
    snapshot = record.get("snapshot")
    down()
print(f"cold boot to agent (lab up --cold, 3): {summary(colds)}")
print(f"snapshot save, guest stopped: {summary(saves)}")
restores, ups, walls = [], [], []
for _ in range(samples):
    record, wall = up()
    assert record.get("restored"), f"not restored: {record}"
    restores.append(record["restoreSeconds"]); ups.append(record["bootSeconds"]); walls.append(wall)
    down()
print(f"restore to agent ({samples}): {summary(restores)}")
print(f"lab up from the snapshot ({samples}): {summary(ups)}; the command {summary(walls)}")
record, _ = up()
panics, runs = [], []
for _ in range(3):
    start = time.perf_counter()
    subprocess.run([inject, "run", "mce", "via=qemu", "severity=fatal", "expect=panic", "--yes", "--lab", lab],
                   capture_output=True, check=True)
    status = json.loads(subprocess.run([inject, "lab", "status", "-n", lab, "--json"], capture_output=True, text=True, check=True).stdout)[0]
    panics.append(status["restoreSeconds"]); runs.append(time.perf_counter() - start)
down()
print(f"panic's restart to answering (from the snapshot, 3): {summary(panics)}; "
      f"the whole fatal `inject run` (injection, panic seen, restart) {summary(runs)}")
memory = os.path.join(snapshot, "memory")
used = os.stat(memory).st_blocks * 512
print(f"snapshot: device state {os.path.getsize(os.path.join(snapshot, 'device-state')) / 1e3:.0f} kB, "
      f"RAM {os.path.getsize(memory) >> 20} MiB of which {used / 2**20:.0f} MiB on disk")
root = record.get("guestRoot")
print(f"guest root image {root}: {os.path.getsize(root) / 2**20:.0f} MiB")
PY
