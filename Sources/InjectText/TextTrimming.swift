extension StringProtocol {
    /// The text without leading and trailing characters from `set`.
    @inlinable
    public func trimmed(_ set: String = " \t\n\r") -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
