import Foundation
import InjectTestSupport
import Testing

@testable import InjectHost

/// `.file` parameters: the host reads them, with limits, and names the path when it cannot.
@Suite struct FileParameterTests {
    @Test func filesAreReadInOrderAndEncodedWithTheirPaths() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let first = directory.appendingPathComponent("a.mce")
        let second = directory.appendingPathComponent("b.mce")
        try Data("CPU 0 BANK 1\n".utf8).write(to: first)
        try Data("CPU 1 BANK 2".utf8).write(to: second)
        let files = try FileParameter.read("\(first.path), \(second.path)")
        #expect(files.map(\.path) == [first.path, second.path])
        #expect(
            FileParameter.encode(files) == [0x1C] + Array("\(first.path)\nCPU 0 BANK 1\n".utf8) + [0x1C]
                + Array("\(second.path)\nCPU 1 BANK 2".utf8))
        // Through the schema: the text is the paths (the journal's and --json's), the contents travel apart.
        let spec = ParameterSpec(
            name: "file", type: .file, help: "", unit: nil, defaultValue: nil, choices: [], isRequired: false,
            bounds: nil)
        let value = try ValueParser.parse(first.path, for: spec, backend: "mce", source: .commandLine)
        #expect(
            value.text == first.path && value.number == 1
                && value.fileContents?.count == 1 + first.path.utf8.count + 1 + 13)
        #expect(!String(decoding: try JSONEncoder().encode(value), as: UTF8.self).contains("CPU 0"))
    }

    @Test func whatCannotBeReadIsNamed() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { TestSupport.remove(directory) }
        let binary = directory.appendingPathComponent("binary")
        let large = directory.appendingPathComponent("large")
        try Data([0x43, 0x00, 0x50]).write(to: binary)
        try Data(count: FileParameter.maximumFileBytes + 1).write(to: large)
        func reason(_ paths: String) -> String {
            do {
                _ = try FileParameter.read(paths)
                return ""
            } catch { return error.reason }
        }
        #expect(reason(directory.path + "/missing") == directory.path + "/missing: No such file or directory")
        #expect(reason(directory.path).hasPrefix("refused \(directory.path): it is a directory, not a regular file"))
        #expect(reason(binary.path) == "\(binary.path) holds NUL bytes: a text file is expected")
        #expect(reason(large.path).contains("larger than 1 MiB"))
        #expect(reason("").contains("not an empty one") && reason("a,,b").contains("not an empty one"))
        #expect(reason("-,-") == "standard input (-) can be read once")
    }
}
