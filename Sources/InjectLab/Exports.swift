// The system layer (platform imports, files, clocks, text, clients), visible to every file here.
@_exported import InjectSystem
