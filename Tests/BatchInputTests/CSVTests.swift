import Testing
@testable import BatchInput
@testable import CashierModel

@Suite struct CSVTests {
    @Test func quotedCommasQuotesAndNewlinesWithPhysicalLineNumbers() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", """
            websiteId,customerId,currency,redirectUrl
            web_1,"cus,1",USD,"https://x.example/a?b=1,2"
            web_1,"say ""hi""
            there",EUR,
            web_2,cus_3,GBP,

            """)
        let rows = try records(path)
        #expect(rows.map(\.line) == [2, 3, 5])
        #expect(text(rows[0], .customerId) == "cus,1")
        #expect(text(rows[0], .redirectUrl) == "https://x.example/a?b=1,2")
        #expect(text(rows[1], .customerId) == "say \"hi\"\nthere")
        #expect(rows[1][.redirectUrl] == nil)  // empty cell = absent
        #expect(text(rows[2], .currency) == "GBP")
    }

    @Test func crlfAndBOM() throws {
        let dir = try TempDir()
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("customerId,websiteId,currency\r\ncus_1,web_1,USD\r\n\"cus\r\n2\",web_1,\"EUR\"\r\n".utf8)
        let rows = try records(try dir.write("b.csv", bytes))
        #expect(rows.count == 2)
        #expect(text(rows[0], .customerId) == "cus_1")
        #expect(text(rows[0], .currency) == "USD")
        #expect(text(rows[1], .customerId) == "cus\r\n2")
        #expect(text(rows[1], .currency) == "EUR")
        #expect(rows.allSatisfy { $0.readIssues.isEmpty })
    }

    @Test func invalidUTF8IsARowErrorNotACrash() throws {
        let dir = try TempDir()
        let bytes = Array("websiteId,customerId,currency\nweb_1,cus_".utf8) + [0xC3, 0x28] + Array(",USD\nweb_1,cus_2,USD\n".utf8)
        let rows = try records(try dir.write("b.csv", bytes))
        #expect(rows.count == 2)
        #expect(rows[0].readIssues == [FieldIssue(field: "customerId", message: "is not valid UTF-8")])
        guard case let .rejected(line, found) = RowValidator().validate(rows[0]) else { Issue.record("accepted"); return }
        #expect(line == 2)
        #expect(found.first == FieldIssue(field: "customerId", message: "is not valid UTF-8"))
        #expect(rows[1].readIssues.isEmpty)
    }

    @Test func aOneMegabyteFieldIsRead() throws {
        let dir = try TempDir()
        let big = String(repeating: "x", count: 1 << 20)
        let rows = try records(try dir.write("b.csv", "websiteId,customerId,currency,redirectUrl\nweb_1,cus_1,USD,\"https://a.example/\(big)\"\nweb_1,cus_2,USD,\n"))
        #expect(rows.count == 2)
        #expect(text(rows[0], .redirectUrl)?.utf8.count == (1 << 20) + 18)
        #expect(rows[1].line == 3)
    }

    @Test func emptyFileAndHeaderOnly() throws {
        let dir = try TempDir()
        #expect(throws: BatchError.self) { try records(try dir.write("empty.csv", "")) }
        do {
            _ = try records(try dir.write("empty.csv", ""))
        } catch let error as BatchError {
            #expect(error.kind == .badHeader)
            #expect(error.detail == "the file is empty: a CSV batch needs a header row")
        }
        #expect(try records(try dir.write("h.csv", "websiteId,customerId,currency\n")).isEmpty)
        #expect(try records(try dir.write("h2.csv", "websiteId,customerId,currency")).isEmpty)
    }

    @Test func unknownColumnIsAnErrorForTheWholeFile() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", "websiteId,customerId,currency,balanse\nweb_1,cus_1,USD,10\n")
        do {
            _ = try records(path)
            Issue.record("accepted a typo in the header")
        } catch let error as BatchError {
            #expect(error.kind == .badHeader)
            #expect(error.detail.hasPrefix("line 1: unknown column \"balanse\"; known columns: websiteId, customerId, currency, balance,"))
        }
        do {
            _ = try records(try dir.write("m.csv", "websiteId,currency\nweb_1,USD\n"))
            Issue.record("accepted a header without customerId")
        } catch let error as BatchError {
            #expect(error.detail == "line 1: required column customerId missing from the header")
        }
    }

    @Test func wrongCellCountAndStrayQuotes() throws {
        let dir = try TempDir()
        let rows = try records(try dir.write("b.csv", "websiteId,customerId,currency\nweb_1,cus_1\nweb_1,cu\"s_2,USD\nweb_1,\"cus_3\"x,USD\n"))
        #expect(rows[0].readIssues == [FieldIssue(field: "row", message: "has 2 cells but the header has 3")])
        #expect(rows[1].readIssues == [FieldIssue(field: "row", message: "a double quote inside an unquoted field (quote the whole field and double the quote)")])
        #expect(text(rows[1], .customerId) == "cu\"s_2")
        #expect(rows[2].readIssues == [FieldIssue(field: "row", message: "text after the closing quote of a quoted field")])
    }

    @Test func anUnclosedQuoteIsAFileError() throws {
        let dir = try TempDir()
        let path = try dir.write("b.csv", "websiteId,customerId,currency\nweb_1,cus_1,USD\nweb_1,\"cus_2,USD\nweb_1,cus_3,USD\n")
        do {
            _ = try records(path)
            Issue.record("accepted")
        } catch let error as BatchError {
            #expect(error.kind == .malformed)
            #expect(error.lastCompleteLine == 2)
            #expect(error.detail == "the quoted field of the record starting at line 3 is never closed; the rest of the file would be inside it")
        }
    }

    @Test func recordsSpanningChunkBoundariesKeepTheirBytes() throws {
        // More than one 1 MiB read: rows cross chunk edges at every offset pattern.
        let dir = try TempDir()
        var csv = "websiteId,customerId,currency,redirectUrl\r\n"
        for i in 0..<30_000 { csv += "web_\(i % 7),\"cus_\(i)\",USD,\"https://r.example/\(i)?a=1,b=\"\"q\"\"\"\r\n" }
        let rows = try records(try dir.write("b.csv", csv))
        #expect(rows.count == 30_000)
        for i in stride(from: 0, to: 30_000, by: 1) {
            #expect(text(rows[i], .customerId) == "cus_\(i)")
            #expect(text(rows[i], .redirectUrl) == "https://r.example/\(i)?a=1,b=\"q\"")
            #expect(rows[i].line == i + 2)
            if text(rows[i], .customerId) != "cus_\(i)" { break }
        }
    }
}
