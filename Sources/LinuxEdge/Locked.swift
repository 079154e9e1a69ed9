// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A value behind a lock: `Synchronization.Mutex`'s `withLock`, on glibc's default pthread
/// mutex — a plain futex: a waiter sleeps, the unlocker wakes one, and whoever runs first takes
/// the lock. Every lock in ium is one of these.
///
/// Why not `Mutex`: on Linux, Swift 6.3's `Mutex` is a priority-inheritance futex
/// (`FUTEX_LOCK_PI`), which spins before sleeping and then hands a contended lock to the next
/// sleeping waiter (swiftlang/swift#88440; #88523 replaces it after 6.3). With more threads than
/// CPUs — iumd runs one per connection — every short critical section then becomes a convoy:
/// eight clients on two CPUs spent 30–45 % of the machine in `_MutexHandle._lockSlow`, and
/// served 18,000 open + query + close a second where two clients served 80,000 (BENCHMARKS.md).
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let storage: UnsafeMutablePointer<Value>

    /// A lock around `value`.
    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        storage = .allocate(capacity: 1)
        storage.initialize(to: value)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// Runs `body` with the value, the lock held.
    @inlinable
    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        lock()
        defer { unlock() }
        return try body(&storage.pointee)
    }

    @usableFromInline func lock() { pthread_mutex_lock(mutex) }
    @usableFromInline func unlock() { pthread_mutex_unlock(mutex) }
}
