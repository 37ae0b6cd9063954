import InjectHost

/// Plain copies of compressed kernel modules, made with the machine's `xz` or `zstd`.
enum ModuleDecompressor {
    /// Compressed suffixes and the program (with its arguments) that writes the plain module to
    /// standard output.
    static let tools: [(suffix: String, argv: [String], package: String)] = [
        (".ko.xz", ["/usr/bin/xz", "-d", "-c"], "xz-utils"),
        (".ko.zst", ["/usr/bin/zstd", "-d", "-c", "-q"], "zstd"),
        (".ko.gz", ["/bin/gzip", "-d", "-c"], "gzip"),
    ]

    /// The module name of a file name (`9p.ko.xz` is `9p`), or `nil` when it is not a module.
    static func moduleName(_ fileName: String) -> String? {
        if fileName.hasSuffix(".ko") { return String(fileName.dropLast(3)) }
        for tool in tools where fileName.hasSuffix(tool.suffix) { return String(fileName.dropLast(tool.suffix.count)) }
        return nil
    }

    /// `file` itself when plain; otherwise its expanded copy in `scratch` (made once, and again
    /// when the compressed file is newer).
    static func plain(_ file: FilePath, scratch: FilePath) throws(LabError) -> FilePath {
        guard let name = file.lastComponent?.string, !name.hasSuffix(".ko"),
            let tool = tools.first(where: { name.hasSuffix($0.suffix) })
        else { return file }
        let output = scratch.appending(String(name.dropLast(tool.suffix.count)) + ".ko")
        var source = stat()
        var copy = stat()
        if stat(file.string, &source) == 0, stat(output.string, &copy) == 0,
            copy.st_mtim.tv_sec >= source.st_mtim.tv_sec, copy.st_size > 0
        {
            return output
        }
        guard access(tool.argv[0], X_OK) == 0 else {
            throw .missingPrerequisite(
                what: "\(file) is compressed and \(tool.argv[0]) is missing", install: "apt-get install \(tool.package)"
            )
        }
        try LabFileSystem.makeDirectories(scratch)
        let partial = FilePath(output.string + ".\(getpid()).partial")
        try run(tool.argv + [file.string], output: partial)
        try LabFileSystem.rename(partial, to: output)
        return output
    }

    /// Runs `argv` with standard output in `output`; fails naming the program's status.
    private static func run(_ argv: [String], output: FilePath) throws(LabError) {
        let pid: pid_t
        do {
            pid = try LabProcess.spawn(argv, output: output, errorToOutput: false, newSession: false)
        } catch {
            throw .io(path: argv[0], reason: "cannot start: \(error)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            try? LabFileSystem.remove(output)
            throw .kernel("`\(argv.joined(separator: " "))` failed (wait status \(status))")
        }
    }
}
