/// An active ISO 4217 currency with its minor-unit exponent (JPY 0, USD 2, BHD 3, CLF 4).
///
/// The table holds ISO 4217 list one as in force in 2026, limited to codes that have
/// a minor unit. Precious metals, SDR and testing codes (XAU, XDR, XTS, XXX, …) have
/// no minor unit and are refused, as are withdrawn codes (HRK, ZWL, SLL, CUC, ANG, BGN).
/// Unknown codes fail closed: `Currency(code:)` returns nil.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// The three upper-case letters.
    public let code: String
    /// Number of decimal digits of the minor unit.
    public let exponent: Int

    public init?(code: String) {
        guard let exponent = Currency.exponents[code] else { return nil }
        self.code = code
        self.exponent = exponent
    }

    public var description: String { code }

    /// Every active code, sorted.
    public static var allCodes: [String] { exponents.keys.sorted() }

    /// Dense index of every active code (its rank in `allCodes`), so that totals and
    /// lookups on the hot path are array accesses instead of String hashing.
    public static let codesBySlot: [String] = allCodes
    public static var slotCount: Int { codesBySlot.count }

    /// The slot of this currency in `codesBySlot`.
    public var slot: Int { Currency.lookup(code).map { $0.slot } ?? 0 }

    /// The currency in slot `slot`.
    public init(slot: Int) {
        self.code = Currency.codesBySlot[slot]
        self.exponent = Currency.exponents[code]!
    }

    /// 26³ entries, one per upper-case three-letter code: `slot << 3 | exponent`, or -1
    /// for a code that is not an active ISO 4217 code with a minor unit.
    @usableFromInline static let packedTable: [Int16] = {
        var table = [Int16](repeating: -1, count: 26 * 26 * 26)
        for (slot, code) in codesBySlot.enumerated() {
            let b = Array(code.utf8)
            table[(Int(b[0]) - 65) * 676 + (Int(b[1]) - 65) * 26 + (Int(b[2]) - 65)] = Int16(slot << 3 | exponents[code]!)
        }
        return table
    }()

    /// Looks up three bytes (upper-case ASCII letters only; anything else is nil).
    @inline(__always)
    public static func lookup(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> (slot: Int, exponent: Int)? {
        lookup(b0, b1, b2, in: packedTable)
    }

    /// `lookup` with the table passed in (hoisted out of a hot loop: no lazy-global check per call).
    @inline(__always)
    public static func lookup(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, in packedTable: [Int16]) -> (slot: Int, exponent: Int)? {
        let i0 = Int(b0) &- 65, i1 = Int(b1) &- 65, i2 = Int(b2) &- 65
        guard i0 >= 0, i0 < 26, i1 >= 0, i1 < 26, i2 >= 0, i2 < 26 else { return nil }
        let packed = Int(packedTable[i0 * 676 + i1 * 26 + i2])
        guard packed >= 0 else { return nil }
        return (packed >> 3, packed & 7)
    }

    static func lookup(_ code: String) -> (slot: Int, exponent: Int)? {
        let b = Array(code.utf8)
        guard b.count == 3 else { return nil }
        return lookup(b[0], b[1], b[2])
    }

    static let exponents: [String: Int] = {
        var table: [String: Int] = [:]
        let twoDecimals = """
            AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD \
            CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP \
            GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK \
            LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO \
            NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS \
            SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST \
            XCD XCG YER ZAR ZMW ZWG
            """
        for code in twoDecimals.split(separator: " ") { table[String(code)] = 2 }
        for code in ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"] { table[code] = 0 }
        for code in ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"] { table[code] = 3 }
        for code in ["CLF", "UYW"] { table[code] = 4 }
        return table
    }()
}
