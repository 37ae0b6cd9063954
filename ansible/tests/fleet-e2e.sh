#!/bin/sh
# End-to-end run of the inject.ras collection with real ssh and real Ansible: three managed hosts,
# each an sshd in a network namespace of its own reached over its loopback, each with its own
# --root tree (node3's lacks mce-inject unless FLEET_ALL_READY=1). Runs the example playbook and leaves the fleet report in
# OUT. Needs root, openssh-server, busybox-static and python3-venv; ansible-core is installed with
# pip into a virtual environment cached under the lab cache.
#
#   ansible/tests/fleet-e2e.sh INJECT_EXECUTABLE OUT [ansible-playbook arguments...]
#
# FLEET_PLAYBOOK runs another playbook against the same hosts. Exit status: ansible-playbook's. OUT/fleet-report.json is the report; OUT/trees/nodeN the trees;
# OUT/playbook.log the playbook's output.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 INJECT_EXECUTABLE OUT [ansible-playbook arguments...]" >&2; exit 64; }
inject=$(readlink -f "$1")
out=$2
shift 2
[ -n "$out" ] || { echo "OUT is empty" >&2; exit 64; }
[ -x "$inject" ] || { echo "$inject is not an executable" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, sshd)" >&2; exit 77; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$repo/ansible/tests/ansible-venv.sh")

mkdir -p "$out"
work=$(mktemp -d /tmp/inject-fleet-XXXXXX)
namespaces=""
cleanup() {
    for ns in $namespaces; do
        [ -f "$work/$ns.pid" ] && kill "$(cat "$work/$ns.pid")" 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
chmod 600 "$work/authorized_keys"
mkdir -p /run/sshd

inventory=$work/inventory.ini
echo "[inject_fleet]" > "$inventory"
suffix=$$
for n in 1 2 3; do
    ns=inject-fleet-$suffix-$n
    ip netns add "$ns"
    namespaces="$namespaces $ns"
    ip netns exec "$ns" ip link set lo up
    cat > "$work/$ns.conf" <<EOF
ListenAddress 127.0.0.1:22
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $work/$ns.pid
Subsystem sftp internal-sftp
EOF
    ip netns exec "$ns" /usr/sbin/sshd -f "$work/$ns.conf"
    # Each host's own tree; node3 has no mce-inject.
    tree=$out/trees/node$n
    rm -rf "$tree"
    mkdir -p "$tree/sys/kernel/debug"
    if [ $n -ne 3 ] || [ "${FLEET_ALL_READY:-0}" = 1 ]; then
        mkdir -p "$tree/sys/kernel/debug/mce-inject"
        for f in flags cpu status misc addr synd ipid bank; do : > "$tree/sys/kernel/debug/mce-inject/$f"; done
    fi
    echo "node$n ansible_host=127.0.0.1 inject_root=$tree inject_journal=$out/trees/node$n.journal" \
         "ansible_ssh_common_args='-o ProxyCommand=\"ip netns exec $ns busybox nc 127.0.0.1 22\" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'" >> "$inventory"
done
for n in 1 2 3; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -f "$work/inject-fleet-$suffix-$n.pid" ] && break; sleep 0.2; done
done
cat >> "$inventory" <<EOF

[inject_fleet:vars]
ansible_user=root
ansible_ssh_private_key_file=$work/client_key
ansible_python_interpreter=/usr/bin/python3
inject_executable=$inject
inject_verify=false
EOF

rm -rf "$out/report"
status=0
ANSIBLE_COLLECTIONS_PATH="$repo/ansible" ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
    "$venv/bin/ansible-playbook" -i "$inventory" "${FLEET_PLAYBOOK:-inject.ras.fleet}" -e inject_report_dir="$out/report" -e inject_serial=2 "$@" \
    > "$out/playbook.log" 2>&1 || status=$?
[ -f "$out/report/fleet-report.json" ] && cp "$out/report/fleet-report.json" "$out/report/fleet-report.txt" "$out/report/fleet-junit.xml" "$out/" 2>/dev/null
exit $status
