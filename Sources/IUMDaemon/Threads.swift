// SPDX-License-Identifier: Apache-2.0
//
// Blocking work (accept, per-connection reads, the ring buffer) runs on dedicated threads,
// never on Swift concurrency's cooperative pool.

internal import CLinuxShims

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a detached thread.
/// - Parameter body: What the thread runs.
/// - Returns: false when no thread could be started (the body does not run).
@discardableResult
func startThread(_ body: @escaping () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = ium_thread_start({ arg in
        guard let arg else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue().body()
        return nil
    }, box)
    if rc != 0 { Unmanaged<ThreadBody>.fromOpaque(box).release() }
    return rc == 0
}
