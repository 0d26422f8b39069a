import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives the pages of freed allocations back to the system between the phases of a night.
///
/// glibc keeps what a thread frees in that thread's arena: the staging thread's duplicate table
/// (14 MB at a million rows) stays in the process, unused, while the sending threads allocate
/// in arenas of their own. `malloc_trim(0)` releases every free page of every arena. It is
/// looked up at run time (Swift's Glibc module does not declare it); elsewhere this does nothing.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(nil, "malloc_trim") { _ = unsafeBitCast(symbol, to: Trim.self)(0) }
        #endif
    }
}
