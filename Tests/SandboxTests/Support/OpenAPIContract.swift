import Foundation
@testable import Sandbox

/// Reads the vendored `Tests/SandboxTests/Fixtures/rebilly/openapi-cashiers.json` (cut from
/// Rebilly/api-definitions at a pinned commit; provenance beside it) and checks response bodies
/// against the schemas it declares. Nothing is copied by hand.
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

    /// The operation object at a path and method, e.g. ("/deposit-requests", "get").
    func operation(path: String, method: String) throws -> [String: Any] {
        guard let paths = document["paths"] as? [String: Any], let item = paths[path] as? [String: Any],
              let operation = item[method] as? [String: Any]
        else { throw ContractError("the contract has no \(method.uppercased()) \(path)") }
        return operation
    }

    /// The schema of an operation's query parameter, e.g. `offset` of GET /deposit-requests.
    func parameterSchema(path: String, method: String, name: String) throws -> [String: Any] {
        for raw in try operation(path: path, method: method)["parameters"] as? [[String: Any]] ?? [] {
            let parameter = try resolve(raw)
            if parameter["name"] as? String == name, let schema = parameter["schema"] as? [String: Any] { return try resolve(schema) }
        }
        throw ContractError("\(method.uppercased()) \(path) has no parameter \(name)")
    }

    /// The members of a component schema marked `x-sortable` (directly or through their `$ref`).
    func sortableMembers(of name: String) throws -> Set<String> {
        let (_, properties, _, _) = try flatten(schema(named: name))
        return Set(properties.filter { $0.value["x-sortable"] as? Bool == true }.keys)
    }

    /// `required`, `properties`, `minProperties` and whether other members are allowed
    /// (`additionalProperties`, or no `properties` at all), gathered through `allOf` and `$ref`.
    func flatten(_ schema: [String: Any]) throws -> (required: [String], properties: [String: [String: Any]], minProperties: Int, open: Bool) {
        let schema = try resolve(schema)
        var required = schema["required"] as? [String] ?? []
        var properties: [String: [String: Any]] = [:]
        for (name, raw) in schema["properties"] as? [String: Any] ?? [:] {
            if let property = raw as? [String: Any] { properties[name] = try resolve(property) }
        }
        var minProperties = schema["minProperties"] as? Int ?? 0
        var open = (schema["additionalProperties"] as? Bool == true) || schema["additionalProperties"] is [String: Any]
        let parts = schema["allOf"] as? [[String: Any]] ?? []
        for part in parts {
            let sub = try flatten(part)
            required += sub.required
            properties.merge(sub.properties) { a, _ in a }
            minProperties = max(minProperties, sub.minProperties)
            open = open || (sub.open && !sub.properties.isEmpty)
        }
        if properties.isEmpty { open = true }
        return (required, properties, minProperties, open)
    }

    /// Every way `body` breaks `schema`, at any depth: a missing required member, a member the
    /// schema does not define (where it allows no others), too few members, a value of the wrong
    /// JSON type, outside a number's minimum/maximum or an enum.
    func violations(of body: JSONValue, against rawSchema: [String: Any]) throws -> [String] {
        try check(body, against: rawSchema, at: "")
    }

    private func check(_ value: JSONValue, against rawSchema: [String: Any], at path: String) throws -> [String] {
        let schema = try resolve(rawSchema)
        let label = path.isEmpty ? "the body" : "'\(path)'"
        let allowed = Self.types(of: schema)
        if !allowed.isEmpty && !allowed.contains(where: { Self.matches(value, type: $0) }) {
            return ["\(label) is \(value.typeName), schema allows \(allowed.sorted())"]
        }
        var problems: [String] = []
        switch value {
        case .number(let literal):
            if let n = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")) {
                if let min = (schema["minimum"] as? NSNumber)?.decimalValue, n < min { problems.append("\(label) below minimum \(min)") }
                if let max = (schema["maximum"] as? NSNumber)?.decimalValue, n > max { problems.append("\(label) above maximum \(max)") }
            }
        case .string(let text):
            if let enumeration = schema["enum"] as? [String], !enumeration.contains(text) {
                problems.append("\(label) = \(text) not in \(enumeration)")
            }
        case .array(let items):
            if let itemSchema = schema["items"] as? [String: Any] {
                for (index, item) in items.enumerated() { problems += try check(item, against: itemSchema, at: "\(path)[\(index)]") }
            }
        case .object(let members):
            let (required, properties, minProperties, open) = try flatten(schema)
            let present = Set(members.map(\.0))
            func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
            for name in required where !present.contains(name) { problems.append("missing required '\(child(name))'") }
            if members.count < minProperties { problems.append("\(label) has fewer than \(minProperties) members") }
            for (name, member) in members {
                if let property = properties[name] {
                    problems += try check(member, against: property, at: child(name))
                } else if !open {
                    problems.append("'\(child(name))' is not a member the schema defines")
                }
            }
        case .null, .bool:
            break
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
