import CashierModel

/// The most bytes read from a batch that is a stream (a pipe, a FIFO, a character device,
/// `<(…)`): a stream is copied to a temporary file as it is read, so without a cap an endless
/// one (`/dev/zero`, `yes |`) would fill the disk. More than `bytes` refuses the batch (exit 65).
/// A regular file is read in place and has no cap.
public struct StreamCap: Sendable, Equatable, CustomStringConvertible {
    public var bytes: Int64

    /// 2 GiB: a 1,000,000-row night (235 MB as CSV, 457 MB as JSON Lines through `<(zcat …)`)
    /// stays far under it, while an endless stream costs `run` (which hashes a batch before
    /// parsing it) at most 2 GiB of temporary disk and of SHA-256 before it is refused.
    public static let `default` = StreamCap(bytes: 2 << 30)

    /// The option (of `validate` and `run`) that sets the cap, named in the error and the help.
    public static let optionName = "--max-stream-bytes"

    public init(bytes: Int64) {
        precondition(bytes > 0, "a stream cap is at least one byte")
        self.bytes = bytes
    }

    private static let units: [(suffix: String, shift: Int64)] = [
        ("tib", 40), ("t", 40), ("gib", 30), ("g", 30), ("mib", 20), ("m", 20), ("kib", 10), ("k", 10), ("b", 0),
    ]

    /// A size as the option takes it: bytes (`1048576`) or a whole number of binary units
    /// (`8MiB`, `4GiB`, `512K`, `1T`; case and a space before the unit do not matter).
    public init(parsing text: String) throws(StreamCapError) {
        let lowered = text.lowercased().filter { $0 != " " }
        var digits = Substring(lowered)
        var shift: Int64 = 0
        for unit in Self.units where lowered.hasSuffix(unit.suffix) {
            digits = lowered.dropLast(unit.suffix.count)
            shift = unit.shift
            break
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let count = Int64(digits) else {
            throw StreamCapError(text: text, reason: "is not a size: give bytes, or a whole number of KiB, MiB, GiB or TiB (8MiB, 4GiB)")
        }
        guard count > 0 else { throw StreamCapError(text: text, reason: "must be more than 0") }
        guard count <= Int64.max >> shift else { throw StreamCapError(text: text, reason: "is too large") }
        self.init(bytes: count << shift)
    }

    /// `4 GiB`, `8 MiB`, `1500 bytes`: the largest binary unit that divides the cap.
    public var description: String {
        let (count, unit) = inLargestUnit
        return "\(count) \(unit ?? "bytes")"
    }

    /// The cap as the option spells it (`4GiB`, `1500`), for the help's default and `--print-config`.
    public var argument: String {
        let (count, unit) = inLargestUnit
        return "\(count)\(unit ?? "")"
    }

    private var inLargestUnit: (Int64, String?) {
        for (name, shift) in [("TiB", Int64(40)), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes % (1 << shift) == 0 {
            return (bytes >> shift, name)
        }
        return (bytes, nil)
    }
}

/// A `--max-stream-bytes` value that is not a size.
public struct StreamCapError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "\"\(Printable.text(text, limit: 60))\" \(reason)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
