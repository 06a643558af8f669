import Foundation
import Glibc

/// CPU time for the "CPU per run" lines of the benchmarks.
public enum ProcessCPU {
    /// utime + stime of a process and its reaped children (a runner's sandboxes), from /proc.
    public static func microseconds(pid: Int32) -> Int64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime 14, stime 15, cutime 16, cstime 17.
        let ticks = [11, 12, 13, 14].compactMap { Int64(fields[$0]) }.reduce(0, +)
        return ticks * 1_000_000 / Int64(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// This process's own CPU time.
    public static func ownMicroseconds() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }
}
