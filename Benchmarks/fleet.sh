#!/bin/sh
# Benchmark (not a test): a campaign of 100 corrected machine checks through the Ansible
# collection, on 3 managed hosts at once (each a Swift-less Debian root with its own sshd in
# namespaces of its own, inject installed from the package, its own --root tree) beside the same
# campaign on 1 host, measured in the same run; and the campaign run directly with inject on one
# tree, the floor. The playbook times include starting the nodes (overlay, dpkg -i, sshd). Needs
# root, openssh-client, mmdebstrap, patchelf, python3-venv.
#
#   Benchmarks/fleet.sh
set -eu
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
inject=$(readlink -f .build/release/inject)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
Scripts/package.sh --build-dir .build/release --output "$work/dist" >/dev/null
package=$(ls "$work"/dist/inject_*_amd64.deb)
cat > "$work/campaign.json" <<'JSON'
{"name": "fleet benchmark", "seed": 1,
 "steps": [{"name": "corrected MCE", "backend": "mce", "count": 100, "verify": "none",
            "parameters": {"cpu": "0", "bank": "choice 1|2|3", "addr": "random 0x100000..0x10000000 align 0x1000"}}]}
JSON
seconds() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
run() { # hosts: the playbook over that many hosts at once (node1..3 exist; a limit picks them)
    start=$(seconds)
    FLEET_ALL_READY=1 ansible/tests/fleet-e2e.sh "$package" "$work/out$1" -e inject_scenario="$work/campaign.json" -e '{"inject_requests": {}}' \
        -e inject_serial=3 --limit "$2" >/dev/null
    for node in $(echo "$2" | tr , ' '); do
        [ "$node" = localhost ] && continue
        [ "$(wc -l < "$work/out$1/nodes/$node/upper/var/lib/inject/fleet.journal")" -eq 200 ] || { echo "$node: the campaign did not journal 100 injections" >&2; exit 1; }
    done
    end=$(seconds)
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$end"
}
mkdir -p "$work/tree/sys/kernel/debug/mce-inject" bench-results
for f in flags cpu status misc addr synd ipid bank; do : > "$work/tree/sys/kernel/debug/mce-inject/$f"; done
start=$(seconds)
INJECT_JOURNAL=off "$inject" campaign "$work/campaign.json" --root "$work/tree" --json >/dev/null 2>&1
direct=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$start")
one=$(run 1 node1,localhost)
three=$(run 3 node1,node2,node3,localhost)
{
    echo "fleet benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores: a campaign of 100 corrected MCEs per host"
    echo "inject campaign, directly on one tree:        $direct s"
    echo "playbook inject.ras.fleet, 1 host:             $one s"
    echo "playbook inject.ras.fleet, 3 hosts at once:    $three s  (ratio to 1 host: $(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$three" "$one"))"
} | tee bench-results/fleet.txt
