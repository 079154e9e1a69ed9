// SPDX-License-Identifier: Apache-2.0

/// What ium records about a process when it is created (or first seen) and never changes
/// afterwards, as NT records it in the process object.
public struct ProcessRecord: Hashable, Sendable {
    /// The process's identity.
    public var identity: ProcessIdentity
    /// `InheritedFromUniqueProcessId`: the creator's pid, captured at creation and never
    /// updated when the creator exits and the process is reparented.
    public var creatorPid: Int32
    /// The creator's session id at creation, when it could be read.
    public var creatorSessionId: Int32?
    /// The process's own session id at creation.
    public var sessionId: Int32

    /// Creates a record.
    /// - Parameters:
    ///   - identity: The process's identity.
    ///   - creatorPid: The creating process's pid.
    ///   - creatorSessionId: The creator's session id then, if known.
    ///   - sessionId: The process's session id then.
    public init(identity: ProcessIdentity, creatorPid: Int32, creatorSessionId: Int32?, sessionId: Int32) {
        self.identity = identity
        self.creatorPid = creatorPid
        self.creatorSessionId = creatorSessionId
        self.sessionId = sessionId
    }

    /// IsCrossSessionCreate: the process's session differed from its creator's when ium
    /// recorded it (for `setsid prog`, the session the program started in).
    public var isCrossSessionCreate: Bool {
        creatorSessionId.map { $0 != sessionId } ?? false
    }

    /// The record of a process found running: its creator is the one a fork event named when
    /// there was one, else its current parent; the creator's session is read now.
    /// - Parameters:
    ///   - stat: The process's `/proc/PID/stat`.
    ///   - reader: Used to read the creator's session.
    ///   - creatorPid: The creator recorded at fork time, if known.
    public static func firstSeen(_ stat: ProcStat, reader: ProcReader, creatorPid: Int32? = nil) -> ProcessRecord {
        let creator = creatorPid ?? stat.ppid
        let creatorSession = creator > 0 ? (try? reader.stat(creator))?.session : nil
        return ProcessRecord(
            identity: ProcessIdentity(pid: stat.pid, startTime: stat.startTime),
            creatorPid: creator, creatorSessionId: creatorSession, sessionId: stat.session
        )
    }
}
