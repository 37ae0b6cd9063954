// Hex and number text shared with the host: one home, used by every format here.
@_exported import InjectText
