/// A cell as the reader found it, before validation gives it a type.
public enum RawValue: Hashable, Sendable {
    /// A CSV cell or a JSON string.
    case text(String)
    /// A JSON number, kept as its literal text so that no digit is lost.
    case number(String)
    /// A JSON array (only `deposit.amounts` may be one).
    case list([RawValue])
    /// A JSON value of a type no field accepts (`true`, an object where a scalar belongs, …).
    case unexpected(kind: String)

    /// The text of a scalar (string or number literal).
    public var scalarText: String? {
        switch self {
        case let .text(text), let .number(text): return text
        default: return nil
        }
    }
}

/// One input record: the values of the known fields, plus what the reader already
/// found wrong with it (an unknown JSON key, invalid UTF-8, a malformed line).
public struct RawRecord: Sendable, Equatable {
    /// Physical line (1-based) where the record starts.
    public var line: Int
    /// Indexed by `Field.rawValue`; nil = absent (an empty CSV cell or a JSON null).
    public var values: [RawValue?]
    /// Problems found while reading; validation adds its own after them.
    public var readIssues: [FieldIssue]
    /// True when the record could not be parsed at all (a malformed JSON line): its
    /// read issues are the whole story and no field rule is checked.
    public var unreadable = false

    public init(line: Int) {
        self.line = line
        self.values = Array(repeating: nil, count: Field.allCases.count)
        self.readIssues = []
    }

    public subscript(field: Field) -> RawValue? {
        get { values[field.rawValue] }
        set { values[field.rawValue] = newValue }
    }

    /// Clears the record for reuse (keeps the storage).
    public mutating func reset(line: Int) {
        self.line = line
        for index in values.indices { values[index] = nil }
        if !readIssues.isEmpty { readIssues.removeAll(keepingCapacity: true) }
        unreadable = false
    }
}
