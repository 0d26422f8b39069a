/// One entry of a Rebilly 422 body's `invalidFields`: a dot-notation field path and a message.
struct InvalidField: Sendable, Equatable {
    var field: String
    var message: String

    var json: JSONValue { .object([("field", .string(field)), ("message", .string(message))]) }
}

/// Thrown by the body validators: the request is well-formed JSON but breaks the contract.
struct ValidationFailure: Error, Sendable {
    var fields: [InvalidField]
}
