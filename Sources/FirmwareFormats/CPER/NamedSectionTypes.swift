/// Section types the kernel knows by name but this library carries as raw bytes: their records are
/// composed by the backends that know them (the cxl backend's component events and protocol
/// errors), and the kernel's CPER printer (6.3 and later) names them instead of printing them as
/// unknown. Component events go to their driver instead of the non_standard_event tracepoint;
/// protocol errors go to the tracepoint before 6.15 and to the CXL driver after, so neither is
/// expected of them.
public enum NamedSectionTypes {
    /// The type and the name the kernel prints (`section_type: CXL General Media Event`).
    public static let all: [(type: GUID, name: String)] = [
        (GUID("FBCD0A77-C260-417F-85A9-088B1621EBA6")!, "CXL General Media Event"),
        (GUID("601DCBB3-9C06-4EAB-B8AF-4E9BFB5C9624")!, "CXL DRAM Event"),
        (GUID("FE927475-DD59-4339-A586-79BAB113B774")!, "CXL Memory Module Event"),
        (GUID("80B9EFB4-52B5-4DE3-A777-68784B771048")!, "CXL Protocol Error"),
    ]

    /// The kernel's name for `type`, or `nil` for a type it does not know.
    public static func name(_ type: GUID) -> String? { all.first { $0.type == type }?.name }
}
