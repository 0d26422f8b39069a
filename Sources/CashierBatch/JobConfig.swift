#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Job files and `CASHIER_BATCH_*` environment variables, turned into command-line
/// arguments before the parser sees them: `run --job Jobs/nightly.yaml` reads every
/// option of `run` by the same name (plus `files:`, a list of paths or globs).
///
/// Precedence is flags > environment > job file > defaults: the job file's options
/// come first, the environment's next and the command line's last, and the last value
/// of an option wins. A boolean set to true in the file or environment cannot be
/// switched off by a flag (there is no `--no-…` form); leave it out of the file instead.
enum JobConfig {
    /// The options a job file and the environment may set: `run`'s, by the same names.
    static let valueKeys = ["api-url", "organization-id", "db", "report-dir", "rate", "read-concurrency", "read-rate", "burst", "concurrency",
                            "max-attempts", "timeout", "in-doubt-settle", "until", "shard", "api-key-file", "ping-url", "log-format",
                            "max-stream-bytes"]
    static let flagKeys = ["no-deposits", "dry-run", "no-rate-split"]
    static var allKeys: [String] { ["files"] + valueKeys + flagKeys }
    /// Commands that take the environment, and the keys each accepts: `reconcile` sends
    /// nothing, so `in-doubt-settle`, `until`, `no-deposits` and `dry-run` are not its options; only
    /// `run` reads batch files, so `max-stream-bytes` is its alone.
    static let sendingCommands: Set<String> = ["run", "retry", "reconcile"]
    static let sendOnlyKeys: Set<String> = ["in-doubt-settle", "until", "no-deposits", "dry-run"]
    static let runOnlyKeys: Set<String> = ["max-stream-bytes"]
    static func accepts(_ command: String, _ key: String) -> Bool {
        if runOnlyKeys.contains(key) { return command == "run" }
        return command != "reconcile" || !sendOnlyKeys.contains(key)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A parsed job file: option values by key (nil = `null`, unset) and the input globs.
    struct File: Equatable {
        var values: [(key: String, value: String?)] = []
        var files: [String] = []

        static func == (a: File, b: File) -> Bool {
            a.files == b.files && a.values.map(\.key) == b.values.map(\.key) && a.values.map(\.value) == b.values.map(\.value)
        }
    }

    /// Parses the job file format: `key: value` lines, `#` comments, `null` for unset,
    /// and `files:` followed by `  - path` items. Unknown keys are an error naming the key.
    static func parse(_ text: String, path: String) throws -> File {
        var file = File()
        var inFiles = false
        var seen = Set<String>()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = String(rawLine)
            if let hash = line.firstIndex(of: "#"), !line[..<hash].contains("\"") { line = String(line[..<hash]) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("- ") || trimmed == "-" {
                guard inFiles else { throw Failure(description: "\(path):\(lineNumber): a list item outside `files:`") }
                let item = unquote(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                guard !item.isEmpty else { throw Failure(description: "\(path):\(lineNumber): empty file entry") }
                file.files.append(item)
                continue
            }
            inFiles = false
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw Failure(description: "\(path):\(lineNumber): expected `key: value`")
            }
            let key = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = unquote(String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
            guard allKeys.contains(key) else {
                throw Failure(description: "\(path):\(lineNumber): unknown key \"\(key)\" (known: \(allKeys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw Failure(description: "\(path):\(lineNumber): key \"\(key)\" appears twice") }
            if key == "files" {
                guard value.isEmpty else { throw Failure(description: "\(path):\(lineNumber): list the files on the lines below `files:`") }
                inFiles = true
                continue
            }
            if flagKeys.contains(key), !["true", "false", "null"].contains(value) {
                throw Failure(description: "\(path):\(lineNumber): \(key) must be true or false")
            }
            file.values.append((key, value == "null" || value.isEmpty ? nil : value))
        }
        return file
    }

    private static func unquote(_ text: String) -> String {
        if text.count >= 2, let first = text.first, first == text.last, first == "\"" || first == "'" {
            return String(text.dropFirst().dropLast())
        }
        return text
    }

    /// Arguments for one option value (`--rate 20/s`, or `--dry-run` for a true flag).
    static func optionArguments(key: String, value: String?) -> [String] {
        guard let value else { return [] }
        if flagKeys.contains(key) { return ["true", "1", "yes"].contains(value.lowercased()) ? ["--\(key)"] : [] }
        return ["--\(key)", value]
    }

    /// `CASHIER_BATCH_RATE` for `rate`, `CASHIER_BATCH_API_URL` for `api-url`.
    static func environmentName(_ key: String) -> String {
        "CASHIER_BATCH_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Expands globs (sorted); a pattern that matches nothing is an error, so a missing export fails loudly.
    static func expand(_ pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { throw Failure(description: "no file matches \(pattern)") }
        var paths: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let p = result.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths.sorted()
    }

    /// Rewrites the process arguments: `[command, …]` → job-file options, then environment
    /// options, then the command line's own arguments (without `--job FILE`).
    static func rewrite(_ arguments: [String], environment: [String: String]) throws -> [String] {
        guard let command = arguments.first, sendingCommands.contains(command) else { return arguments }
        var rest = Array(arguments.dropFirst())
        var fromFile: [String] = []
        var jobFiles: [String] = []
        if let index = rest.firstIndex(where: { $0 == "--job" || $0.hasPrefix("--job=") }) {
            guard command == "run" else { throw Failure(description: "--job is an option of `run`") }
            let jobPath: String
            if rest[index] == "--job" {
                guard index + 1 < rest.count else { throw Failure(description: "--job needs a file") }
                jobPath = rest[index + 1]
                rest.removeSubrange(index...(index + 1))
            } else {
                jobPath = String(rest[index].dropFirst("--job=".count))
                rest.remove(at: index)
            }
            guard let text = try? String(contentsOfFile: jobPath, encoding: .utf8) else {
                throw Failure(description: "cannot read job file \(jobPath)")
            }
            let job = try parse(text, path: jobPath)
            for (key, value) in job.values { fromFile += optionArguments(key: key, value: value) }
            let printing = rest.contains("--print-config")
            for pattern in job.files { jobFiles += printing ? ((try? expand(pattern)) ?? [pattern]) : try expand(pattern) }
        }
        var fromEnvironment: [String] = []
        for key in valueKeys + flagKeys where accepts(command, key) {
            if let value = environment[environmentName(key)], !value.isEmpty { fromEnvironment += optionArguments(key: key, value: value) }
        }
        // Files on the command line replace the job file's.
        let commandLineHasFiles = command == "run" && rest.contains { !$0.hasPrefix("-") } && !onlyOptionValues(rest)
        let files = commandLineHasFiles ? [] : jobFiles
        return [command] + fromFile + fromEnvironment + rest + files
    }

    /// True when every non-dash argument is the value of a preceding value option.
    private static func onlyOptionValues(_ args: [String]) -> Bool {
        var index = 0
        while index < args.count {
            let arg = args[index]
            if arg.hasPrefix("--") {
                let name = String(arg.dropFirst(2))
                if !name.contains("="), valueKeys.contains(name) || name == "run" { index += 2; continue }
                index += 1
                continue
            }
            return false
        }
        return true
    }
}
