import ArgumentParser
import FirmwareFormats
import InjectHost

/// `inject decode`: turn raw error records back into fields.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Decode a raw error record into its fields.",
        subcommands: [DecodeCPERCommand.self])
}

/// `inject decode cper`: a Generic Error Status Block with its CPER sections.
struct DecodeCPERCommand: ParsableCommand {
    /// The largest record file read (a Generic Error Status Block is at most a few pages).
    static let maximumRecordFileBytes = 16 << 20

    static let configuration = CommandConfiguration(
        commandName: "cper",
        abstract: "Decode a Generic Error Status Block (GHES) and its CPER sections.",
        discussion: """
            The record comes from hexadecimal text, a file (binary, or hexadecimal text), or a lab's \
            firmware memory at a guest-physical address (--lab NAME --at 0x10001000). Platform memory, \
            processor generic, PCIe and ARM processor sections are decoded field by field; any other \
            section is shown as its type and bytes.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(
        help:
            "The record as hexadecimal bytes (spaces and colons allowed), or a file holding it (binary or hexadecimal text)."
    )
    var hex: String?

    @Option(help: ArgumentHelp("A file holding the record, binary or hexadecimal text.", valueName: "path"))
    var file: String?

    @Option(
        help: ArgumentHelp(
            "Read the record from the target's firmware memory (--lab or --guest-memory) at this guest-physical address.",
            valueName: "address"))
    var at: String?

    struct Report: Encodable {
        struct Entry: Encodable {
            var section: String
            var type: String
            var severity: String
            var revision: String
            var fields: [String: String]
        }
        var blockStatus: String
        var severity: String
        /// What is invalid in the bytes given.
        var problems: [String]
        var entries: [Entry]
    }

    func validate() throws {
        let given = [hex != nil, file != nil, at != nil].filter { $0 }.count
        guard given == 1 else {
            throw ValidationError(
                "give the record one way: hexadecimal text, --file PATH, or --at ADDRESS with --lab NAME")
        }
    }

    func run() throws {
        let bytes = try readRecord()
        let block: GenericErrorStatusBlock
        do {
            block = try GenericErrorStatusBlock(decoding: bytes)
        } catch {
            Output.error("not a Generic Error Status Block: \(error)")
            throw ExitCode(ExitCodes.usage)
        }
        guard !global.json else {
            let severity =
                block.given.map { CPERSeverity(rawValue: $0.severity)?.description ?? "\($0.severity) (undefined)" }
                ?? block.severity.description
            Output.json(
                Report(
                    blockStatus: hexNumber(block.given?.blockStatus ?? block.blockStatus), severity: severity,
                    problems: block.problems,
                    entries: block.entries.map { entry in
                        Report.Entry(
                            section: entry.section.name, type: entry.section.type.description,
                            severity: entry.givenSeverity.map {
                                CPERSeverity(rawValue: $0)?.description ?? "\($0) (undefined)"
                            } ?? entry.severity.description,
                            revision: hexNumber(entry.revision),
                            fields: Dictionary(
                                entry.section.fieldLines.map { line in
                                    let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmed() }
                                    return (parts[0], parts.count > 1 ? parts[1] : "")
                                }, uniquingKeysWith: { first, _ in first }))
                    }))
            return
        }
        Output.line(block.fieldLines.joined(separator: "\n"))
    }

    private func readRecord() throws -> [UInt8] {
        do {
            // A positional argument that names a file is read as --file would be.
            let path = file ?? hex.flatMap { text in access(text, F_OK) == 0 || text.contains("/") ? text : nil }
            if let hex, path == nil { return try GenericErrorStatusBlock.bytes(fromHex: hex) }
            if let file = path {
                let contents: [UInt8]
                do {
                    guard let read = try UserFile.read(file, limit: Self.maximumRecordFileBytes) else {
                        Output.error("\(file) does not exist; name a file holding the record (binary or hex)")
                        throw ExitCode(ExitCodes.usage)
                    }
                    contents = read
                } catch let error as TargetError {
                    Output.error(error.description)
                    throw ExitCode(ExitCodes.usage)
                }
                let text = String(decoding: contents, as: UTF8.self)
                let isHex =
                    !contents.isEmpty && text.allSatisfy { $0.isHexDigit || $0.isWhitespace || $0 == ":" || $0 == "x" }
                return isHex ? try GenericErrorStatusBlock.bytes(fromHex: text) : contents
            }
        } catch let error as FormatError {
            Output.error(error.description)
            throw ExitCode(ExitCodes.usage)
        }
        let session = try global.session()
        guard let memory = session.options.target.guestMemory else {
            Output.error("--at reads firmware memory: give --lab NAME or --guest-memory FILE")
            throw ExitCode(ExitCodes.usage)
        }
        guard let text = at, let address = NumberText.unsigned(text) else {
            Output.error("--at '\(at ?? "")' is not an address (decimal or 0x hex)")
            throw ExitCode(ExitCodes.usage)
        }
        return try global.report { () throws(InjectError) in
            do throws(TargetError) {
                return try FileIO.read(4096, at: Int64(bitPattern: address), of: memory)
            } catch {
                throw .target(error)
            }
        }
    }
}
