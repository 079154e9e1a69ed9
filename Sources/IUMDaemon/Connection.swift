// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import IUMProtocol
import KernelGuard
import GuardABI
import Logging
import NTModel
import ProcessTable
import NTSession
import LinuxEdge

/// One client connection: its peer credentials, its NT session (handle table) and the loop
/// that answers its frames. Runs on its own thread, so a slow client only slows itself.
/// The handle table is freed when the client disconnects.
final class Connection {
    let fd: Int32
    let peer: Peer
    let caller: CallerCredentials
    let daemon: DaemonState
    let session: NTProcessSession
    let views: CallerViews
    var logger: Logger
    /// Runs once the current replies are sent (the unload request stops the daemon after it
    /// has answered).
    var afterReplies: (() -> Void)?
    /// The peer process, once it asked for its task view table; its handles' targets are then
    /// granted to that table (ViewSlots).
    var viewClient: ProcessIdentity?
    /// A file descriptor to attach to the next reply (the view table).
    var attachment: Int32?
    /// The targets of handles a close batch closed, whose view grants are withdrawn once the
    /// frame sent with the batch is handled, before its answer (libium sends a batch at the head
    /// of its next request's message), or at once when the batch came alone: a handle closed and
    /// its process opened again in one message keep their grant, instead of a delete and an
    /// update of the guard's map (two bpf() calls, ~2 µs here). By identity: a process that
    /// reused the pid of one closed here keeps the grant its own open gave.
    var closedGrants: [ProcessIdentity] = []
    /// The frame just handled was a close batch: the next one, if already queued, comes first.
    var holdClosedGrants = false

    init(fd: Int32, peer: Peer, daemon: DaemonState) {
        self.fd = fd
        self.peer = peer
        self.caller = CallerCredentials(pid: peer.pid, uid: peer.uid)
        self.daemon = daemon
        let views = CallerViews(guardRef: daemon.guardRef, directory: daemon.directory, visibility: daemon.visibility,
                                peer: peer, reader: daemon.reader)
        self.views = views
        self.session = NTProcessSession(caller: caller, reader: daemon.reader, handleLimit: daemon.configuration.handleLimit,
                                        objects: { [directory = daemon.directory] pid throws(ProcessTableError) in try directory.object(pid: pid) },
                                        views: { views.view(of: $0, probePassed: $1) })
        self.logger = daemon.logger
        logger[metadataKey: "peer"] = "\(peer.pid)/uid \(peer.uid)"
    }

    /// Reads frames until the peer disconnects.
    func serve() {
        defer {
            withdrawClosedGrants()
            if let client = viewClient {
                daemon.viewSlots?.detach(client, held: session.heldProcesses)
            }
            session.closeAll()
            close(fd)
        }
        var buffer = [UInt8](repeating: 0, count: Frame.maximumSize + 1)
        while true {
            var received = try? Sockets.receive(fd, into: &buffer, flags: closedGrants.isEmpty ? .truncate : [.truncate, .dontWait])
            if received == nil, !closedGrants.isEmpty {
                withdrawClosedGrants() // the batch came alone: nothing to wait for
                received = try? Sockets.receive(fd, into: &buffer, flags: .truncate)
            }
            guard let n = received, n > 0 else { return }
            let frame = Array(buffer[0..<min(n, buffer.count)])
            let (replies, keepOpen) = handle(frame, receivedSize: n)
            if holdClosedGrants { holdClosedGrants = false } else { withdrawClosedGrants() }
            for reply in replies {
                let sent: Bool
                if let attached = attachment {
                    attachment = nil
                    sent = Sockets.sendMessage(fd, reply, passing: attached)
                    close(attached)
                } else {
                    sent = send(reply)
                }
                if !sent { return }
            }
            if let action = afterReplies {
                afterReplies = nil
                action()
            }
            if !keepOpen { return }
        }
    }

    /// Sends one frame; false when the peer is gone.
    func send(_ frame: [UInt8]) -> Bool {
        Sockets.sendMessage(fd, frame)
    }

    /// Answers one frame. Malformed frames get an error reply; a frame whose header cannot be
    /// trusted (bad magic or version) also ends the connection. `ledByBatch`: the frame came
    /// after a close batch in the same message.
    func handle(_ frame: [UInt8], receivedSize: Int, ledByBatch: Bool = false) -> (replies: [[UInt8]], keepOpen: Bool) {
        let header: (type: MessageType, requestId: UInt32, payload: WireReader)
        do throws(ProtocolError) {
            if receivedSize > Frame.maximumSize { throw ProtocolError.tooLarge(receivedSize) }
            header = try Frame.decodeHeader(frame)
        } catch {
            logger.warning("malformed frame", metadata: ["error": "\(error)"])
            let fatal: Bool = switch error { case .badMagic, .unsupportedVersion: true; default: false }
            return ([StatusReply(status: .invalidParameter, message: error.description).encode(.error, requestId: requestId(frame))], !fatal)
        }
        if header.type != .status, let refusal = foreignNamespaceRefusal {
            return ([StatusReply(status: .notSupported, message: refusal).encode(.error, requestId: header.requestId)], true)
        }
        var payload = header.payload
        do {
            switch header.type {
            case .open:
                let request = try OpenRequest(&payload)
                let result = session.open(
                    clientId: request.clientId.map { ClientID(process: $0.process, thread: $0.thread) },
                    hasObjectName: request.hasObjectName, desiredAccess: request.desiredAccess,
                    probePassed: request.probePassed)
                return ([openReply(result).encode(requestId: header.requestId)], true)
            case .query:
                let started = monotonicNanoseconds()
                let request = try QueryRequest(&payload)
                let outcome = session.queryInformationProcess(
                    handle: request.handle, infoClass: request.infoClass, length: request.length,
                    buffer: request.buffer, returnLength: request.returnLength, probePassed: request.probePassed)
                let reply = outcome.encode(requestId: header.requestId)
                daemon.metrics.query(nanoseconds: monotonicNanoseconds() - started)
                return ([reply], true)
            case .close:
                let handle = Handle(rawValue: try payload.get())
                return ([StatusReply(status: closeHandle(handle)).encode(.close, requestId: header.requestId)], true)
            case .closeBatch:
                if ledByBatch { throw ProtocolError.invalidField("a close batch after a close batch in one message") }
                for handle in try CloseBatch(&payload).handles { closeHandle(handle, withdrawGrantLater: true) }
                let led = payload.rest
                guard !led.isEmpty else {
                    holdClosedGrants = true // the request sent after it, if already queued, comes first
                    return ([], true)
                }
                // The request sent in the same message (ViewsReply.batchLeadsRequest): its grants are
                // withdrawn once it is handled, before its answer (serve).
                return handle(led, receivedSize: led.count, ledByBatch: true)
            case .views:
                return ([viewTable().encode(requestId: header.requestId)], true)
            case .tag:
                let request = try TagRequest(&payload)
                return ([tag(request).encode(.tag, requestId: header.requestId)], true)
            case .list:
                let request = try ListRequest(&payload)
                let rows: [ProcessListing]
                do {
                    rows = try daemon.directory.listing(secureOnly: request.secureOnly) { identity in
                        views.view(of: identity, probePassed: request.probed).visible
                    }
                } catch {
                    logger.error("cannot list the processes", metadata: ["error": "\(error)"])
                    let failure = StatusReply(status: .unsuccessful, message: "iumd cannot list the processes: \(error)")
                    return ([failure.encode(.error, requestId: header.requestId)], true)
                }
                return (Batch.frames(.list, requestId: header.requestId, items: rows, encode: Batch.encodeListing), true)
            case .status:
                return ([daemon.status().encode(requestId: header.requestId)], true)
            case .events:
                let request = try EventsRequest(&payload)
                guard daemon.isPrivileged(peer) else {
                    let refusal = StatusReply(status: .accessDenied,
                                              message: "reading the audit store needs root or membership of the 'ium' group")
                    return ([refusal.encode(.error, requestId: header.requestId)], true)
                }
                streamEvents(request, requestId: header.requestId)
                return ([], !request.follow)
            case .unload:
                return ([unload().encode(.unload, requestId: header.requestId)], true)
            case .error:
                throw ProtocolError.invalidField("a client cannot send an error frame")
            }
        } catch {
            return ([StatusReply(status: .invalidParameter, message: "\(error)").encode(.error, requestId: header.requestId)], true)
        }
    }

    /// Why iumd answers this peer nothing but `status`, or nil: a peer in another PID namespace
    /// (a container without the host's) names processes by its namespace's pids, which name
    /// other processes here, and iumd's answers (pids, the table, the audit store) would show
    /// it processes its kernel hides from it. Refused with STATUS_NOT_SUPPORTED until iumd
    /// translates pids between namespaces (README: "Callers in another PID namespace").
    lazy var foreignNamespaceRefusal: String? = {
        let pids = views.peerNamespacePids
        if pids.count == 1 { return nil }
        let refusal = pids.isEmpty
            ? "iumd cannot read /proc/\(peer.pid)/status to learn this caller's PID namespace; it answers callers in its own PID namespace only"
            : "this caller runs in another PID namespace (pid \(pids.last ?? 0) there, \(peer.pid) in iumd's), where process ids name other processes than iumd's: iumd answers callers in its own PID namespace only (a container needs the host's, e.g. hostPID)"
        logger.notice("caller refused", metadata: ["reason": "\(refusal)"])
        return refusal
    }()

    /// NtClose on iumd's side: the handle, and its grant in the caller's view table (now, or
    /// with `withdrawGrantLater` after the next frame: ``closedGrants``).
    @discardableResult
    func closeHandle(_ handle: Handle, withdrawGrantLater: Bool = false) -> NTStatus {
        let target = session.identity(of: handle)
        let status = session.close(handle)
        guard let client = viewClient, let target, status == .success else { return status }
        if withdrawGrantLater {
            closedGrants.append(target)
        } else {
            daemon.viewSlots?.revoke(client, target: target)
        }
        return status
    }

    /// Withdraws the grants of the handles close batches closed.
    func withdrawClosedGrants() {
        guard let client = viewClient, !closedGrants.isEmpty else { return }
        for target in closedGrants { daemon.viewSlots?.revoke(client, target: target) }
        closedGrants.removeAll(keepingCapacity: true)
    }

    /// The open's reply; a granted handle also grants its process to the caller's view table.
    func openReply(_ result: Result<OpenedProcess, NTStatus>) -> OpenReply {
        let opened: OpenedProcess
        switch result {
        case .failure(let status): return OpenReply(status: status)
        case .success(let o): opened = o
        }
        let snapshot = opened.snapshot
        let identity = snapshot.record.identity
        if let client = viewClient, !snapshot.hasExited { daemon.viewSlots?.grant(client, target: identity) }
        let view = snapshot.facts.kernelView
        return OpenReply(
            status: .success, handle: opened.handle.rawValue, grantedAccess: opened.grantedAccess.rawValue,
            tableFlags: LinuxFlagAnalogs.tableFlags(facts: snapshot.facts, record: snapshot.record).rawValue,
            creatorPid: UInt64(UInt32(bitPattern: max(snapshot.record.creatorPid, 0))), startTicks: identity.startTime,
            execId: view?.exec_id ?? 0, cgroupId: view?.cgroup_id ?? 0,
            uids: view.map { ($0.uid, $0.euid, $0.suid) } ?? (0, 0, 0))
    }

    /// The caller's task view table: created for its process on the first request (the fd is
    /// attached to the reply); the handles it opened before are granted now.
    func viewTable() -> ViewsReply {
        guard let slots = daemon.viewSlots else { return ViewsReply(status: .notImplemented) }
        guard let start = try? daemon.reader.stat(peer.pid).startTime else { return ViewsReply(status: .invalidCID) }
        let client = ProcessIdentity(pid: peer.pid, startTime: start)
        if viewClient != nil { return ViewsReply(status: .invalidParameter) }
        do {
            attachment = try slots.attach(client)
        } catch {
            logger.warning("no task view table for a client", metadata: ["error": "\(error)"])
            return ViewsReply(status: .insufficientResources)
        }
        viewClient = client
        for identity in session.heldProcesses { slots.grant(client, target: identity) }
        return ViewsReply(status: .success, records: UInt32(IUM_VIEW_RECORDS), recordSize: UInt32(MemoryLayout<ium_view>.size),
                          features: ViewsReply.batchLeadsRequest)
    }

    private func requestId(_ frame: [UInt8]) -> UInt32 {
        var r = WireReader(frame, offset: 8)
        return (try? r.get(UInt32.self)) ?? 0
    }

    /// Tags a process: root or members of the `ium` group; pid 0 is the caller itself.
    func tag(_ request: TagRequest) -> StatusReply {
        guard daemon.isPrivileged(peer) else {
            return StatusReply(status: .accessDenied, message: "tagging needs root or membership of the 'ium' group")
        }
        let pid = request.pid == 0 ? caller.pid : request.pid
        do throws(GuardError) {
            let warnings = try daemon.tagger.tag(pid: pid)
            daemon.metrics.tagRequest(succeeded: true)
            logger.notice("tagged process secure", metadata: ["pid": "\(pid)", "warnings": "\(warnings)"])
            let message = "process \(pid) is secure (\(daemon.guardRef.backend) backend)"
            return StatusReply(status: .success, message: ([message] + warnings.map { "warning: " + $0 }).joined(separator: "\n"))
        } catch {
            daemon.metrics.tagRequest(succeeded: false)
            let status: NTStatus = switch error.code {
            case .noSuchProcess: .invalidCID
            case .io: .unsuccessful
            default: .accessDenied
            }
            return StatusReply(status: status, message: error.description)
        }
    }

    /// Unloads the guard (root only): enforcement stops, every tag is gone, iumd stops after
    /// answering.
    func unload() -> StatusReply {
        guard peer.uid == 0 else {
            return StatusReply(status: .accessDenied, message: "unloading the guard needs root")
        }
        do { try daemon.unloadGuard(requestedBy: peer) } catch {
            return StatusReply(status: .accessDenied, message: error.description)
        }
        afterReplies = { [daemon] in daemon.onStop?() }
        return StatusReply(status: .success, message: "guard unloaded from \(daemon.guardRef.pinDirectory): enforcement stopped; iumd stops")
    }

    /// Sends audit rows after the request's id; with follow, keeps sending new rows until the
    /// peer hangs up. A store that cannot be read ends the stream with an error frame (the
    /// client says so and exits 1), never with "no events".
    func streamEvents(_ request: EventsRequest, requestId: UInt32) {
        var last = request.sinceId
        while true {
            let rows: [AuditRecord]
            do { rows = try daemon.audit.denials(sinceId: last, sinceTime: request.sinceTime) } catch {
                logger.error("cannot read the audit store", metadata: ["error": "\(error)"])
                _ = send(StatusReply(status: .unsuccessful, message: "iumd cannot read the audit store: \(error)").encode(.error, requestId: requestId))
                return
            }
            if let id = rows.last?.id { last = id }
            let full = rows.count == 1000
            let final = !request.follow && !full
            if !rows.isEmpty || final {
                for frame in Batch.frames(.events, requestId: requestId, items: rows, last: final, encode: Batch.encodeAudit) {
                    if !send(frame) { return }
                }
            }
            if final { return }
            if full { continue }
            // Following: wait for new rows, or for the peer to hang up.
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 250) > 0 { return }
        }
    }
}
