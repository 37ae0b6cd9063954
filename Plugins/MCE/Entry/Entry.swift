import InjectPluginAPI
import MCEKit

@_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(MCEBackend.self, e) }
