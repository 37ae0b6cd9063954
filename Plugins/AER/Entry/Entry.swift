import AERKit
import InjectPluginAPI

@_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(AERBackend.self, e) }
