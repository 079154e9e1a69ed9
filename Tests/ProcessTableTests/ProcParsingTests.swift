// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import ProcessTable
import NTModel
import GuardABI

@Suite("/proc parsing")
struct ProcParsingTests {
    @Test("a comm with spaces and parentheses is read up to the last parenthesis")
    func statWithOddComm() throws {
        var fields: [String] = (4...52).map { String($0) }
        fields[22 - 4] = "987654"
        fields[41 - 4] = "5"
        let text = "42 (a (b) c) S " + fields.joined(separator: " ") + "\n"
        let stat = try #require(ProcStat(parsing: text))
        #expect(stat.pid == 42)
        #expect(stat.comm == "a (b) c")
        #expect(stat.state == "S")
        #expect(stat.ppid == 4)
        #expect(stat.startTime == 987_654)
        #expect(stat.policy == 5)
        #expect(stat.exitCode == 52)
    }

    @Test("a truncated stat line is rejected, not trapped on")
    func truncatedStat() {
        #expect(ProcStat(parsing: "42 (x) S 1 2 3") == nil)
        #expect(ProcStat(parsing: "garbage") == nil)
    }

    @Test("status gives uids, TracerPid, NSpid and the first 64 CPUs of Cpus_allowed")
    func status() {
        let s = ProcStatus(parsing: "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGroups:\t4 24 27 \nTracerPid:\t77\nNSpid:\t900\t1\nCpus_allowed:\tff,00000003\n")
        #expect(s.uids == [1000, 1001, 1002, 1003])
        #expect(s.euid == 1001)
        #expect(s.groups == [4, 24, 27])
        #expect(s.tracerPid == 77)
        #expect(s.nsPids == [900, 1])
        #expect(s.cpusAllowed == 0xFF_0000_0003)
    }

    @Test("the base priority follows the policy and the nice value (task_view.h, the one mapping)")
    func basePriority() {
        #expect(ium_base_priority(0, 0) == 8)
        #expect(ium_base_priority(0, -5) == 10)
        #expect(ium_base_priority(0, -20) == 13)
        #expect(ium_base_priority(0, 5) == 6)
        #expect(ium_base_priority(0, 19) == 4)
        #expect(ium_base_priority(5, 0) == 4)
        #expect(ium_base_priority(1, 0) == 24)
    }

    @Test("command lines are quoted as CommandLineToArgvW reads them")
    func quoting() {
        #expect(ProcessSnapshot.quoteArgument("plain") == "plain")
        #expect(ProcessSnapshot.quoteArgument("two words") == "\"two words\"")
        #expect(ProcessSnapshot.quoteArgument("") == "\"\"")
        #expect(ProcessSnapshot.quoteArgument("say \"hi\"") == "\"say \\\"hi\\\"\"")
        #expect(ProcessSnapshot.quoteArgument("a b\\") == "\"a b\\\\\"")
    }
}
