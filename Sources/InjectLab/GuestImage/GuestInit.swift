import InjectHost

/// The guest's `/init`: a busybox shell script written by the host into the initramfs.
///
/// It mounts proc, sys, dev, debugfs and tracefs; does what the platform does to the lab's devices
/// before their drivers bind; loads the modules in dependency order; assembles
/// the guest's root from the Debian root image (``GuestRoot``, the virtio disk with serial
/// ``rootSerial``) under the inject package's layer (``GuestPackage``, serial ``packageSerial``),
/// both read-only, with a tmpfs for every change, and records the package in dpkg's database;
/// binds the guest's proc, sys and dev into it; brings up the loopback interface; polls the
/// machine-check banks every second; enables the RAS tracepoints; and then runs the packaged
/// `inject`, chrooted into that root, as the guest agent (``AgentServer``) on the virtio-serial port
/// named `inject.agent`, restarting it if it exits. Nothing of the host's filesystem is mounted.
enum GuestInit {
    /// The name of the agent's virtio-serial port.
    static let agentPort = "inject.agent"
    /// The serial numbers of the guest's two disks: its Debian root and the inject package.
    static let rootSerial = "inject-root"
    static let packageSerial = "inject-package"
    /// Where the initramfs keeps dpkg's record of the package (its status entry and file list).
    static let packageStatus = "inject-lab/inject.status"
    static let packageList = "inject-lab/inject.list"
    /// Tracepoints enabled at boot, so that events are in the trace buffer from the start.
    static let tracepoints = [
        "mce/mce_record", "ras/mc_event", "ras/memory_failure_event", "ras/aer_event",
        "ras/non_standard_event", "ras/arm_event",
    ]

    /// The script, loading `modules` (names of files in `/modules`, without `.ko`) in order after
    /// running the devices' `beforeDrivers` fragments (``LabDevice/beforeDrivers``).
    static func script(modules: [String], beforeDrivers: [String] = []) -> String {
        """
        #!/bin/sh
        # inject lab guest init, written by the host.
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin
        /bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /guest /layers/root /layers/package /layers/state
        /bin/busybox --install -s
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mount -t debugfs debugfs /sys/kernel/debug
        mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
        say() { echo "inject-lab: $*" > /dev/console; }
        \(beforeDrivers.joined(separator: "\n"))
        for m in \(modules.joined(separator: " ")); do
            insmod /modules/$m.ko || say "insmod $m failed"
        done
        disk() { for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = "$1" ] && echo /dev/${b##*/}; done; }
        mount -t squashfs -o ro "$(disk \(rootSerial))" /layers/root || say "mounting the guest's Debian root failed"
        mount -t squashfs -o ro "$(disk \(packageSerial))" /layers/package || say "mounting the inject package failed"
        mount -t tmpfs -o mode=0755 state /layers/state
        mkdir -p /layers/state/upper /layers/state/work
        mount -t overlay guest -o lowerdir=/layers/package:/layers/root,upperdir=/layers/state/upper,workdir=/layers/state/work /guest \\
            || say "assembling the guest's root failed"
        for d in proc sys dev; do mount --rbind /$d /guest/$d; done
        mount -t tmpfs -o mode=1777 tmp /guest/tmp
        mount -t tmpfs -o mode=0755 run /guest/run
        cat /\(packageStatus) >> /guest/var/lib/dpkg/status
        cp /\(packageList) /guest/var/lib/dpkg/info/inject.list
        hostname inject-lab
        ip link set lo up
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
        say "starting the agent \(GuestPackage.executable)"
        while :; do
            chroot /guest /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \\
                \(GuestPackage.executable) lab agent --port "$port"
            say "the agent exited with status $?; restarting it"
            sleep 1
        done

        """
    }
}
