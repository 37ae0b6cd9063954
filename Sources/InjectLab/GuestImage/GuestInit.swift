import InjectHost

/// The guest's `/init`: a busybox shell script written by the host into the initramfs.
///
/// It mounts proc, sys, dev, debugfs and tracefs; loads the modules in dependency order; mounts
/// the host's root filesystem read-only over 9p at `/host` with the guest's proc, sys and dev
/// bound into it; polls the machine-check banks every second; enables the RAS tracepoints; and then runs the host's own `inject` binary,
/// chrooted into `/host`, as the guest agent (``AgentServer``) on the virtio-serial port named
/// `inject.agent`, restarting it if it exits.
enum GuestInit {
    /// The name of the agent's virtio-serial port.
    static let agentPort = "inject.agent"
    /// Tracepoints enabled at boot, so that events are in the trace buffer from the start.
    static let tracepoints = [
        "mce/mce_record", "ras/mc_event", "ras/memory_failure_event", "ras/aer_event",
        "ras/non_standard_event", "ras/arm_event",
    ]

    /// The script, loading `modules` (names of files in `/modules`, without `.ko`) in order and
    /// running `agent` (a path in the host's filesystem) as the agent.
    static func script(modules: [String], agent: String) -> String {
        """
        #!/bin/sh
        # inject lab guest init, written by the host.
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin
        /bin/busybox mkdir -p /proc /sys /dev /host /tmp /sbin /usr/bin /usr/sbin
        /bin/busybox --install -s
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mount -t debugfs debugfs /sys/kernel/debug
        mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
        say() { echo "inject-lab: $*" > /dev/console; }
        for m in \(modules.joined(separator: " ")); do
            insmod /modules/$m.ko || say "insmod $m failed"
        done
        mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host || say "mounting the host over 9p failed"
        for d in proc sys dev; do mount --rbind /$d /host/$d; done
        echo 1 > /proc/sys/kernel/sysrq
        # Corrected errors in QEMU's virtual banks are found by the poller: every second, not every 5 minutes.
        for c in /sys/devices/system/machinecheck/machinecheck*/check_interval; do echo 1 > $c; done
        for e in \(tracepoints.joined(separator: " ")); do
            [ -e /sys/kernel/tracing/events/$e/enable ] && echo 1 > /sys/kernel/tracing/events/$e/enable
        done
        port=
        for p in /sys/class/virtio-ports/*; do
            [ "$(cat $p/name 2>/dev/null)" = \(agentPort) ] && port=/dev/${p##*/}
        done
        [ -n "$port" ] || say "no virtio-serial port named \(agentPort)"
        say "starting the agent \(agent)"
        while :; do
            chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \\
                \(agent) lab agent --port "$port"
            say "the agent exited with status $?; restarting it"
            sleep 1
        done

        """
    }
}
