/// The case files of a campaign step (`"cases"`): a shell pattern such as `soft-inj/*/data`
/// (the shape of mce-test's coverage cases; a matched directory stands for the files in it, hidden
/// ones left out), each regular file one case, run once with its path as the step's file parameter.
enum CaseFiles {
    /// The most cases one step may expand to.
    static let limit = 10_000
    /// The comment a case file declares its outcome with (`# expect: panic`).
    static let directive = "expect:"

    /// One step per file `pattern` matches (relative to the scenario's directory), in path order.
    static func steps(
        _ pattern: String, from step: Scenario.Step, parameter: String, scenario: String,
        key: String
    ) throws(ConfigurationError) -> [Scenario.Step] {
        func fail(_ reason: String) -> ConfigurationError {
            .unreadableFile(path: scenario, reason: "\(key): \(reason)")
        }
        guard !pattern.trimmed().isEmpty else {
            throw fail("the pattern is empty; give a directory or a pattern such as cases/*/data/*")
        }
        guard !step.parameters.contains(where: { $0.name == parameter }) else {
            throw fail("the step sets '\(parameter)' itself; the cases give it (set case_parameter to another name)")
        }
        let base = FilePath(scenario).removingLastComponent()
        let full = pattern.hasPrefix("/") ? pattern : base.appending(pattern).string
        var status = stat()
        var found = glob_t()
        defer { globfree(&found) }
        let result = glob(full, 0, nil, &found)
        guard result == 0 else {
            throw fail(
                result == GLOB_NOMATCH
                    ? "'\(pattern)' matches no file (looked for \(full))"
                    : "'\(pattern)' cannot be expanded (glob error \(result))")
        }
        var matched: [String] = []
        for index in 0..<Int(found.gl_pathc) {
            if let pointer = found.gl_pathv[index] { matched.append(String(cString: pointer)) }
        }
        // A matched directory stands for the files in it (soft-inj/*/data).
        var paths: [String] = []
        for path in matched {
            guard lstat(path, &status) == 0 else { continue }
            if status.st_mode & S_IFMT == S_IFDIR {
                let names = (try? FileIO.listDirectory(FilePath(path))) ?? []
                for entry in names where !entry.name.hasPrefix(".") {
                    try add(path + "/" + entry.name, inDirectory: true)
                }
            } else {
                try add(path, inDirectory: false)
            }
        }
        func add(_ path: String, inDirectory: Bool) throws(ConfigurationError) {
            guard lstat(path, &status) == 0 else { return }
            switch status.st_mode & S_IFMT {
            case S_IFREG: paths.append(path)
            case S_IFDIR where inDirectory: return
            case S_IFLNK: throw fail("\(path) is a symbolic link; give the case file itself")
            default: throw fail("\(path) is not a regular file")
            }
        }
        guard !paths.isEmpty else { throw fail("'\(pattern)' matches no regular file") }
        guard paths.count <= limit else {
            throw fail("'\(pattern)' matches \(paths.count) files, more than \(limit); narrow it")
        }
        var steps: [Scenario.Step] = []
        for path in paths.sorted() {
            var caseStep = step
            caseStep.name =
                path.hasPrefix(base.string + "/") && !base.isEmpty
                ? String(path.dropFirst(base.string.count + 1)) : path
            caseStep.parameters.append((parameter, .fixed(path)))
            caseStep.count = 1
            caseStep.expect = try declaredOutcome(path, backend: step.backend, fail) ?? step.expect
            if let expect = caseStep.expect, expect.needsEachVerification && caseStep.verify == "count" {
                throw fail(
                    "\(path) expects \(expect), which is verified each time: drop \"verify\": \"count\" from the step")
            }
            steps.append(caseStep)
        }
        return steps
    }

    /// The outcome a case file declares in a comment line (`# expect: OUTCOME`), or `nil`.
    static func declaredOutcome(
        _ path: String, backend: String,
        _ fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) -> ExpectedOutcome? {
        let read: [UInt8]?
        do { read = try UserFile.read(path, limit: FileParameter.maximumFileBytes) } catch {
            throw fail(error.description)
        }
        guard let bytes = read else { throw fail("\(path) does not exist") }
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        ).enumerated() {
            let text = line.trimmed()
            guard text.hasPrefix("#") else { continue }
            let comment = String(text.dropFirst()).trimmed()
            guard comment.lowercased().hasPrefix(directive) else { continue }
            let value = String(comment.dropFirst(directive.count)).trimmed()
            do { return try ExpectedOutcome(parsing: value, backend: backend) } catch {
                throw fail("\(path):\(number + 1): '\(value)' is not \(ExpectedOutcome.spellings)")
            }
        }
        return nil
    }
}
