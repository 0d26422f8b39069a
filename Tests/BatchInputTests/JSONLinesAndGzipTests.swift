import Testing
@testable import BatchInput
@testable import CashierModel

@Suite struct JSONLinesTests {
    @Test func nestedFieldsNumbersAndStrings() throws {
        let dir = try TempDir()
        let path = try dir.write("b.jsonl", """
            {"websiteId":"web_1","customerId":"cus_1","currency":"EUR","balance":120.50,"bonusBalance":"0","depositLimits":{"minimum":"10","maximum":5000},"deposit":{"amounts":[20,"50.00"],"customAmount":{"minimum":10,"maximum":1000,"multipleOf":10},"amountLimits":null}}

            {"websiteId":"web_1","customerId":"cus_2","currency":"JPY","redirectUrl":null}
            """)
        let rows = try records(path)
        #expect(rows.map(\.line) == [1, 3])
        #expect(rows[0][.balance] == .number("120.50"))
        #expect(rows[0][.bonusBalance] == .text("0"))
        #expect(rows[0][.depositLimitsMaximum] == .number("5000"))
        #expect(rows[0][.depositAmounts] == .list([.number("20"), .text("50.00")]))
        #expect(rows[0][.depositCustomAmountMultipleOf] == .number("10"))
        #expect(rows[1][.redirectUrl] == nil)
        guard case let .valid(row) = RowValidator().validate(rows[0]) else { Issue.record("rejected"); return }
        #expect(row.cashier.balance?.description == "120.50")
        #expect(row.deposit.amounts?.map(\.description) == ["20.00", "50.00"])
    }

    @Test func unknownKeysAndBadLinesRejectOnlyThatRow() throws {
        let dir = try TempDir()
        let path = try dir.write("b.jsonl", """
            {"websiteId":"web_1","customerId":"cus_1","currency":"USD","balanse":10,"deposit":{"amount":[1]}}
            {"websiteId":"web_1","customerId":"cus_2",
            [1,2]
            {"websiteId":"web_1","customerId":"cus_3","currency":"USD","currency":"EUR","depositLimits":7}
            {"websiteId":"web_1","customerId":"cus_4","currency":"USD","balance":true}
            {"websiteId":"web_1","customerId":"cus_5","currency":"USD"}
            """)
        let rows = try records(path)
        #expect(rows.count == 6)
        #expect(rows[0].readIssues == [FieldIssue(field: "balanse", message: "unknown field"), FieldIssue(field: "deposit.amount", message: "unknown field")])
        #expect(rows[1].unreadable)
        #expect(rows[1].readIssues == [FieldIssue(field: "row", message: "invalid JSON at byte 43: expected a member name in double quotes")])
        #expect(rows[2].readIssues == [FieldIssue(field: "row", message: "must be a JSON object, not an array")])
        #expect(rows[3].readIssues == [FieldIssue(field: "currency", message: "appears twice in the object"), FieldIssue(field: "depositLimits", message: "must be an object, not a number")])
        #expect(rows[4].readIssues == [FieldIssue(field: "balance", message: "must be a string or a number, not a boolean")])
        #expect(rows[5].readIssues.isEmpty)
        guard case let .rejected(line, found) = RowValidator().validate(rows[1]) else { Issue.record("accepted"); return }
        #expect(line == 2)
        #expect(found.count == 1)
    }
}

@Suite struct GzipTests {
    let csv = "websiteId,customerId,currency\n" + (0..<5000).map { "web_1,cus_\($0),USD\n" }.joined()

    @Test func gzipIsDetectedByMagicBytesWhateverTheName() throws {
        let dir = try TempDir()
        let path = try dir.write("batch.csv.gz", try gzip(Array(csv.utf8)))
        #expect(try BatchReader(path: path).format == BatchFormat(syntax: .csv, gzip: true))
        let renamed = try dir.write("batch-no-extension", try gzip(Array("{\"websiteId\":\"w\",\"customerId\":\"c\",\"currency\":\"USD\"}\n".utf8)))
        #expect(try BatchReader(path: renamed).format == BatchFormat(syntax: .jsonLines, gzip: true))
        let rows = try records(path)
        #expect(rows.count == 5000)
        #expect(text(rows[4999], .customerId) == "cus_4999")
    }

    @Test func multiMemberGzipReadsEveryMember() throws {
        let dir = try TempDir()
        let first = try gzip(Array("websiteId,customerId,currency\nweb_1,cus_1,USD\n".utf8))
        let second = try gzip(Array("web_1,cus_2,EUR\n".utf8))
        let third = try gzip(Array("web_1,cus_3,GBP\n".utf8))
        let rows = try records(try dir.write("cat.csv.gz", first + second + third))
        #expect(rows.map { text($0, .customerId) } == ["cus_1", "cus_2", "cus_3"])
        #expect(rows.map(\.line) == [2, 3, 4])
    }

    @Test func truncatedGzipIsAnErrorNamingTheLastCompleteLine() throws {
        let dir = try TempDir()
        let full = try gzip(Array(csv.utf8))
        let path = try dir.write("cut.csv.gz", Array(full.prefix(full.count / 2)))
        var seen = 0
        do {
            try BatchReader(path: path).forEachRecord { _ in seen += 1 }
            Issue.record("a truncated stream was read as a shorter file")
        } catch let error as BatchError {
            #expect(error.kind == .truncatedCompression)
            #expect(error.lastCompleteLine != nil)
            // The rows delivered are exactly the complete lines before the cut (header is line 1).
            #expect(error.lastCompleteLine! >= seen)
            #expect(error.description.contains("gzip stream is truncated"))
            #expect(error.description.hasSuffix("(last complete line: \(error.lastCompleteLine!))"))
        }
        // Cutting only the 8-byte trailer (CRC + size) is still truncation.
        let trailerless = try dir.write("t.csv.gz", Array(full.dropLast(4)))
        #expect(throws: BatchError.self) { try records(trailerless) }
    }

    @Test func corruptGzipIsAnError() throws {
        let dir = try TempDir()
        var bytes = try gzip(Array(csv.utf8))
        for i in stride(from: 40, to: bytes.count - 20, by: 50) { bytes[i] ^= 0x5A }
        let path = try dir.write("bad.csv.gz", bytes)
        do {
            _ = try records(path)
            Issue.record("accepted a corrupt stream")
        } catch let error as BatchError {
            #expect(error.kind == .corruptCompression)
            #expect(error.detail.hasPrefix("gzip stream is corrupt: "))
        }
        // Garbage after the last member is not silently ignored either.
        let tail = try dir.write("tail.csv.gz", try gzip(Array(csv.utf8)) + Array("not gzip".utf8))
        #expect(throws: BatchError.self) { try records(tail) }
    }
}

@Suite struct SHA256Tests {
    func hex(_ text: String) -> String { var h = SHA256(); h.update(Array(text.utf8)); return h.hexDigest() }

    @Test func knownVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { h.update(chunk) }
        #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func fileHashIsTheSameAsTheStreamHash() throws {
        let dir = try TempDir()
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try dir.write("x.bin", bytes)
        var h = SHA256()
        h.update(bytes)
        #expect(try BatchFile(path: path).sha256() == h.hexDigest())
    }
}
