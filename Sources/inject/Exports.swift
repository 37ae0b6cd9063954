// The system layer (platform imports, standard error, text), visible to every file here.
@_exported import InjectSystem
