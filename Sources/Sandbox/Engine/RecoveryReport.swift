/// What an engine found when it started: the leftovers of engines that died.
public struct RecoveryReport: Sendable, Equatable {
    /// Engine groups whose process was gone, emptied and removed.
    public var sweptGroups: [String] = []
    /// Slot cgroups of a previous engine of this name (it died without cleaning up), reused.
    public var adoptedSlots: [String] = []
    /// Our own slots that still had processes in them (a crash of this engine), now emptied.
    public var emptiedSlots: [String] = []
    /// Slots that could not be emptied, with why; they are never used.
    public var quarantinedSlots: [String] = []

    public var isClean: Bool {
        sweptGroups.isEmpty && adoptedSlots.isEmpty && emptiedSlots.isEmpty && quarantinedSlots.isEmpty
    }
}
