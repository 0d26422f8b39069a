import Foundation
import Testing
@testable import BatchInput
@testable import CashierModel

/// Writes `head` then `fill` bytes, `total` bytes in all, into a pipe on a thread of its own, and
/// stops early when the reader goes away; `path` opens the pipe's read end as `/dev/stdin` would.
/// Every stream in these tests is finite, so a reader that ignores its cap fails instead of filling the disk.
final class PipeFeeder: @unchecked Sendable {
    let path: String
    private let readEnd: Int32
    private let done = DispatchSemaphore(value: 0)
    private let start = DispatchSemaphore(value: 0)
    private var count = 0

    /// `waitForStart`: the first byte waits for ``start()`` (at most 2 s).
    init(head: [UInt8] = [], fill: UInt8 = 0, total: Int, waitForStart: Bool = false) {
        signal(SIGPIPE, SIG_IGN)  // a reader that went away is EPIPE, not the end of the test process
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        readEnd = fds[0]
        path = "/dev/fd/\(fds[0])"
        let writeEnd = fds[1]
        Thread { [self] in
            if waitForStart { _ = start.wait(timeout: .now() + 2) }
            var chunk = [UInt8](repeating: fill, count: 64 << 10)
            var written = 0
            var fromHead = 0
            outer: while written < total {
                var n = min(chunk.count, total - written)
                if fromHead < head.count {
                    n = min(n, head.count - fromHead)
                    chunk.replaceSubrange(0..<n, with: head[fromHead..<(fromHead + n)])
                } else if chunk[0] != fill || chunk[chunk.count - 1] != fill {
                    chunk = [UInt8](repeating: fill, count: chunk.count)
                }
                var sent = 0
                while sent < n {
                    let w = chunk.withUnsafeBytes { Glibc.write(writeEnd, $0.baseAddress! + sent, n - sent) }
                    if w < 0, errno == EINTR { continue }
                    if w < 0 { break outer }  // EPIPE: the reader closed the stream
                    sent += w
                }
                written += n
                fromHead += n
            }
            count = written
            close(writeEnd)
            done.signal()
        }.start()
    }

    /// Leaves the pipe to the reader that opened `path`, so that closing it stops this writer.
    func closeReadEnd() { close(readEnd) }

    func startWriting() { start.signal() }

    /// Bytes the pipe took, once the writer has stopped (the reader must be gone or done).
    func written() -> Int {
        done.wait()
        return count
    }
}

@Suite struct StreamCapParsingTests {
    @Test func sizesAreBytesOrWholeBinaryUnits() throws {
        #expect(try StreamCap(parsing: "1048576").bytes == 1 << 20)
        #expect(try StreamCap(parsing: "8MiB").bytes == 8 << 20)
        #expect(try StreamCap(parsing: "8 mib").bytes == 8 << 20)
        #expect(try StreamCap(parsing: "512K").bytes == 512 << 10)
        #expect(try StreamCap(parsing: "4GiB").bytes == 4 << 30)
        #expect(try StreamCap(parsing: "1T").bytes == 1 << 40)
        #expect(try StreamCap(parsing: "1500b").bytes == 1500)
        #expect(StreamCap(bytes: 8 << 20).description == "8 MiB")
        #expect(StreamCap(bytes: 1500).description == "1500 bytes")
        #expect(StreamCap(bytes: 8 << 20).argument == "8MiB")
        #expect(StreamCap(bytes: 1500).argument == "1500")
    }

    @Test(arguments: ["", "8MB", "8 GB", "1.5GiB", "-1", "0", "0MiB", "GiB", "9999999999TiB", "8MiB8"])
    func anythingElseIsRefusedWithTheReason(_ text: String) {
        #expect(throws: StreamCapError.self) { try StreamCap(parsing: text) }
    }

    /// A 1,000,000-row night through a pipe (JSON Lines, uncompressed: 457.3 MB) is far under the default.
    @Test func theDefaultLeavesRoomForAMillionRowNight() {
        #expect(StreamCap.default.description == "2 GiB")
        #expect(StreamCap.default.bytes >= 4 * 457_300_000)
    }
}

/// A stream is copied as it is read, never past its cap, so an endless one ends in a batch error.
@Suite(.serialized) struct StreamCapTests {
    @Test func aStreamPastTheCapIsRefusedAndNothingPastTheCapIsKept() throws {
        let feeder = PipeFeeder(total: 16 << 20)
        do {
            let file = try BatchFile(path: feeder.path, streamCap: StreamCap(bytes: 1 << 20))
            feeder.closeReadEnd()
            let error = try #require(throws: BatchError.self) { try file.sha256() }
            #expect(error.kind == .tooLarge)
            #expect(error.description == "\(feeder.path): the stream goes on past 1 MiB, the cap on a pipe, FIFO or device "
                + "(it is copied to \(temporaryDirectory) as it is read): the batch is refused; "
                + "raise the cap with --max-stream-bytes (default 2 GiB) or give a regular file")
            // The read that crossed the cap is not kept: the copy holds at most the cap.
            let spool = try #require(file.spool)
            #expect(spool.copied <= 1 << 20 && spool.copied > 0)
            var info = stat()
            #expect(fstat(file.fd, &info) == 0)
            #expect(info.st_size == spool.copied, "the temporary copy holds what was read, not a byte more")
            // The refusal stays: every later pass meets it; the bytes under the cap still read.
            #expect(throws: BatchError.self) { try file.sha256() }
            #expect(try file.head(4) == [0, 0, 0, 0])
        }
        // The stream was closed at the refusal: the writer stopped at the cap (plus what the pipe buffers).
        #expect(feeder.written() < (1 << 20) + (1 << 20) + 1)
    }

    @Test func aStreamThatEndsAtTheCapIsReadWholeAndOneByteMoreIsNot() throws {
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<2_000 { text += "web_1,cus_\(i),USD,\(i).25\n" }
        let bytes = Array(text.utf8)
        let atCap = PipeFeeder(head: bytes, total: bytes.count)
        let whole = try BatchScan.scanRejections(BatchFile(path: atCap.path, streamCap: StreamCap(bytes: Int64(bytes.count)))) { _, _ in }
        atCap.closeReadEnd()
        #expect(whole.rowsRead == 2_000 && whole.valid == 2_000)

        let over = PipeFeeder(head: bytes, total: bytes.count)
        let file = try BatchFile(path: over.path, streamCap: StreamCap(bytes: Int64(bytes.count - 1)))
        over.closeReadEnd()
        let error = try #require(throws: BatchError.self) { _ = try BatchScan.scanRejections(file) { _, _ in } }
        #expect(error.kind == .tooLarge)
        #expect(error.description.contains("past \(bytes.count - 1) bytes"), "\(error)")
    }

    /// The rows under the cap are read (through the read-ahead thread) before the refusal, which names the last complete line.
    @Test func rowsUnderTheCapAreReadThenTheBatchIsRefusedWithItsLastLine() throws {
        let header = Array("websiteId,customerId,currency,balance\n".utf8)
        // "web_1,cus_1,USD,1\n" once, then '1's: one cell that grows until the cap.
        let feeder = PipeFeeder(head: header + Array("web_1,cus_1,USD,1\nweb_1,cus_2,USD,1".utf8), fill: UInt8(ascii: "1"), total: 32 << 20)
        let file = try BatchFile(path: feeder.path, streamCap: StreamCap(bytes: 4 << 20))
        feeder.closeReadEnd()
        var rows = 0
        let error = try #require(throws: BatchError.self) { try BatchReader(file: file).forEachRecord { _ in rows += 1 } }
        #expect(error.kind == .tooLarge)
        #expect(error.lastCompleteLine == 2)
        #expect(error.description.hasSuffix("or give a regular file (last complete line: 2)"), "\(error)")
        #expect(rows == 1)
        let copied = try #require(file.spool?.copied)
        #expect(copied <= 4 << 20 && copied > 3 << 20)
    }

    /// Reading a stream copies it only as far as the reader asks, so a record with no end meets the
    /// readers' 64 MiB limit long before the stream's end (or the default cap).
    @Test(arguments: [("csv", [UInt8](), UInt8(0)), ("jsonl", Array(#"{"websiteId":""#.utf8), UInt8(ascii: "a"))])
    func theRecordLimitStopsAStreamWithNoEnd(_ syntax: String, _ head: [UInt8], _ fill: UInt8) throws {
        let feeder = PipeFeeder(head: head, fill: fill, total: 200 << 20)
        do {
            let file = try BatchFile(path: feeder.path)
            feeder.closeReadEnd()
            let reader = try BatchReader(file: file)
            #expect(reader.format.syntax.rawValue == syntax)
            let error = try #require(throws: BatchError.self) { try reader.forEachRecord { _ in } }
            #expect(error.kind == .malformed)
            #expect(error.description.contains("than 64 MiB"), "\(error)")
            #expect(try #require(file.spool).copied < 80 << 20)
        }
        #expect(feeder.written() < 100 << 20, "the stream was read no further than the record limit needed")
    }

    @Test func openingAStreamReadsNothingYet() throws {
        let feeder = PipeFeeder(head: Array("websiteId,customerId,currency,balance\nweb_1,cus_1,USD,1\n".utf8), total: 56, waitForStart: true)
        let clock = ContinuousClock()
        let opened = clock.now
        let file = try BatchFile(path: feeder.path)
        #expect(clock.now - opened < .seconds(1), "the open waited for the stream")
        #expect(file.spool?.copied == 0)
        feeder.closeReadEnd()
        feeder.startWriting()
        #expect(try records(file).count == 1)
    }

    @Test func aGzipStreamUnderTheCapIsReadAsAFileWouldBe() throws {
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<500 { text += "web_1,cus_\(i),USD,\(i).25\n" }
        let compressed = try gzip(Array(text.utf8))
        let feeder = PipeFeeder(head: compressed, total: compressed.count)
        let file = try BatchFile(path: feeder.path, streamCap: StreamCap(bytes: 1 << 20))
        feeder.closeReadEnd()
        let summary = try BatchScan.scanRejections(file) { _, _ in }
        #expect(summary.format == BatchFormat(syntax: .csv, gzip: true))
        #expect(summary.rowsRead == 500 && summary.valid == 500)
        #expect(file.spool?.copied == off_t(compressed.count), "the compressed bytes are what the cap counts")
    }

    @Test func aRegularFileHasNoCap() throws {
        let dir = try TempDir()
        var text = "websiteId,customerId,currency,balance\n"
        for i in 0..<100 { text += "web_1,cus_\(i),USD,\(i).25\n" }
        let path = try dir.write("b.csv", text)
        let file = try BatchFile(path: path, streamCap: StreamCap(bytes: 100))
        #expect(file.spool == nil)
        #expect(try records(file).count == 100)
    }
}

/// Where a stream's copy goes: `$TMPDIR`, else `/tmp`.
private var temporaryDirectory: String {
    ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
}

private func records(_ file: BatchFile) throws -> [RawRecord] {
    var out: [RawRecord] = []
    try BatchReader(file: file).forEachRecord { out.append($0) }
    return out
}
