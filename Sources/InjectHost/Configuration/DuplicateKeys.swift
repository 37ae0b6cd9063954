/// Finds object keys given twice in JSON text (a decoder keeps one of them silently): a
/// configuration file with `"require_pinned"` twice must not be read as the user did not mean.
enum DuplicateKeys {
    /// The first repeated key, as a dotted path (`backends.mce.cpu`), or `nil`.
    static func first(in bytes: [UInt8]) -> String? {
        var frames: [(keys: Set<String>, path: String, isObject: Bool, expectingKey: Bool)] = []
        var lastKey = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                var end = index + 1
                var text: [UInt8] = []
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\"), end + 1 < bytes.count {
                        text.append(bytes[end])
                        end += 1
                    }
                    text.append(bytes[end])
                    end += 1
                }
                if var frame = frames.last, frame.isObject, frame.expectingKey {
                    let key = String(decoding: text, as: UTF8.self)
                    guard frame.keys.insert(key).inserted else {
                        return frame.path.isEmpty ? key : frame.path + "." + key
                    }
                    frame.expectingKey = false
                    frames[frames.count - 1] = frame
                    lastKey = key
                }
                index = end
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let parent = frames.last
                let path =
                    parent.map { $0.isObject ? ($0.path.isEmpty ? lastKey : $0.path + "." + lastKey) : $0.path } ?? ""
                frames.append(([], path, byte == UInt8(ascii: "{"), byte == UInt8(ascii: "{")))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !frames.isEmpty { frames.removeLast() }
            case UInt8(ascii: ","):
                if var frame = frames.last, frame.isObject {
                    frame.expectingKey = true
                    frames[frames.count - 1] = frame
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
