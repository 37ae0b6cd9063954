import ArgumentParser
import InjectHost

/// `inject`: inject hardware errors into Linux through backend plugins.
struct Inject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inject hardware errors into Linux through backend plugins.",
        discussion: """
            Backends (mce, ghes, edac, nmi, aer, cxl, and vendor plugins) are shared objects found on the plugin \
            search path: --plugin-path, INJECT_PLUGIN_PATH, plugin_path in the config file, the directory \
            of this executable, /usr/local/lib/inject/plugins, /usr/lib/inject/plugins.

            Parameters are name=value words after the backend name. Each can also come from the \
            environment (INJECT_<BACKEND>_<NAME>) or a JSON config file (--config, else \
            ~/.config/inject/config.json, then /etc/inject/config.json); the command line wins.

            Exit codes: 0 success; 1 a step failed on the target; 2 the target or lab could not be reached, started or stopped; 3 a plugin refused the request or \
            misbehaved; 4 the request needs --yes; 5 --verify or a campaign missed expected kernel events; \
            6 the journal could not be opened or written (--journal FILE or --no-journal); \
            64 bad command line, unknown backend or invalid parameter (nothing was executed); 130 a campaign was interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            ListCommand.self, InfoCommand.self, ProbeCommand.self, RunCommand.self, CampaignCommand.self,
            WatchCommand.self, CoverageCommand.self, JournalCommand.self, DecodeCommand.self, PluginsCommand.self,
            DoctorCommand.self, LabCommand.self, VictimCommand.self,
        ]
    )
}
