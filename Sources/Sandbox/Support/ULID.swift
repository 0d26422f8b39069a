import Foundation

/// Generates 26-character ULIDs (48-bit millisecond time + 80 random bits, Crockford base32),
/// the id format Rebilly uses after its `cashier_` / `dep_req_` prefixes.
/// Ids made within the same millisecond increase monotonically.
struct ULIDGenerator: Sendable {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private var lastMillis: UInt64 = 0
    private var lastRandom: (hi: UInt16, lo: UInt64) = (0, 0)
    private var rng = SystemRandomNumberGenerator()

    mutating func next(now: Date = Date()) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        if millis <= lastMillis {
            // Same (or earlier) millisecond: increment the random part to keep ids ordered.
            let (lo, overflow) = lastRandom.lo.addingReportingOverflow(1)
            lastRandom = (overflow ? lastRandom.hi &+ 1 : lastRandom.hi, lo)
        } else {
            lastMillis = millis
            lastRandom = (UInt16(truncatingIfNeeded: rng.next()), rng.next())
        }
        return Self.encode(millis: lastMillis, hi: lastRandom.hi, lo: lastRandom.lo)
    }

    static func encode(millis: UInt64, hi: UInt16, lo: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 26)
        // 10 chars of time (50 bits, top 2 zero), 16 chars of randomness (80 bits).
        var t = millis & 0xFFFF_FFFF_FFFF
        for i in stride(from: 9, through: 0, by: -1) {
            out[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
        var lo = lo
        var hi = UInt64(hi)
        for i in stride(from: 25, through: 10, by: -1) {
            out[i] = alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }
}
