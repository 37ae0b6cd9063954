import GHESKit
import InjectPluginAPI

@_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(GHESBackend.self, e) }
