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
func startThread(_ body: @escaping () -> Void) {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = ium_thread_start({ arg in
        let body = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        body.body()
        return nil
    }, box)
    if rc != 0 {
        // No thread: run the body's cleanup path by releasing the box; callers log the failure.
        Unmanaged<ThreadBody>.fromOpaque(box).release()
    }
}
