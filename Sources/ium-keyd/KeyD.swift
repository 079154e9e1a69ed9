// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import IUMClient
import NTModel
import LinuxEdge

/// ium-keyd, the reference trustlet: an Ed25519 signing key that no one can take — not the
/// users it signs for, not root. Start it secure (`ium run --no-new-privs --mdwe -- ium-keyd
/// serve …`, or the systemd unit in contrib/systemd): the guard keeps every debugger, memory
/// reader and injector out of the process, and the key lives in secret memory, out of the
/// kernel's own direct map, so no core dump or /proc/kcore scan holds it either.
@main
struct KeyD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ium-keyd",
        abstract: "A signing key in a secure process (the reference ium trustlet).",
        subcommands: [Serve.self, PublicKey.self, Sign.self, Verify.self])

    static let defaultSocket = "/run/ium-keyd/keyd.sock"
}

struct SocketOption: ParsableArguments {
    @Option(help: "ium-keyd's socket.")
    var socket = KeyD.defaultSocket
}

extension KeyD {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold the key and sign for the allowed peers.",
            discussion: """
                Without --key-file a new key is generated in secret memory. Prints the public key \
                (hex) once it listens. Refuses to start unless iumd reports this process secure \
                (IsSecureProcess): start it with ium run.
                """)
        @OptionGroup var socket: SocketOption
        @Option(help: "Import this key (32 raw bytes, mode 0600): read once into secret memory, then wiped and removed.")
        var keyFile: String?
        @Option(help: "A uid allowed to use the key (repeatable; default: ium-keyd's own uid).")
        var allowUid: [UInt32] = []
        @Option(help: "A gid allowed to use the key (repeatable).")
        var allowGid: [UInt32] = []
        @Flag(help: "Start even if this process is not secure (development only: the key is then readable by root).")
        var insecure = false

        func run() throws {
            if !insecure { try Self.requireSecure() }
            let key: SigningKey
            do throws(KeyError) {
                if let keyFile { key = try SigningKey(importing: keyFile) } else { key = try SigningKey() }
            } catch {
                throw Failure(error.description)
            }
            let listener: Int32
            do { listener = try Sockets.listen(path: socket.socket, backlog: 64) } catch {
                throw Failure("cannot listen on \(socket.socket): \(error)")
            }
            let ready = "ium-keyd: pid \(getpid()), socket \(socket.socket), public key \(hex(key.publicKey))\n"
            _ = write(1, ready, ready.utf8.count)
            let allowlist = Allowlist(uids: allowUid.isEmpty && allowGid.isEmpty ? [getuid()] : Set(allowUid), gids: Set(allowGid))
            Server(key: key, allowlist: allowlist, listener: listener).run()
        }

        /// Asks iumd, as any driver would, whether this process is secure
        /// (NtQueryInformationProcess, ProcessBasicInformation, the extended structure).
        static func requireSecure() throws {
            let client: IUMClient
            do { client = try IUMClient() } catch {
                throw Failure("cannot ask iumd whether this process is secure: \(error.message) (or pass --insecure)")
            }
            guard case .success(let handle) = try client.openProcess(pid: UInt64(getpid()), access: .queryLimitedInformation) else {
                throw Failure("iumd cannot open this process")
            }
            let outcome = try withQueryBuffers(length: 64) { buffer, _ in
                try client.queryInformationProcess(handle: handle, infoClass: 0, length: 64, bufferAddress: buffer, returnLengthAddress: 0)
            }
            _ = try client.close(handle: handle)
            guard outcome.status == .success, let info = try? ProcessExtendedBasicInformation(decoding: outcome.output) else {
                throw Failure("iumd's answer about this process: \(outcome.status)")
            }
            guard info.flags.contains(.isSecureProcess) else {
                throw Failure("this process is not secure: start it with `ium run -- ium-keyd serve …` (or pass --insecure)")
            }
        }
    }

    struct PublicKey: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the key's public half (hex).")
        @OptionGroup var socket: SocketOption

        func run() throws {
            print(hex(try ask(socket.socket, Wire.publicKey)))
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a message (the argument, or standard input); prints the signature (hex).")
        @OptionGroup var socket: SocketOption
        @Argument(help: "The message (default: standard input).")
        var message: String?

        func run() throws {
            print(hex(try ask(socket.socket, Wire.sign, try messageBytes(message))))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a signature of a message against the key; exit 0 if valid, 1 if not.")
        @OptionGroup var socket: SocketOption
        @Argument(help: "The signature (hex, 64 bytes).")
        var signature: String
        @Argument(help: "The message (default: standard input).")
        var message: String?

        func run() throws {
            guard let signature = unhex(signature), signature.count == 64 else {
                throw ValidationError("a signature is 128 hex digits")
            }
            let valid = try ask(socket.socket, Wire.verify, signature + messageBytes(message)) == [1]
            print(valid ? "valid" : "invalid")
            if !valid { throw ExitCode.failure }
        }
    }
}

func ask(_ socket: String, _ operation: UInt8, _ payload: [UInt8] = []) throws -> [UInt8] {
    do { return try KeydConnection(socket: socket).ask(operation, payload) } catch { throw Failure(error.description) }
}

func messageBytes(_ argument: String?) throws -> [UInt8] {
    var bytes = argument.map { Array($0.utf8) } ?? []
    if argument == nil {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let n = read(0, &chunk, chunk.count), n != 0 {
            guard n > 0 else { throw Failure("cannot read standard input: \(String(cString: strerror(errno)))") }
            bytes += chunk[0..<n]
        }
    }
    guard bytes.count <= Wire.maxMessage else { throw Failure("a message is at most \(Wire.maxMessage) bytes") }
    return bytes
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func unhex(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
        bytes.append(byte)
    }
    return bytes
}

/// A failure at run time: ium-keyd prints "Error: " and the text, and exits 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
