import ArgumentParser
import BatchInput

/// `--max-stream-bytes` of `validate` and `run`: the ``StreamCap`` on an input that is a pipe,
/// FIFO or device (the rule and the refusal live in `BatchInput`).
struct StreamCapOption: ParsableArguments {
    @Option(help: ArgumentHelp("The most read from an input that is a pipe, FIFO or device (<(zcat …), /dev/stdin): it is copied to $TMPDIR as it is read, and a longer one refuses its batch (65). Bytes, or KiB, MiB, GiB, TiB (8MiB). Regular files have no cap.", valueName: "size"))
    var maxStreamBytes: String = StreamCap.default.argument

    func validate() throws {
        do { _ = try StreamCap(parsing: maxStreamBytes) } catch { throw ValidationError("\(StreamCap.optionName): \(error)") }
    }

    /// The parsed cap (checked in `validate()`).
    var cap: StreamCap { (try? StreamCap(parsing: maxStreamBytes)) ?? .default }
}
