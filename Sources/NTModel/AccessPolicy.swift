// SPDX-License-Identifier: Apache-2.0

/// Who is opening a process, relative to the process.
public enum CallerRelation: Sendable, Hashable {
    /// The process opens itself.
    case itself
    /// Root, or a caller whose uid is the process's real, effective and saved uid
    /// (the kernel's own ptrace rule for "same user").
    case ownerOrRoot
    /// Any other local user.
    case other
}

/// ium's access rules for `NtOpenProcess`.
///
/// - The process itself gets any right.
/// - Its owner and root get any right, except on a secure process: there the rights that
///   reach into the process (VM read/write/operation, create thread, duplicate handles) are
///   refused with `STATUS_ACCESS_DENIED`, root included, as Windows refuses them for a trustlet.
/// - Everyone else gets `PROCESS_QUERY_LIMITED_INFORMATION` and `SYNCHRONIZE` only.
///
/// Generic rights are mapped first; `MAXIMUM_ALLOWED` grants everything allowed, but still
/// fails when an explicit right beside it is not allowed.
public enum ProcessAccessPolicy {
    /// Rights never granted on a secure process to anyone but itself.
    public static let deniedOnSecureProcess: AccessMask = [
        .vmRead, .vmWrite, .vmOperation, .createThread, .dupHandle,
    ]
    /// Rights granted to any local user.
    public static let everyone: AccessMask = [.queryLimitedInformation, .synchronize]

    /// The access a new handle gets.
    /// - Parameters:
    ///   - desired: The `DesiredAccess` passed to `NtOpenProcess`.
    ///   - caller: The caller's relation to the process.
    ///   - targetIsSecure: Whether the process is tagged secure.
    /// - Returns: The granted mask, or `STATUS_ACCESS_DENIED`.
    public static func grant(desired: AccessMask, caller: CallerRelation, targetIsSecure: Bool) -> Result<AccessMask, NTStatus> {
        let allowed: AccessMask = switch caller {
        case .itself: .processAllAccess
        case .ownerOrRoot: targetIsSecure ? AccessMask.processAllAccess.subtracting(deniedOnSecureProcess) : .processAllAccess
        case .other: everyone
        }
        let wantsMaximum = desired.contains(.maximumAllowed)
        let explicit = desired.subtracting(.maximumAllowed).mapped()
        guard allowed.isSuperset(of: explicit) else { return .failure(.accessDenied) }
        return .success(wantsMaximum ? allowed : explicit)
    }
}
