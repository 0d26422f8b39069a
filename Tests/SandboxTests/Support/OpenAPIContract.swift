import Foundation
@testable import Sandbox

/// Reads the vendored `Tests/SandboxTests/Fixtures/rebilly/openapi-cashiers.json` (found from this
/// file's path; provenance and licence beside it) and checks response bodies against the
/// `required` lists and property types it declares. Nothing is copied by hand.
struct OpenAPIContract {
    let document: [String: Any]

    /// `Tests/SandboxTests/Fixtures/rebilly/openapi-cashiers.json`.
    static var fileURL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // SandboxTests
            .appendingPathComponent("Fixtures/rebilly/openapi-cashiers.json")
    }

    static func load() throws -> OpenAPIContract {
        let data = try Data(contentsOf: fileURL)
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ContractError("the contract is not a JSON object")
        }
        return OpenAPIContract(document: document)
    }

    struct ContractError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Follows a local `$ref` such as `#/components/schemas/Cashier`.
    func resolve(_ node: [String: Any]) throws -> [String: Any] {
        guard let ref = node["$ref"] as? String else { return node }
        var current: Any = document
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let next = (current as? [String: Any])?[String(part)] else { throw ContractError("dangling $ref \(ref)") }
            current = next
        }
        guard let resolved = current as? [String: Any] else { throw ContractError("$ref \(ref) is not an object") }
        return try resolve(resolved)
    }

    /// The response schema for an operation and status, e.g. ("/cashiers", "post", "201").
    func responseSchema(path: String, method: String, status: Int) throws -> [String: Any] {
        guard let paths = document["paths"] as? [String: Any],
              let item = paths[path] as? [String: Any],
              let operation = item[method] as? [String: Any],
              let responses = operation["responses"] as? [String: Any],
              let rawResponse = responses[String(status)] as? [String: Any]
        else { throw ContractError("the contract has no \(method.uppercased()) \(path) \(status)") }
        let response = try resolve(rawResponse)
        guard let content = response["content"] as? [String: Any],
              let json = content["application/json"] as? [String: Any],
              let schema = json["schema"] as? [String: Any]
        else { throw ContractError("\(method.uppercased()) \(path) \(status) has no JSON schema") }
        return try resolve(schema)
    }

    /// A named component schema.
    func schema(named name: String) throws -> [String: Any] {
        try resolve(["$ref": "#/components/schemas/\(name)"])
    }

    /// `required` and `properties` gathered through `allOf` and `$ref`.
    func flatten(_ schema: [String: Any]) throws -> (required: [String], properties: [String: [String: Any]], minProperties: Int) {
        let schema = try resolve(schema)
        var required = schema["required"] as? [String] ?? []
        var properties: [String: [String: Any]] = [:]
        for (name, raw) in schema["properties"] as? [String: Any] ?? [:] {
            if let property = raw as? [String: Any] { properties[name] = try resolve(property) }
        }
        var minProperties = schema["minProperties"] as? Int ?? 0
        for part in schema["allOf"] as? [[String: Any]] ?? [] {
            let sub = try flatten(part)
            required += sub.required
            properties.merge(sub.properties) { a, _ in a }
            minProperties = max(minProperties, sub.minProperties)
        }
        return (required, properties, minProperties)
    }

    /// Every way `body` breaks `schema`: a missing required member, too few members, a member of
    /// the wrong JSON type, or a value outside an integer property's minimum/maximum (e.g. problem `status`).
    func violations(of body: JSONValue, against rawSchema: [String: Any]) throws -> [String] {
        let schema = try resolve(rawSchema)
        if let type = schema["type"] as? String, type == "array" {
            guard case .array(let items) = body else { return ["expected an array, got \(body.typeName)"] }
            let itemSchema = try resolve(schema["items"] as? [String: Any] ?? [:])
            return try items.enumerated().flatMap { i, item in try violations(of: item, against: itemSchema).map { "[\(i)] \($0)" } }
        }
        guard case .object(let members) = body else { return ["expected an object, got \(body.typeName)"] }
        let (required, properties, minProperties) = try flatten(schema)
        var problems: [String] = []
        let present = Set(members.map(\.0))
        for name in required where !present.contains(name) { problems.append("missing required '\(name)'") }
        if members.count < minProperties { problems.append("fewer than \(minProperties) members") }
        for (name, value) in members {
            guard let property = properties[name] else { continue }
            let allowed = Self.types(of: property)
            if !allowed.isEmpty && !allowed.contains(where: { Self.matches(value, type: $0) }) {
                problems.append("'\(name)' is \(value.typeName), schema allows \(allowed.sorted())")
            }
            if case .number(let literal) = value, let n = Double(literal) {
                if let min = property["minimum"] as? Double, n < min { problems.append("'\(name)' below minimum \(min)") }
                if let max = property["maximum"] as? Double, n > max { problems.append("'\(name)' above maximum \(max)") }
            }
            if let enumeration = property["enum"] as? [String], case .string(let s) = value, !enumeration.contains(s) {
                problems.append("'\(name)' = \(s) not in \(enumeration)")
            }
        }
        return problems
    }

    static func types(of property: [String: Any]) -> [String] {
        if let one = property["type"] as? String { return [one] }
        return property["type"] as? [String] ?? []
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number):
            return true
        case ("integer", .number(let literal)):
            return Int(literal) != nil
        default:
            return false
        }
    }
}
