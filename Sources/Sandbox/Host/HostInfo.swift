import Glibc

/// Facts about the host read once per process.
public enum HostInfo {
    public static let onlineCPUs: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// The highest capability number this kernel knows; every one is dropped from the bounding set.
    public static let capLastCap: Int32 = {
        Int32(readSmallFile("/proc/sys/kernel/cap_last_cap")?.trimmingWhitespace() ?? "") ?? 40
    }()

    public static var kernelRelease: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
