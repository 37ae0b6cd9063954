/// The platform's part in a CXL memory device's RAS capability: its error masks.
///
/// The RAS capability's Uncorrectable and Correctable Error Mask registers come out of reset with
/// every error masked (QEMU's type-3 device: 0x1cfff and 0x7f), and QEMU's `cxl-inject-*` commands
/// honour them: a masked error is recorded nowhere and reported to no one. Debian's 6.12 clears
/// them when cxl_pci binds; 7.3 no longer does for an endpoint (its cxl_port unmasks a port's RAS
/// only when the port's upstream device is a PCI device, and an endpoint's is the memdev), so every
/// native CXL protocol error stays masked there (measured: the masks read 0x1cfff and 0x7f after
/// 7.3 booted). The lab's platform clears them before the drivers load, as a CXL-aware firmware
/// does, so that the device reports on every kernel; the kernel's log records what it found.
enum CXLRASMasks {
    /// The tag of the kernel log line the fragment writes, one per device it unmasked.
    static let logTag = "inject-lab platform: CXL RAS"

    /// The guest `/init`'s fragment (busybox sh): for each CXL memory device (PCI class 0x050210),
    /// the component registers from its Register Locator DVSEC (vendor 0x1e98, id 8, block id 1),
    /// the RAS capability (id 2) from the CXL.cache/mem capability array at 0x1000 of them, and its
    /// two mask registers (at 0x4 and 0x10) cleared through /dev/mem.
    static let script = """
        cxl_cfg() { v=$(od -An -tx4 -j $(($2)) -N4 $1/config 2>/dev/null | tr -d ' '); echo $((0x${v:-0})); }
        for d in /sys/bus/pci/devices/*; do
            [ "$(cat $d/class)" = 0x050210 ] || continue
            off=256; base=
            while [ $off -ge 256 ] && [ -z "$base" ]; do
                h=$(cxl_cfg $d $off); h1=$(cxl_cfg $d $((off + 4)))
                if [ $((h & 0xffff)) -eq 35 ] && [ $((h1 & 0xffff)) -eq 7832 ] && [ $(($(cxl_cfg $d $((off + 8))) & 0xffff)) -eq 8 ]; then
                    e=$((off + 12))
                    while [ $((e + 8)) -le $((off + ((h1 >> 20) & 0xfff))) ]; do
                        lo=$(cxl_cfg $d $e); hi=$(cxl_cfg $d $((e + 4)))
                        if [ $(((lo >> 8) & 0xff)) -eq 1 ]; then
                            bar=$(sed -n "$(((lo & 7) + 1))p" $d/resource | cut -d' ' -f1)
                            base=$((bar + (hi << 32) + (lo & 0xffff0000)))
                        fi
                        e=$((e + 8))
                    done
                fi
                off=$(((h >> 20) & 0xffc))
            done
            [ -n "$base" ] && [ "$base" -ne 0 ] || { say "${d##*/}: no CXL component registers found"; continue; }
            cm=$((base + 0x1000)); n=$((($(devmem $cm 32) >> 24) & 0xff)); i=1
            while [ $i -le $n ]; do
                c=$(devmem $((cm + 4 * i)) 32)
                if [ $((c & 0xffff)) -eq 2 ]; then
                    ras=$((cm + ((c >> 20) & 0xfff)))
                    u=$(devmem $((ras + 4)) 32); k=$(devmem $((ras + 16)) 32)
                    devmem $((ras + 4)) 32 0 && devmem $((ras + 16)) 32 0 \\
                        && echo "\(logTag): ${d##*/}: masks cleared (uncorrectable was $u, correctable $k)" > /dev/kmsg
                fi
                i=$((i + 1))
            done
        done
        """

    /// What the fragment did at this boot, from the kernel's log (for `lab status`).
    static func report(_ lab: Lab) throws(LabError) -> String {
        let lines = try lab.exec("dmesg | grep -F '\(logTag)'", timeoutSeconds: 10).text
            .split(separator: "\n").compactMap { line in
                line.range(of: logTag + ": ").map { String(line[$0.upperBound...]) }
            }
        return lines.isEmpty ? "no CXL RAS masks cleared by the platform" : lines.joined(separator: "; ")
    }
}
