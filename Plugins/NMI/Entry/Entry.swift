import InjectPluginAPI
import NMIKit

@_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(NMIBackend.self, e) }
