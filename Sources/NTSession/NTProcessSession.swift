// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import NTModel
public import ProcessTable

/// An object an NT handle in a session can reference.
public enum SessionObject: Sendable {
    /// A process object.
    case process(ProcessObject)
    /// A debug object (returned by class 30 for a traced process): the tracer's pid.
    case debugObject(tracerPid: Int32)
}

/// Who is calling: the peer of a daemon connection, or the local process.
public struct CallerCredentials: Hashable, Sendable {
    /// The caller's process id.
    public var pid: Int32
    /// The caller's (effective) user id.
    public var uid: UInt32
    /// Creates credentials.
    /// - Parameters:
    ///   - pid: The caller's pid.
    ///   - uid: The caller's uid.
    public init(pid: Int32, uid: UInt32) {
        self.pid = pid
        self.uid = uid
    }
    /// The calling process itself.
    public static var current: CallerCredentials { CallerCredentials(pid: getpid(), uid: geteuid()) }
}

/// `CLIENT_ID`: the process (and optionally thread) to open.
public struct ClientID: Hashable, Sendable {
    /// `UniqueProcess`.
    public var process: UInt64
    /// `UniqueThread`, 0 for none.
    public var thread: UInt64
    /// Creates a client id.
    /// - Parameters:
    ///   - process: The process id.
    ///   - thread: A thread id of that process, or 0.
    public init(process: UInt64, thread: UInt64 = 0) {
        self.process = process
        self.thread = thread
    }
}

/// A process handle just opened, with the process as it was seen at the open.
public struct OpenedProcess {
    /// The new handle.
    public var handle: Handle
    /// The access granted (with the implied rights).
    public var grantedAccess: AccessMask
    /// The process at the open (its facts carry the guard's task view when there is one).
    public var snapshot: ProcessSnapshot
}

/// One client's view of the NT process API over real Linux processes: its handle table and
/// `NtOpenProcess`, `NtQueryInformationProcess`, `NtClose`.
///
/// A session is used from one task at a time (the daemon keeps one per connection).
public final class NTProcessSession {
    /// The caller the session serves.
    public let caller: CallerCredentials
    /// The `/proc` reader.
    public let reader: ProcReader
    private var handles: HandleTable<SessionObject>
    private var selfObject: ProcessObject?
    private let objects: (Int32) throws(ProcessTableError) -> ProcessObject
    private let views: (ProcessIdentity, Bool) -> CallerView
    /// The caller's last view of each process it holds a handle to: after the process exits
    /// (no address space, no more ptrace check) the view it had is kept, as a handle keeps its
    /// rights.
    private var lastViews: [ProcessIdentity: CallerView] = [:]
    /// How many of this session's handles name each process (its last view goes with the last).
    private var handleCounts: [ProcessIdentity: Int] = [:]

    /// `DEBUG_ALL_ACCESS`, the access of a debug object handle returned by class 30.
    public static let debugAllAccess = AccessMask(rawValue: 0x001F_000F)

    /// Creates a session.
    /// - Parameters:
    ///   - caller: The caller.
    ///   - reader: The `/proc` reader (with the kernel facts provider).
    ///   - handleLimit: The most handles the caller may hold.
    ///   - objects: The process object of a running pid (``ProcessTableError/Code/noSuchProcess``
    ///     when there is none); by default a new one per open. The daemon passes its process
    ///     directory's, so exit events reach every handle.
    ///   - views: What the caller may see of a running process, given whether the caller says
    ///     its own read probe passed (``CallerView``); by default everything (a caller reading
    ///     `/proc` itself). The daemon evaluates the kernel's verdict for the caller.
    public init(caller: CallerCredentials = .current, reader: ProcReader = ProcReader(), handleLimit: Int = 4096,
                objects: ((Int32) throws(ProcessTableError) -> ProcessObject)? = nil,
                views: @escaping (ProcessIdentity, Bool) -> CallerView = { _, _ in .everything }) {
        self.caller = caller
        self.reader = reader
        self.handles = HandleTable(limit: handleLimit)
        if let objects {
            self.objects = objects
        } else {
            self.objects = { pid throws(ProcessTableError) in try ProcessObject.open(pid: pid, reader: reader) }
        }
        self.views = views
    }

    /// The number of open handles.
    public var handleCount: Int { handles.count }

    /// `NtOpenProcess`.
    ///
    /// Exactly one of a client id and an object name must be given (else
    /// `STATUS_INVALID_PARAMETER_MIX`); pid 0, an unknown pid, or a thread id that is not a
    /// thread of the process give `STATUS_INVALID_CID`. A process that has exited can still be
    /// opened while a handle of this session references it. Access follows
    /// ``ProcessAccessPolicy``.
    /// - Parameters:
    ///   - clientId: `ClientId`, or nil for NULL.
    ///   - hasObjectName: Whether `ObjectAttributes->ObjectName` is set.
    ///   - desiredAccess: `DesiredAccess`.
    ///   - probePassed: Whether the caller says its read probe of the process just passed.
    /// - Returns: The new handle or the failure status.
    public func openProcess(clientId: ClientID?, hasObjectName: Bool, desiredAccess: AccessMask,
                            probePassed: Bool = true) -> Result<Handle, NTStatus> {
        open(clientId: clientId, hasObjectName: hasObjectName, desiredAccess: desiredAccess, probePassed: probePassed)
            .map(\.handle)
    }

    /// `NtOpenProcess`, with what the in-client query needs to know of the opened process.
    public func open(clientId: ClientID?, hasObjectName: Bool, desiredAccess: AccessMask,
                     probePassed: Bool = true) -> Result<OpenedProcess, NTStatus> {
        let started = monotonicNanoseconds()
        guard let clientId, !hasObjectName else { return .failure(.invalidParameterMix) }
        guard clientId.process > 0, clientId.process <= UInt64(Int32.max) else { return .failure(.invalidCID) }
        let pid = Int32(clientId.process)
        if clientId.thread != 0 {
            guard clientId.thread <= UInt64(Int32.max),
                  access("\(reader.procRoot)/\(pid)/task/\(clientId.thread)", F_OK) == 0
            else { return .failure(.invalidCID) }
        }
        let object: ProcessObject
        do { object = try objects(pid) } catch where error.code == .noSuchProcess {
            guard let referenced = referencedObject(pid) else { return .failure(.invalidCID) }
            object = referenced
        } catch {
            // The process may well exist: iumd could not read it (out of file descriptors,
            // say). Never STATUS_INVALID_CID for that.
            return .failure(error.errno.map { [EMFILE, ENFILE, ENOMEM].contains($0) } == true ? .insufficientResources : .unsuccessful)
        }
        let snapshot = snapshot(of: object, probePassed: probePassed, freshSince: started, viewSuffices: true)
        let opened = snapshot.callerView.visible ? ProcessAccessPolicy.grant(
            desired: desiredAccess, caller: relation(to: snapshot), targetIsSecure: snapshot.facts.taggedSecure
        ).flatMap { access in
            handles.insert(.process(object), access: access).map { handle in
                handleCounts[object.identity, default: 0] += 1
                return OpenedProcess(handle: handle, grantedAccess: access, snapshot: snapshot)
            }
        } : .failure(.invalidCID)
        if handleCounts[object.identity] == nil { lastViews[object.identity] = nil } // no handle keeps this view
        return opened
    }

    /// The processes this session's handles name, once per handle.
    public var heldProcesses: [ProcessIdentity] {
        handles.all.compactMap { entry -> ProcessIdentity? in
            if case .process(let object) = entry.1.object { return object.identity } else { return nil }
        }
    }

    /// The process a handle of this session names, nil for other handles.
    public func identity(of handle: Handle) -> ProcessIdentity? {
        guard let entry = handles.entry(for: handle), case .process(let object) = entry.object else { return nil }
        return object.identity
    }

    /// `NtQueryInformationProcess` with pointers the caller's side has probed.
    /// - Parameters:
    ///   - handle: `ProcessHandle`.
    ///   - infoClass: `ProcessInformationClass`.
    ///   - length: `ProcessInformationLength`.
    ///   - buffer: The probed `ProcessInformation` pointer.
    ///   - returnLength: The probed `ReturnLength` pointer.
    ///   - probePassed: Whether the caller says its read probe of the process just passed.
    /// - Returns: The status and what to write.
    public func queryInformationProcess(
        handle: Handle, infoClass: UInt32, length: UInt32, buffer: BufferPointer, returnLength: ReturnLengthPointer,
        probePassed: Bool = true
    ) -> QueryOutcome {
        NTModel.queryInformationProcess(
            infoClass: infoClass, length: length, buffer: buffer, returnLength: returnLength,
            handle: resolve(handle, probePassed: probePassed, viewSuffices: Self.viewClasses.contains(infoClass)))
    }

    /// `NtClose`.
    /// - Parameter handle: The handle to close.
    /// - Returns: `STATUS_SUCCESS` or `STATUS_INVALID_HANDLE`.
    @discardableResult
    public func close(_ handle: Handle) -> NTStatus {
        let closing = identity(of: handle)
        let status = handles.close(handle)
        if status == .success, let closing, let count = handleCounts[closing] {
            if count > 1 {
                handleCounts[closing] = count - 1
            } else {
                handleCounts[closing] = nil
                lastViews[closing] = nil
            }
        }
        return status
    }

    /// Closes every handle (the client disconnected).
    public func closeAll() {
        for (handle, _) in handles.all { handles.close(handle) }
        lastViews.removeAll()
        handleCounts.removeAll()
    }

    // MARK: - Resolution

    /// The classes answered from the kernel's task view alone (when there is one): basic
    /// information, Wow64, protection, subsystem.
    static let viewClasses: Set<UInt32> = [0, 26, 61, 75]

    func resolve(_ handle: Handle, probePassed: Bool, viewSuffices: Bool = false) -> HandleResolution {
        if handle == .currentProcess {
            guard let me = selfObject ?? liveObject(caller.pid) else { return .invalid }
            selfObject = me
            return .process(granted: .processAllAccess,
                            source: snapshot(of: me, probePassed: probePassed, viewSuffices: viewSuffices))
        }
        if handle.isNonProcessPseudoHandle { return .otherObjectType }
        guard let entry = handles.entry(for: handle) else { return .invalid }
        switch entry.object {
        case .process(let object):
            return .process(granted: entry.grantedAccess,
                            source: snapshot(of: object, probePassed: probePassed, viewSuffices: viewSuffices))
        case .debugObject: return .otherObjectType
        }
    }

    private func snapshot(of object: ProcessObject, probePassed: Bool, freshSince: UInt64? = nil,
                          viewSuffices: Bool = false) -> ProcessSnapshot {
        let snapshot = object.snapshot(freshSince: freshSince, viewSuffices: viewSuffices)
        snapshot.callerView = view(of: object.identity, exited: snapshot.hasExited, probePassed: probePassed)
        snapshot.debugObjectOpener = debugObjectOpener
        return snapshot
    }

    /// Inserts a debug object handle (class 30): made once, shared by every snapshot.
    private lazy var debugObjectOpener: (Int32) -> Result<Handle, NTStatus> = { [unowned self] tracer in
        handles.insert(.debugObject(tracerPid: tracer), access: Self.debugAllAccess)
    }

    /// The caller's view: everything of itself; of a running process what the kernel's check
    /// says now; of an exited one the last view it had through a handle.
    private func view(of identity: ProcessIdentity, exited: Bool, probePassed: Bool) -> CallerView {
        if identity.pid == caller.pid { return .everything }
        if exited { return lastViews[identity] ?? .publicOnly }
        let view = views(identity, probePassed)
        lastViews[identity] = view
        return view
    }

    private func liveObject(_ pid: Int32) -> ProcessObject? { try? objects(pid) }

    /// An exited process this session still references, as NT keeps it in the CID table.
    private func referencedObject(_ pid: Int32) -> ProcessObject? {
        for (_, entry) in handles.all {
            if case .process(let object) = entry.object, object.identity.pid == pid { return object }
        }
        return nil
    }

    private func relation(to snapshot: ProcessSnapshot) -> CallerRelation {
        if snapshot.record.identity.pid == caller.pid { return .itself }
        if caller.uid == 0 { return .ownerOrRoot }
        let uids = snapshot.facts.status.uids.prefix(3)
        return !uids.isEmpty && uids.allSatisfy({ $0 == caller.uid }) ? .ownerOrRoot : .other
    }
}
