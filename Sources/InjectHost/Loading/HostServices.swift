import InjectPluginABI

/// The table of host services handed to every plugin. Allocated once and never freed: plugins may
/// keep the pointer for the life of the process.
enum HostServices {
    /// A plugin's C string, read no further than a bound and escaped for printing.
    static func boundedText(_ pointer: UnsafePointer<CChar>) -> String {
        let length = strnlen(pointer, PrintableText.messageLimit * 4 + 1)
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        return PrintableText.escaped(String(decoding: bytes, as: UTF8.self))
    }

    nonisolated(unsafe) static let table: UnsafeMutablePointer<inject_host_api> = {
        let table = UnsafeMutablePointer<inject_host_api>.allocate(capacity: 1)
        table.initialize(
            to: inject_host_api(
                struct_size: UInt32(MemoryLayout<inject_host_api>.size),
                abi_major: UInt16(INJECT_ABI_MAJOR), abi_minor: UInt16(INJECT_ABI_MINOR),
                log: { call, level, message in
                    guard let context = CallContext.from(call), let message else { return }
                    guard context.logs.count < 10_000 else { return }
                    let text = HostServices.boundedText(message)
                    context.logs.append((level, text))
                    HostLog.plugin(context.backend, level: level, text)
                },
                set_error: { call, code, message in
                    guard let context = CallContext.from(call) else { return }
                    context.errorCode = code
                    context.errorMessage = message.map { HostServices.boundedText($0) }
                },
                target_info: { call, out in
                    guard let context = CallContext.from(call), let out,
                        out.pointee.struct_size >= UInt32(MemoryLayout<inject_target_info>.size)
                    else {
                        return INJECT_E_INVALID.rawValue
                    }
                    out.pointee.flags = context.targetFlags
                    out.pointee.root = context.rootCString.withUnsafeBufferPointer { $0.baseAddress }
                    return INJECT_OK.rawValue
                },
                read_attribute: { call, path, buffer, capacity, length in
                    guard let context = CallContext.from(call), let path else { return INJECT_E_INVALID.rawValue }
                    return HostServices.read(context, String(cString: path), buffer, capacity, length)
                },
                list_directory: { call, path, visit, visitorContext in
                    guard let context = CallContext.from(call), let path, let visit else {
                        return INJECT_E_INVALID.rawValue
                    }
                    return HostServices.list(context, String(cString: path), visit, visitorContext)
                },
                monotonic_ns: { _ in HostClock.monotonicNanoseconds() },
                realtime_ns: { _ in HostClock.realtimeNanoseconds() },
                add_step: { call, step in
                    guard let context = CallContext.from(call), let step else { return INJECT_E_INVALID.rawValue }
                    return StepReader.add(UnsafeRawPointer(step), to: context)
                },
                expect: { call, expectation in
                    guard let context = CallContext.from(call), let expectation else {
                        return INJECT_E_INVALID.rawValue
                    }
                    return StepReader.expect(UnsafeRawPointer(expectation), to: context)
                },
                require_confirmation: { call, reason in
                    guard let context = CallContext.from(call) else { return INJECT_E_INVALID.rawValue }
                    guard context.mode == .plan else {
                        return context.violate("require_confirmation called outside plan")
                    }
                    context.confirmationReasons.append(reason.map { String(cString: $0) } ?? "no reason given")
                    return INJECT_OK.rawValue
                },
                report_capability: { call, capability in
                    guard let context = CallContext.from(call), let capability else { return INJECT_E_INVALID.rawValue }
                    guard context.mode == .probe else {
                        return context.violate("report_capability called outside probe")
                    }
                    guard
                        let (c, _) = ABIStruct.read(
                            capability, as: inject_capability.self, minimum: INJECT_CAPABILITY_SIZE_1_0)
                    else {
                        return context.violate(
                            "inject_capability.struct_size is smaller than ABI 1.0's \(INJECT_CAPABILITY_SIZE_1_0)")
                    }
                    context.report(
                        CapabilityReport(
                            name: CapabilityReport.text(c.name, limit: CapabilityReport.maximumNameBytes) ?? "?",
                            available: c.available != 0,
                            detail: CapabilityReport.text(c.detail, limit: CapabilityReport.maximumDetailBytes) ?? ""))
                    return INJECT_OK.rawValue
                },
                read_memory: { call, address, buffer, length in
                    guard let context = CallContext.from(call), let buffer, length <= 1 << 20 else {
                        return INJECT_E_INVALID.rawValue
                    }
                    guard let memory = context.guestMemory else { return INJECT_E_UNSUPPORTED.rawValue }
                    guard let bytes = try? FileIO.read(length, at: Int64(bitPattern: address), of: memory),
                        bytes.count == length
                    else { return INJECT_E_IO.rawValue }
                    bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: length) }
                    return INJECT_OK.rawValue
                },
                add_field: { call, name, value in
                    guard let context = CallContext.from(call), let name, let value else {
                        return INJECT_E_INVALID.rawValue
                    }
                    guard context.mode == .decode else { return context.violate("add_field called outside decode") }
                    let field = String(
                        decoding: UnsafeRawBufferPointer(start: name, count: strnlen(name, 64)), as: UTF8.self)
                    guard DescriptorReader.isValidName(field, allowDash: false, limit: 32) else {
                        return context.violate(
                            "decoded field name '\(PrintableText.escaped(field, limit: 40))' must match [a-z][a-z0-9_]*"
                        )
                    }
                    guard context.fields.count < 32 else {
                        return context.violate("more than 32 decoded fields for one event")
                    }
                    context.fields.append((field, PrintableText.escaped(HostServices.boundedText(value), limit: 256)))
                    return INJECT_OK.rawValue
                },
                resolve_pci_device: { call, spec, out in
                    guard let context = CallContext.from(call), let spec, let out else {
                        return INJECT_E_INVALID.rawValue
                    }
                    guard context.mode != .decode else {
                        return context.violate("resolve_pci_device called outside probe or plan")
                    }
                    guard out.pointee.struct_size >= INJECT_PCI_DEVICE_SIZE_1_4 else {
                        return context.violate(
                            "inject_pci_device.struct_size \(out.pointee.struct_size) is smaller than ABI 1.4's \(INJECT_PCI_DEVICE_SIZE_1_4)"
                        )
                    }
                    return HostServices.resolvePCI(context, HostServices.boundedText(spec), out)
                }
            ))
        return table
    }()

    /// `resolve_pci_device`: fills `out` or sets the reason for the plugin to pass on.
    static func resolvePCI(_ context: CallContext, _ spec: String, _ out: UnsafeMutablePointer<inject_pci_device>)
        -> Int32
    {
        do throws(PCIDeviceResolver.Failure) {
            let device = try context.pciResolver.resolve(spec)
            out.pointee.flags = device.isPresent ? UInt32(INJECT_PCI_PRESENT) : 0
            copy(device.address, into: &out.pointee.address)
            copy(device.qemuID ?? "", into: &out.pointee.qemu_id)
            return INJECT_OK.rawValue
        } catch {
            copy(error.description, into: &out.pointee.reason)
            return error.code
        }
    }

    /// Copies `text` into a fixed C array, NUL-terminated and cut to fit.
    private static func copy<T>(_ text: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { buffer in
            let bytes = Array(text.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
    }

    static func read(
        _ context: CallContext, _ path: String, _ buffer: UnsafeMutablePointer<CChar>?,
        _ capacity: Int, _ length: UnsafeMutablePointer<Int>?
    ) -> Int32 {
        let bytes: [UInt8]
        do {
            bytes = try context.files.read(try TargetPath(path))
        } catch {
            return code(for: error)
        }
        length?.pointee = bytes.count
        guard bytes.count <= capacity else { return INJECT_E_TOO_LARGE.rawValue }
        if let buffer, !bytes.isEmpty {
            bytes.withUnsafeBytes {
                UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: bytes.count)
            }
        }
        return INJECT_OK.rawValue
    }

    static func list(
        _ context: CallContext, _ path: String, _ visit: inject_directory_visitor,
        _ visitorContext: UnsafeMutableRawPointer?
    ) -> Int32 {
        let entries: [(name: String, isDirectory: Bool)]
        do {
            entries = try context.files.list(try TargetPath(path))
        } catch {
            return code(for: error)
        }
        for entry in entries where visit(visitorContext, entry.name, entry.isDirectory ? 1 : 0) != 0 {
            break
        }
        return INJECT_OK.rawValue
    }

    static func code(for error: TargetError) -> Int32 {
        switch error {
        case .unsafePath: return INJECT_E_INVALID.rawValue
        case .notFound: return INJECT_E_NOT_FOUND.rawValue
        case .permissionDenied: return INJECT_E_PERMISSION.rawValue
        default: return INJECT_E_IO.rawValue
        }
    }
}
