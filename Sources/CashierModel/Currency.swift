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
