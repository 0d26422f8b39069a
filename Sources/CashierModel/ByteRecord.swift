/// Where one value of a `ByteRecord` lies in the reader's buffer.
public struct ValueSpan: Sendable {
    public enum Kind: UInt8, Sendable { case absent, text, number, list }
    public var kind: Kind
    /// Byte offsets in the record's buffer; for `.list`, item indices in `ByteRecord.items`.
    public var start: Int
    public var end: Int

    public static var absent: ValueSpan { ValueSpan(kind: .absent, start: 0, end: 0) }

    @inline(__always) public init(kind: Kind, start: Int, end: Int) {
        self.kind = kind
        self.start = start
        self.end = end
    }
}

/// One input record as byte ranges in the reader's buffer: no String is made for a cell
/// unless a typed row is asked for (`rawRecord()`), so the common case — a valid row
/// that is only counted and totalled — costs no allocation per cell.
///
/// A `ByteRecord` borrows the reader's buffer: it is valid only inside the callback
/// that receives it. A reader that had to take its general path (a JSON line with
/// escapes, an unknown key, a syntax error) hands over the finished `slow` record.
public struct ByteRecord {
    /// Physical line (1-based) where the record starts.
    public var line: Int
    /// The reader's buffer the spans point into.
    public var base: UnsafePointer<UInt8>
    /// Indexed by `Field.rawValue`.
    public var spans: [ValueSpan]
    /// The fields present, in the order the reader found them (CSV column order).
    public var order: [Field]
    /// Items of list values (JSON arrays of amounts); always `.text` or `.number`.
    public var items: [ValueSpan]
    /// Problems the reader found with the record as a whole (stray quotes, cell count).
    public var readIssues: [FieldIssue]
    /// The record as the general path read it, when the reader took that path.
    public var slow: RawRecord?

    public init() {
        line = 0
        base = UnsafePointer(bitPattern: 1)!
        spans = Array(repeating: .absent, count: Field.allCases.count)
        order = []
        order.reserveCapacity(Field.allCases.count)
        items = []
        readIssues = []
        slow = nil
    }

    /// Clears the record for reuse (keeps the storage).
    @inline(__always)
    public mutating func reset(line: Int, base: UnsafePointer<UInt8>) {
        self.line = line
        self.base = base
        if !order.isEmpty {
            for field in order { spans[field.rawValue] = .absent }
            order.removeAll(keepingCapacity: true)
        }
        if !items.isEmpty { items.removeAll(keepingCapacity: true) }
        if !readIssues.isEmpty { readIssues.removeAll(keepingCapacity: true) }
        slow = nil
    }

    /// Sets a field (the reader guarantees each field is set at most once).
    @inline(__always)
    public mutating func set(_ field: Field, _ span: ValueSpan) {
        spans[field.rawValue] = span
        order.append(field)
    }

    @inline(__always)
    public func bytes(_ span: ValueSpan) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + span.start, count: span.end - span.start)
    }

    /// The same record with its values as Strings, exactly as the general readers build
    /// it: a text that is not valid UTF-8 becomes a `FieldIssue` "is not valid UTF-8".
    public func rawRecord() -> RawRecord {
        if let slow { return slow }
        var record = RawRecord(line: line)
        record.readIssues = readIssues
        for field in order {
            let span = spans[field.rawValue]
            switch span.kind {
            case .absent:
                continue
            case .text:
                if let text = String(validating: bytes(span), as: UTF8.self) {
                    record[field] = .text(text)
                } else {
                    record.readIssues.append(FieldIssue(field: field.name, message: "is not valid UTF-8"))
                }
            case .number:
                record[field] = .number(String(decoding: bytes(span), as: UTF8.self))
            case .list:
                record[field] = .list(items[span.start..<span.end].map { item in
                    let text = String(decoding: bytes(item), as: UTF8.self)
                    return item.kind == .number ? .number(text) : .text(text)
                })
            }
        }
        return record
    }
}

/// What the fast check needs to know of a valid row: its currency and its figures.
public struct QuickValid: Sendable {
    public var currencySlot: Int
    public var balance: Int64
    public var bonusBalance: Int64
    public var pendingPayoutTotal: Int64
}

extension RowValidator {
    /// Decides on bytes whether `validate(record.rawRecord())` would accept the row,
    /// without making a String: returns the row's currency and figures when it would,
    /// nil when the row has a problem or anything unusual (non-ASCII text, a reader
    /// issue) — then the caller runs `validate` to get the verdict and its messages.
    ///
    /// It only ever answers "valid" for rows `validate` accepts (the differential tests
    /// hold it to that); every rejection message comes from `validate`.
    public func quickCheck(_ r: borrowing ByteRecord) -> QuickValid? {
        guard r.slow == nil, r.readIssues.isEmpty else { return nil }
        let base = r.base
        return r.spans.withUnsafeBufferPointer { spans -> QuickValid? in
            @inline(__always) func bytes(_ s: ValueSpan) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(start: base + s.start, count: s.end - s.start)
            }
            // Identity.
            let website = spans[Field.websiteId.rawValue], customer = spans[Field.customerId.rawValue]
            let currencySpan = spans[Field.currency.rawValue]
            guard website.kind == .text, customer.kind == .text, currencySpan.kind == .text,
                  Self.isPlainId(bytes(website)), Self.isPlainId(bytes(customer)),
                  currencySpan.end - currencySpan.start == 3,
                  let (slot, exponent) = Currency.lookup(base[currencySpan.start], base[currencySpan.start + 1], base[currencySpan.start + 2], in: currencyTable)
            else { return nil }

            // Money: -1 = absent, -2 = refused (a bad value ends the check).
            @inline(__always) func money(_ field: Field, _ atLeastOneHundredth: Bool) -> Int64 {
                let s = spans[field.rawValue]
                if s.kind == .absent { return -1 }
                guard s.kind != .list else { return -2 }
                return Self.amount(bytes(s), exponent, atLeastOneHundredth)
            }
            let balance = money(.balance, false)
            let bonusBalance = money(.bonusBalance, false)
            let pending = money(.pendingPayoutTotal, false)
            let limitsMin = money(.depositLimitsMinimum, true)
            let limitsMax = money(.depositLimitsMaximum, false)
            guard balance != -2, bonusBalance != -2, pending != -2, limitsMin != -2, limitsMax != -2,
                  limitsMin < 0 || limitsMax < 0 || limitsMin <= limitsMax else { return nil }
            let amountMin = money(.depositAmountLimitsMinimum, false)
            let amountMax = money(.depositAmountLimitsMaximum, false)
            guard amountMin != -2, amountMax != -2, amountMin < 0 || amountMax < 0 || amountMin <= amountMax else { return nil }

            // Text fields.
            @inline(__always) func urlOK(_ field: Field) -> Bool {
                let s = spans[field.rawValue]
                if s.kind == .absent { return true }
                return s.kind == .text && Self.isASCII(bytes(s)) && TextRules.urlProblem(bytes: bytes(s)) == nil
            }
            @inline(__always) func idOK(_ field: Field) -> Bool {
                let s = spans[field.rawValue]
                return s.kind == .absent || (s.kind == .text && Self.isPlainId(bytes(s)))
            }
            guard urlOK(.redirectUrl), urlOK(.notificationUrl), urlOK(.depositRedirectUrl), urlOK(.depositNotificationUrl),
                  idOK(.depositStrategyId), idOK(.depositCustomPropertySetId) else { return nil }
            let expiration = spans[Field.depositExpirationTime.rawValue]
            if expiration.kind != .absent {
                guard expiration.kind == .text, TextRules.dateTimeProblem(bytes: bytes(expiration)) == nil else { return nil }
            }

            // Deposit amounts: each ≥ 0.01 and within the limits that are set.
            @inline(__always) func within(_ value: Int64) -> Bool {
                (limitsMin < 0 || value >= limitsMin) && (limitsMax < 0 || value <= limitsMax)
            }
            let amountsSpan = spans[Field.depositAmounts.rawValue]
            @inline(__always) func depositAmount(_ item: UnsafeBufferPointer<UInt8>) -> Bool {
                let value = Self.amount(item, exponent, true)
                return value >= 0 && within(value) && (amountMin < 0 || value >= amountMin) && (amountMax < 0 || value <= amountMax)
            }
            switch amountsSpan.kind {
            case .absent:
                break
            case .number:
                guard depositAmount(bytes(amountsSpan)) else { return nil }
            case .text:
                // CSV: amounts separated by ';'.
                var start = amountsSpan.start
                var i = start
                while true {
                    if i == amountsSpan.end || base[i] == UInt8(ascii: ";") {
                        guard depositAmount(UnsafeBufferPointer(start: base + start, count: i - start)) else { return nil }
                        if i == amountsSpan.end { break }
                        start = i + 1
                    }
                    i += 1
                }
            case .list:
                var index = amountsSpan.start
                while index < amountsSpan.end {
                    guard depositAmount(bytes(r.items[index])) else { return nil }
                    index += 1
                }
            }

            // Custom amount: all three or none; maximum = minimum + k·multipleOf, k ≥ 1.
            let customMinSpan = spans[Field.depositCustomAmountMinimum.rawValue].kind
            let customMaxSpan = spans[Field.depositCustomAmountMaximum.rawValue].kind
            let customStepSpan = spans[Field.depositCustomAmountMultipleOf.rawValue].kind
            let present = (customMinSpan != .absent ? 1 : 0) + (customMaxSpan != .absent ? 1 : 0) + (customStepSpan != .absent ? 1 : 0)
            if present == 3 {
                let minimum = money(.depositCustomAmountMinimum, true)
                let maximum = money(.depositCustomAmountMaximum, true)
                let step = money(.depositCustomAmountMultipleOf, true)
                guard minimum >= 0, maximum >= 0, step >= 0 else { return nil }
                let span = maximum - minimum
                guard step > 0, span > 0, span % step == 0, within(minimum), within(maximum) else { return nil }
            } else if present != 0 {
                return nil
            }
            return QuickValid(currencySlot: slot, balance: max(balance, 0), bonusBalance: max(bonusBalance, 0),
                              pendingPayoutTotal: max(pending, 0))
        }
    }

    /// A money value that `amount(…)` would accept, in minor units; -2 otherwise.
    @inline(__always)
    static func amount(_ bytes: UnsafeBufferPointer<UInt8>, _ exponent: Int, _ atLeastOneHundredth: Bool) -> Int64 {
        let parsed = Amount.parseMinorUnits(bytes, exponent: exponent)
        guard parsed.error == nil, parsed.minorUnits >= 0,
              !atLeastOneHundredth || Amount.isAtLeastOneHundredth(parsed.minorUnits, exponent: exponent) else {
            return -2
        }
        return parsed.minorUnits
    }

    /// An id `idText` accepts (Rebilly's id pattern and length); anything else takes the
    /// general path, which says what is wrong.
    @inline(__always)
    static func isPlainId(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= TextRules.maxIdLength else { return false }
        for byte in bytes where !TextRules.isIdByte(byte) { return false }
        return true
    }

    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte >= 0x80 { return false }
        return true
    }
}
