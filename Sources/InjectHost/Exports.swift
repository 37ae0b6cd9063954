// The system layer beneath the host (platform imports, files beneath a root, clocks, text,
// the QMP, IPMI and subprocess clients), visible to every file here and to every importer.
@_exported import InjectSystem
