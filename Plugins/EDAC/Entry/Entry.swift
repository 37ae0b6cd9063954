import InjectPluginAPI
import EDACKit

@_cdecl("inject_plugin_entry") public func entry(_ e: PluginEntry) -> Int32 { export(EDACBackend.self, e) }
