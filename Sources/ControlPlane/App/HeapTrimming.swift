import CMalloc

/// glibc hands the free top of each thread's heap back to the kernel once 128 KiB of it is free,
/// and the server's next requests take the same memory again, one page fault per page (the
/// SQLite writer's page cache, request buffers). Under the end-to-end benchmark's load that cost
/// 0.3–0.5 ms of CPU per run, a tenth of the control plane's. A server's heap is better kept: it
/// is returned only when 64 MiB at its top are free.
enum HeapTrimming {
    static func keepFreedMemory() {
        _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
    }
}
