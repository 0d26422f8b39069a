import Hummingbird

/// `HTTPTypes.HTTPField`, reached through `HTTPFields` (Hummingbird re-exports only the latter).
typealias HeaderField = HTTPFields.Element

/// A JSON response under construction: status, extra headers and body.
struct JSONResponse: Sendable {
    var status: Int
    var body: JSONValue
    var headers: [(String, String)] = []
    /// Text sent as it is instead of `body`, with its content type (`--echo-key`'s pages).
    var verbatim: (contentType: String, text: String)?

    func response() -> Response {
        var fields = HTTPFields()
        fields[.contentType] = verbatim?.contentType ?? "application/json"
        for (name, value) in headers {
            if let field = HeaderField.Name(name) { fields.append(HeaderField(name: field, value: value)) }
        }
        let text = verbatim?.text ?? JSONWriter.write(body)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
