import Foundation
import Sandbox
import Testing
@testable import RebillyClient

/// A distinctive key with the characters encodings change (`/`, `+`, `=`).
let echoedKey = "cbkey_Kn0wLeak7Q/9fQzR7vWx+Tp4Xw2mYb8Hc="

/// The pieces of `key` no text may hold: the key, its percent-encoded form, and every run of
/// 8 or more letters and digits in it (any spelling or cut of the key keeps those), case folded.
func keyTraces(_ text: String, key: String = echoedKey) -> [String] {
    let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
    let runs = key.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).map(String.init).filter { $0.count >= 8 }
    let lowered = text.lowercased()
    return ([key, encoded] + runs).filter { lowered.contains($0.lowercased()) }
}

@Suite("The key is scrubbed from server text")
struct KeyScrubTests {
    let key = try! APIKey(echoedKey)
    let marker = APIKey.redactionMarker

    @Test("the key as it is, in any letter case, and inside a longer word")
    func exact() {
        #expect(key.scrub("Invalid credentials: \(echoedKey)") == "Invalid credentials: \(marker)")
        #expect(key.scrub("key=\(echoedKey.uppercased())&k2=\(echoedKey.lowercased())") == "key=\(marker)&k2=\(marker)")
        #expect(key.scrub("prefix\(echoedKey)suffix") == "prefix\(marker)suffix")
        #expect(key.scrub("\(echoedKey)\(echoedKey)") == marker + marker)
    }

    @Test("percent-encoded: either hex case, partly, or twice")
    func percentEncoded() {
        let upper = "cbkey_Kn0wLeak7Q%2F9fQzR7vWx%2BTp4Xw2mYb8Hc%3D"
        let lower = "cbkey_Kn0wLeak7Q%2f9fQzR7vWx%2bTp4Xw2mYb8Hc%3d"
        let slashKept = "cbkey_Kn0wLeak7Q/9fQzR7vWx%2BTp4Xw2mYb8Hc%3D"
        let twice = "cbkey_Kn0wLeak7Q%252F9fQzR7vWx%252BTp4Xw2mYb8Hc%253D"
        let everything = echoedKey.utf8.map { String(format: "%%%02X", $0) }.joined()
        for form in [upper, lower, slashKept, twice, everything] {
            #expect(key.scrub("https://login.example/?key=\(form)&next=%2F") == "https://login.example/?key=\(marker)&next=%2F", "\(form)")
        }
    }

    @Test("JSON-escaped (\\/ as PHP writes it, \\u escapes) and HTML character references")
    func escaped() {
        let php = #"cbkey_Kn0wLeak7Q\/9fQzR7vWx+Tp4Xw2mYb8Hc="#
        let unicode = #"cbkey_Kn0wLeak7Q\u002f9fQzR7vWx\u002BTp4Xw2mYb8Hc\u003d"#
        let html = "cbkey_Kn0wLeak7Q&#x2F;9fQzR7vWx&#43;Tp4Xw2mYb8Hc&#61;"
        for form in [php, unicode, html] {
            #expect(key.scrub(#"{"detail":"key \#(form) refused"}"#) == #"{"detail":"key \#(marker) refused"}"#, "\(form)")
        }
        let ampersand = try! APIKey("a&b<c>d\"e'f/g\\h-long-enough")
        #expect(ampersand.scrub(#"x a&amp;b&lt;c&GT;d&quot;e&apos;f\/g\\h-long-enough y"#) == "x \(marker) y")
        #expect(ampersand.scrub(#"x "a&b<c>d\"e'f/g\\h-long-enough" y"#) == #"x "\#(marker)" y"#)
    }

    @Test("the key file's raw text (the key and its newline) goes with the key")
    func keyFileText() {
        #expect(key.scrub("file said: \(echoedKey)\n!") == "file said: \(marker)\n!")
        #expect(key.scrub(#"{"echo":"\#(echoedKey)\n"}"#) == #"{"echo":"\#(marker)\n"}"#)
    }

    @Test("text without the key is returned as it is; a near miss is kept")
    func untouched() {
        let text = "HTTP 422 Validation error: Invalid data sent (customerId: not found) 50% off &amp; \\u0041"
        #expect(key.scrub(text) == text)
        let almost = String(echoedKey.dropLast())
        #expect(key.scrub(almost) == almost)
        #expect(key.scrub(Array(text.utf8)) == Array(text.utf8))
        #expect(key.scrub("") == "")
    }

    @Test("a body's bytes")
    func bytes() {
        let body = Array("<html><p>refused \(echoedKey)</p></html>".utf8)
        #expect(String(decoding: key.scrub(body), as: UTF8.self) == "<html><p>refused \(marker)</p></html>")
    }
}

/// A sandbox that echoes the key, in each of its ways: what the client hands out never holds it.
@Suite("A server that echoes the key")
struct KeyEchoClientTests {
    func echo<T>(_ mode: EchoKeyMode, key: String = echoedKey, _ body: (RebillyClient) async throws -> T) async throws -> T {
        try await withSandbox({ $0.apiKey = key; $0.echoKey = mode }) { client, _ in try await body(client) }
    }

    @Test("422: detail (written with \\/) and the invalidFields message (percent-encoded)")
    func invalidFields() async throws {
        let error = try #require(try await echo(.invalidFields) { client in
            await rebillyError { try await client.createCashier(body: cashierBody(customer: "cus_1")) }
        })
        #expect(error.status == 422)
        #expect(keyTraces(error.description).isEmpty, "\(error)")
        guard case let .problem(_, _, detail, fields, _, _) = error else { Issue.record("\(error)"); return }
        #expect(detail == "Invalid data sent with API key \(APIKey.redactionMarker)")
        #expect(fields.map(\.message) == ["was refused for REB-APIKEY=\(APIKey.redactionMarker)"])
    }

    @Test("401: the refused key in detail")
    func unauthorized() async throws {
        let error = try #require(try await echo(.unauthorized) { client in await rebillyError { try await client.getCashier(id: "cashier_1") } })
        guard case let .problem(status, title, detail, _, _, _) = error else { Issue.record("\(error)"); return }
        #expect(status == 401 && title == "Unauthorized")
        #expect(detail == "Invalid credentials: \(APIKey.redactionMarker)")
    }

    @Test("302: the Location of a login page")
    func redirect() async throws {
        let error = try #require(try await echo(.redirect) { client in
            await rebillyError { try await client.createDepositRequest(body: depositBody(customer: "cus_1")) }
        })
        guard case let .misdirected(status, _, location, _) = error else { Issue.record("\(error)"); return }
        #expect(status == 302 && location == "https://login.example/?key=\(APIKey.redactionMarker)")
        #expect(keyTraces(error.description).isEmpty, "\(error)")
    }

    @Test("502: an HTML error page, quoted up to 200 characters; a long key that spans the cut is not half kept")
    func errorPage() async throws {
        // The page quotes the key from its 126th character: this one ends past the 200th.
        let longKey = echoedKey + "_Zr5Qm8Lw3Vn6Jp9Tc2Hx7Bd4Fy1Gk0Ms5Pu8We3Ra6Ne"
        let error = try #require(try await echo(.errorPage, key: longKey) { client in
            await rebillyError { try await client.listDepositRequests(customerId: "cus_1", websiteId: "web_1") }
        })
        guard case let .problem(status, _, detail, _, _, _) = error else { Issue.record("\(error)"); return }
        #expect(status == 502)
        #expect(detail?.contains("The upstream refused REB-APIKEY \(APIKey.redactionMarker).") == true, "\(String(describing: detail))")
        #expect(keyTraces(error.description, key: longKey).isEmpty, "\(error)")
    }
}
