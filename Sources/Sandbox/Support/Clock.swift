import Glibc

/// Microseconds on CLOCK_MONOTONIC: immune to wall-clock changes, the clock every limit uses.
func monotonicMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
}
