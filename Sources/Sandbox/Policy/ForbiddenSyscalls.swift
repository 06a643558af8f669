extension SeccompPolicy {
    /// Syscalls no profile may allow: each one is a known way out of a container or into the
    /// host kernel's attack surface. The compiled filter kills the process on any of them, so
    /// the attempt is reported as `seccomp_violation` rather than passing unnoticed as EPERM.
    public static let forbidden: [String] = [
        // kernel keyrings, BPF and perf: large, often-exploited kernel interfaces
        "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
        // io_uring bypasses syscall filtering for the operations it performs
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        // mounts and namespaces: rebuilding the view of the host
        "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
        "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        // inspecting or driving other processes
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        // the kernel itself
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
        "lookup_dcookie", "vhangup", "uselib", "_sysctl",
        // file handles bypass path-based access checks (the "shocker" escape)
        "open_by_handle_at", "name_to_handle_at",
        // the host clock
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    ]
}
