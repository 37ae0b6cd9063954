#!/bin/sh
# End-to-end run of the inject.ras collection with real ssh and real Ansible on three managed
# hosts that are Debian servers with no Swift: each node is a minimal Debian 12 root
# (Scripts/server-root.sh, shared read-only, under an overlay of the node's own) with its own sshd,
# in a mount, PID and network namespace of its own, reached over that namespace's loopback. The
# package is installed in each node the way a server's administrator installs it (dpkg), and each
# node has its own --root tree (node3's lacks mce-inject unless FLEET_ALL_READY=1). Runs the
# example playbook and leaves the fleet report in OUT. Needs root, mmdebstrap, openssh-client,
# busybox-static and python3-venv; ansible-core is installed with pip into a virtual environment
# cached under the lab cache.
#
#   ansible/tests/fleet-e2e.sh PACKAGE OUT [ansible-playbook arguments...]
#
# PACKAGE is inject's .deb (Scripts/package.sh). FLEET_PLAYBOOK runs another playbook against the
# same hosts; FLEET_PREINSTALL=0 leaves the package out (the install role's test installs it).
# Exit status: ansible-playbook's. In OUT: fleet-report.json (the report), playbook.log, and per
# node nodes/nodeN/ with upper/ (what the node changed: upper/srv/inject-tree is its tree,
# upper/var/lib/inject/fleet.journal its journal), node.log (sshd's log) and swift (what a search
# for a Swift runtime outside the package found inside the node, before the playbook).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 PACKAGE OUT [ansible-playbook arguments...]" >&2; exit 64; }
[ -n "$1" ] || { echo "PACKAGE is empty" >&2; exit 64; }
[ -n "$2" ] || { echo "OUT is empty" >&2; exit 64; }
package=$(readlink -f "$1")
out=$2
shift 2
case "$package" in *.deb) ;; *) echo "PACKAGE must be inject's .deb (Scripts/package.sh), not '$package'" >&2; exit 64 ;; esac
[ -f "$package" ] || { echo "no package at $package" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces, overlays, sshd)" >&2; exit 77; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$repo/ansible/tests/ansible-venv.sh")
lower=$("$repo/Scripts/server-root.sh" --unpacked openssh-server python3 python3-apt libffi8)

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/inject-fleet-XXXXXX)
namespaces=""
pids=""
cleanup() {
    # unshare --fork ignores SIGTERM while it waits; its --kill-child takes the node down with it.
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    for ns in $namespaces; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"

# Runs inside a node's own mount and PID namespaces: the node's root as an overlay, the file
# systems a server has, the package (unless FLEET_PREINSTALL=0), then sshd as the namespace's init.
start_node='
set -eu
node=$1 lower=$2 preinstall=$3
root=$node/root
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$node/upper,workdir=$node/work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/run/sshd"
chroot "$root" /bin/sh -c "ls -d /opt/swift 2>/dev/null; find / -xdev -name \"libswiftCore.so*\" -not -path \"/usr/lib/inject/*\"" > "$node/swift" || true
if [ "$preinstall" = 1 ]; then
    chroot "$root" dpkg -i /root/inject.deb > "$node/dpkg.log" 2>&1
fi
exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config_fleet
'

inventory=$work/inventory.ini
echo "[inject_fleet]" > "$inventory"
suffix=$$
for n in 1 2 3; do
    ns=inject-fleet-$suffix-$n
    node=$out/nodes/node$n
    rm -rf "$node"
    mkdir -p "$node/upper/etc/ssh" "$node/upper/root" "$node/upper/var/lib/inject" "$node/work" "$node/root"
    install -m 600 "$work/host_key" "$node/upper/etc/ssh/fleet_host_key"
    install -m 600 "$work/client_key.pub" "$node/upper/etc/ssh/fleet_authorized_keys"
    cp "$package" "$node/upper/root/inject.deb"
    printf '%s\n' "ListenAddress 127.0.0.1:22" "HostKey /etc/ssh/fleet_host_key" \
        "AuthorizedKeysFile /etc/ssh/fleet_authorized_keys" "PermitRootLogin prohibit-password" \
        "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "PidFile none" \
        "Subsystem sftp internal-sftp" > "$node/upper/etc/ssh/sshd_config_fleet"
    # The node's own tree; node3 has no mce-inject.
    tree=$node/upper/srv/inject-tree
    mkdir -p "$tree/sys/kernel/debug"
    if [ "$n" -ne 3 ] || [ "${FLEET_ALL_READY:-0}" = 1 ]; then
        mkdir -p "$tree/sys/kernel/debug/mce-inject"
        for f in flags cpu status misc addr synd ipid bank; do : > "$tree/sys/kernel/debug/mce-inject/$f"; done
    fi
    ip netns add "$ns"
    namespaces="$namespaces $ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" unshare --mount --pid --fork --kill-child --propagation private \
        /bin/sh -c "$start_node" start-node "$node" "$lower" "${FLEET_PREINSTALL:-1}" > "$node/node.log" 2>&1 &
    pids="$pids $!"
    # ansible_host names the node (ssh reaches it through the ProxyCommand): Ansible's ssh
    # connection sharing keys on it, and one name for all three would share node1's connection.
    echo "node$n ansible_host=node$n inject_root=/srv/inject-tree inject_journal=/var/lib/inject/fleet.journal" \
         "ansible_ssh_common_args='-o ProxyCommand=\"ip netns exec $ns busybox nc 127.0.0.1 22\" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'" >> "$inventory"
done
# A node is ready when its sshd answers.
for n in 1 2 3; do
    ready=0
    for _ in $(seq 1 150); do
        if ip netns exec "inject-fleet-$suffix-$n" busybox nc -w 1 127.0.0.1 22 </dev/null 2>/dev/null | grep -q '^SSH-'; then
            ready=1
            break
        fi
        sleep 0.1
    done
    [ $ready = 1 ] || { echo "node$n did not start:" >&2; cat "$out/nodes/node$n/node.log" "$out/nodes/node$n/dpkg.log" >&2 2>/dev/null; exit 1; }
done
{
    echo
    echo "[inject_fleet:vars]"
    echo "ansible_user=root"
    echo "ansible_ssh_private_key_file=$work/client_key"
    echo "ansible_python_interpreter=/usr/bin/python3"
    echo "inject_verify=false"
} >> "$inventory"

rm -rf "$out/report"
status=0
ANSIBLE_COLLECTIONS_PATH="$repo/ansible" ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False \
    "$venv/bin/ansible-playbook" -i "$inventory" "${FLEET_PLAYBOOK:-inject.ras.fleet}" -e inject_report_dir="$out/report" -e inject_serial=2 "$@" \
    > "$out/playbook.log" 2>&1 || status=$?
[ -f "$out/report/fleet-report.json" ] && cp "$out/report/fleet-report.json" "$out/report/fleet-report.txt" "$out/report/fleet-junit.xml" "$out/" 2>/dev/null
exit $status
