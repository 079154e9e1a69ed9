// SPDX-License-Identifier: Apache-2.0
//
// The one place that calls libbpf: its messages are kept for error reports, negative errno
// returns become GuardError.

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
import LinuxEdge

/// The last messages libbpf printed (the verifier log tail on a failed load).
let libbpfMessages = Locked<[String]>([])

private func record(_ format: UnsafePointer<CChar>?, _ args: CVaListPointer) -> Int32 {
    guard let format else { return 0 }
    var buffer = [CChar](repeating: 0, count: 1024)
    let n = vsnprintf(&buffer, buffer.count, format, args)
    let line = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingTrailingNewlines
    libbpfMessages.withLock { messages in
        messages.append(line)
        if messages.count > 40 { messages.removeFirst(messages.count - 40) }
    }
    return n
}

enum LibBPF {
    /// Routes libbpf's messages into ``libbpfMessages`` (once).
    static let setUp: Void = {
        _ = libbpf_set_print { _, format, args in args.map { record(format, $0) } ?? 0 }
    }()

    /// The last libbpf messages that look like errors, for an error's hint.
    static func recentErrors() -> String? {
        let lines = libbpfMessages.withLock { $0 }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { return nil }
        return "libbpf said: " + lines.suffix(4).joined(separator: " | ")
    }

    /// Converts a libbpf `int` return (negative errno) to a thrown error.
    static func check(_ rc: Int32, _ code: GuardError.Code, _ message: @autoclosure () -> String, hint: String? = nil) throws(GuardError) {
        guard rc < 0 else { return }
        throw GuardError(code, message(), errno: -rc, hint: hint ?? recentErrors())
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
