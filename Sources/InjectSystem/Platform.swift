@_exported import InjectText
@_exported import SystemPackage

// The one place the C library is imported: every file of this target, and every target that
// imports InjectSystem, sees it from here (swift-system's Internals/Exports.swift does the same).
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#endif
