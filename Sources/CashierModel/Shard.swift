/// `--shard i/N`: which of N processes (e.g. Kubernetes indexed pods) a row belongs to.
///
/// A row belongs to shard `fnv1a64(UTF-8 bytes of customerId) mod N` — FNV-1a, 64 bit
/// (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the customerId exactly as
/// the batch wrote it. The function has no seed, so a customer lands in the same shard on
/// every machine and every night, and all its rows (every website and currency) go
/// to the same pod. A row without a customerId (rejected anyway) belongs to shard 0.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1 else { throw ShardError("the number of shards must be at least 1") }
        guard index >= 0, index < count else { throw ShardError("shard index \(index) must be 0…\(count - 1) for \(count) shards") }
        self.index = index
        self.count = count
    }

    /// Parses `i/N`, e.g. `0/4`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError("shard \"\(text)\" must look like i/N, e.g. 0/4")
        }
        try self.init(index: i, count: n)
    }

    public static func fnv1a64<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The shard of `count` a customer belongs to (no customerId: shard 0).
    public static func shard(ofCustomerID customerID: String?, count: Int) -> Int {
        guard let customerID else { return 0 }
        return Int(fnv1a64(customerID.utf8) % UInt64(count))
    }

    public func owns(customerID: String?) -> Bool {
        Self.shard(ofCustomerID: customerID, count: count) == index
    }

    public var description: String { "\(index)/\(count)" }
}

public struct ShardError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
