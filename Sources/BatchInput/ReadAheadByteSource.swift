#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs another `ByteSource` (zlib inflating a gzip file) on a second thread, a few
/// chunks ahead of the reader, so that inflating and parsing overlap on two cores.
///
/// Memory stays flat: at most `slotCount` chunks of `chunkBytes` are in flight. Bytes,
/// the end of the data and errors arrive in exactly the order the inner source produced
/// them (one producer, one consumer, a ring of slots), so lines, verdicts and
/// "last complete line" are the same as when reading directly.
struct ReadAheadByteSource: ByteSource {
    private let owner: Owner
    private var pipe: Pipeline { owner.pipe }
    private var current = -1      // slot being consumed
    private var offset = 0
    private var done = false

    init(_ source: some ByteSource, slotCount: Int = 4, chunkBytes: Int = 1 << 20) {
        owner = Owner(Pipeline(source: source, slotCount: slotCount, chunkBytes: chunkBytes))
    }

    /// Stops and joins the producer when the reader lets go of the source (also when it
    /// stops early: a batch error, a failing callback).
    final class Owner {
        let pipe: Pipeline
        init(_ pipe: Pipeline) { self.pipe = pipe }
        deinit { pipe.shutdown() }
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int {
        if done { return 0 }
        if current < 0 {
            let (slot, result) = pipe.take()
            switch result {
            case let .failure(error):
                done = true
                throw error
            case let .success(count) where count == 0:
                done = true
                return 0
            case .success:
                current = slot
                offset = 0
            }
        }
        let available = pipe.counts[current] - offset
        let n = min(available, buffer.count)
        buffer.baseAddress!.copyMemory(from: pipe.buffers[current] + offset, byteCount: n)
        offset += n
        if offset == pipe.counts[current] {
            pipe.give(back: current)
            current = -1
        }
        return n
    }

    /// The shared state: a ring of slots, a mutex and a condition variable.
    final class Pipeline: @unchecked Sendable {
        // Written by the producer before publishing a slot, read by the consumer after
        // taking it (ordered by the mutex).
        let buffers: [UnsafeMutableRawPointer]
        let counts: UnsafeMutablePointer<Int>
        let errors: UnsafeMutablePointer<BatchError?>
        private let chunkBytes: Int
        private var source: any ByteSource
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var filled = 0      // slots published and not yet taken back
        private var head = 0        // next slot the consumer takes
        private var stop = false
        private var thread: pthread_t?

        init(source: some ByteSource, slotCount: Int, chunkBytes: Int) {
            self.source = source
            self.chunkBytes = chunkBytes
            buffers = (0..<slotCount).map { _ in UnsafeMutableRawPointer.allocate(byteCount: chunkBytes, alignment: 64) }
            counts = .allocate(capacity: slotCount)
            counts.initialize(repeating: 0, count: slotCount)
            errors = .allocate(capacity: slotCount)
            errors.initialize(repeating: nil, count: slotCount)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(cond, nil)
            let context = Unmanaged.passRetained(self).toOpaque()
            var id = pthread_t()
            let status = pthread_create(&id, nil, { raw in
                let pipeline = Unmanaged<Pipeline>.fromOpaque(raw!).takeRetainedValue()
                pipeline.produce()
                return nil
            }, context)
            if status == 0 {
                thread = id
            } else {
                // No thread: produce everything lazily on the consumer side instead.
                Unmanaged<Pipeline>.fromOpaque(context).release()
            }
        }

        deinit {
            pthread_mutex_destroy(mutex)
            pthread_cond_destroy(cond)
            mutex.deallocate()
            cond.deallocate()
            for buffer in buffers { buffer.deallocate() }
            counts.deallocate()
            errors.deinitialize(count: buffers.count)
            errors.deallocate()
        }

        /// Stops the producer (the reader is done or gave up) and waits for it.
        func shutdown() {
            pthread_mutex_lock(mutex)
            stop = true
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            if let thread { pthread_join(thread, nil) }
            thread = nil
        }

        private func produce() {
            var tail = 0
            while true {
                pthread_mutex_lock(mutex)
                while filled == buffers.count && !stop { pthread_cond_wait(cond, mutex) }
                let stopping = stop
                pthread_mutex_unlock(mutex)
                if stopping { return }
                var count = 0
                var failure: BatchError?
                do {
                    // Fill the slot (a short read is not the end; 0 is).
                    while count < chunkBytes {
                        let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffers[tail] + count, count: chunkBytes - count))
                        if n == 0 { break }
                        count += n
                    }
                } catch {
                    failure = error
                }
                let last = failure != nil || count < chunkBytes
                pthread_mutex_lock(mutex)
                if failure != nil && count > 0 {
                    // Deliver the bytes read before the error first, then the error.
                    counts[tail] = count
                    errors[tail] = nil
                    filled += 1
                    tail = (tail + 1) % buffers.count
                    pthread_cond_broadcast(cond)
                    while filled == buffers.count && !stop { pthread_cond_wait(cond, mutex) }
                    count = 0
                }
                counts[tail] = count
                errors[tail] = failure
                filled += 1
                tail = (tail + 1) % buffers.count
                if last && count > 0 && failure == nil {
                    // The short slot is followed by an end-of-data slot.
                    while filled == buffers.count && !stop { pthread_cond_wait(cond, mutex) }
                    counts[tail] = 0
                    errors[tail] = nil
                    filled += 1
                    tail = (tail + 1) % buffers.count
                }
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
                if last { return }
            }
        }

        /// The next published slot: its byte count (0 = end of data) or the error.
        func take() -> (Int, Result<Int, BatchError>) {
            if thread == nil { return takeWithoutThread() }
            pthread_mutex_lock(mutex)
            while filled == 0 { pthread_cond_wait(cond, mutex) }
            let slot = head
            head = (head + 1) % buffers.count
            let result: Result<Int, BatchError> = errors[slot].map { .failure($0) } ?? .success(counts[slot])
            if case .success(let n) = result, n > 0 {
                pthread_mutex_unlock(mutex)
            } else {
                // End or error: the slot is not consumed further.
                filled -= 1
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
            }
            return (slot, result)
        }

        /// The consumer finished a slot: the producer may refill it.
        func give(back slot: Int) {
            if thread == nil { return }
            pthread_mutex_lock(mutex)
            filled -= 1
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }

        private func takeWithoutThread() -> (Int, Result<Int, BatchError>) {
            var count = 0
            do {
                while count < chunkBytes {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffers[0] + count, count: chunkBytes - count))
                    if n == 0 { break }
                    count += n
                }
            } catch {
                if count == 0 { return (0, .failure(error)) }
                // Bytes first; the error comes back on the next read of the source.
            }
            counts[0] = count
            return (0, .success(count))
        }
    }
}
