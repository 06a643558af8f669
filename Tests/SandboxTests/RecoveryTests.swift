import Foundation
import Glibc
import Testing
@testable import Sandbox

/// Start-up finds what dead engines left behind and cleans it; live engines are left alone.
/// Solo: any engine starting elsewhere in the process would sweep the fake dead engine first,
/// so `make test` runs this suite on its own, after the others.
@Suite(.serialized) struct RecoverySoloTests {
    @Test func aDeadEnginesCgroupsAndProcessesAreSweptAtStartup() async throws {
        // A live engine, which the sweep must leave alone.
        try await Fixture.withEngine(slots: 1) { live in
            // A crashed engine: a group whose slot still holds a process, and no instance lock.
            let deadName = "dead-\(getpid())"
            let dead = try CgroupProbe.host().driver(group: "agentgrid/\(deadName)")
            let slot = try dead.makeSlot(named: "slot0")
            let sleeper = Process()
            sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
            sleeper.arguments = ["30"]
            try sleeper.run()
            defer { if sleeper.isRunning { sleeper.terminate() } }
            for descriptor in slot.procsDescriptors {
                _ = "\(sleeper.processIdentifier)".withCString { write(descriptor, $0, strlen($0)) }
            }
            #expect(try slot.processes() == [sleeper.processIdentifier])

            let engine = try SandboxEngine(configuration: EngineConfiguration(
                slots: 1, instance: "sweeper-\(getpid())", stateDirectory: Fixture.stateDirectory))
            #expect(engine.recovery.sweptGroups.contains(deadName))
            #expect(!engine.recovery.sweptGroups.contains(where: { $0.hasPrefix("test-") }))  // the live one stays
            sleeper.waitUntilExit()
            #expect(sleeper.terminationReason == .uncaughtSignal && sleeper.terminationStatus == SIGKILL)
            #expect(!dead.siblingGroups().contains("agentgrid/\(deadName)"))
            let stillServing = try await live.run(RunRequest(arguments: ["/bin/true"]), profile: Fixture.profile())
            #expect(stillServing.outcome == .completed)
            await engine.shutdown()
        }
    }

    @Test func leftoverSlotsOfTheSameNameAreAdoptedAndEmptied() async throws {
        let name = "adopt-\(getpid())"
        // What a crashed engine of this name leaves: its slot cgroup with a process inside.
        let leftover = try CgroupProbe.host().driver(group: "agentgrid/\(name)").makeSlot(named: "slot0")
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { if sleeper.isRunning { sleeper.terminate() } }
        for descriptor in leftover.procsDescriptors {
            _ = "\(sleeper.processIdentifier)".withCString { write(descriptor, $0, strlen($0)) }
        }
        let engine = try SandboxEngine(configuration: EngineConfiguration(slots: 1, instance: name, stateDirectory: Fixture.stateDirectory))
        #expect(engine.recovery.adoptedSlots == ["slot0"])
        #expect(engine.recovery.emptiedSlots == ["slot0"])
        #expect(engine.recovery.quarantinedSlots.isEmpty)
        sleeper.waitUntilExit()
        #expect(sleeper.terminationStatus == SIGKILL)
        #expect(try await engine.run(RunRequest(arguments: ["/bin/true"]), profile: Fixture.profile()).outcome == .completed)
        await engine.shutdown()
    }

    @Test func twoEnginesCannotShareAName() async throws {
        let name = "twice-\(getpid())"
        let first = try SandboxEngine(configuration: EngineConfiguration(slots: 1, instance: name, stateDirectory: Fixture.stateDirectory))
        #expect(throws: SandboxError.self) {
            _ = try SandboxEngine(configuration: EngineConfiguration(slots: 1, instance: name, stateDirectory: Fixture.stateDirectory))
        }
        await first.shutdown()
        // Once it is gone the name is free again.
        let second = try SandboxEngine(configuration: EngineConfiguration(slots: 1, instance: name, stateDirectory: Fixture.stateDirectory))
        await second.shutdown()
    }
}
