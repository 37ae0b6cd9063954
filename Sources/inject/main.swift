import ArgumentParser
import Dispatch
import InjectHost

// The entry point. Asynchronous subcommands run on the concurrency pool while this thread waits,
// rather than through an `async` main: that would park the main thread in dispatch_main() for the
// life of the process, which costs start-up and cannot be measured under valgrind.

/// Carries an asynchronous command's outcome back to the waiting main thread.
private final class Outcome: @unchecked Sendable {
    var error: (any Error)?
}

/// Runs an asynchronous command to completion and returns its error, if any.
private func runToCompletion(_ command: any AsyncParsableCommand) -> (any Error)? {
    nonisolated(unsafe) var command = command
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await command.run() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    return outcome.error
}

// Messages name settings by their flags, and plugin code that ends the process exits with 3.
SettingSpelling.install()
PluginGuard.exitStatus = ExitCodes.plugin

// A plugin scanner (see PluginScanner): loads one plugin file and describes it, nothing else.
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == PluginScanner.childArgument {
    PluginScanner.runChild(CommandLine.arguments[2])
}

// `--version` names the package and the plugin ABI besides swift-argument-parser's version.
if CommandLine.arguments.dropFirst().elementsEqual(["--version"]) {
    print(VersionText.line(upstream: Inject.configuration.version))
    exit(0)
}

// A witness process for plugin endings no handler sees (`_exit`, a reset SIGSEGV), for commands
// that may call plugin code; while this is the only thread.
if WitnessedCommands.witnesses(CommandLine.arguments.dropFirst()) { PluginCallWitness.start() }

do {
    var command = try Inject.parseAsRoot()
    if let asynchronous = command as? any AsyncParsableCommand {
        if let error = runToCompletion(asynchronous) { Inject.exit(withError: error) }
    } else {
        try command.run()
    }
} catch {
    Inject.exit(withError: error)
}
