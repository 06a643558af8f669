#ifndef AGENTGRID_CSANDBOX_H
#define AGENTGRID_CSANDBOX_H

// The C half of the sandbox: everything that runs in the child between clone() and
// execve(), plus the thin libseccomp glue the parent uses to compile a profile's filter.
//
// The parent (multi-threaded Swift) prepares a complete `sbx_plan` before cloning; the child
// only reads it. Nothing on the child side allocates, locks or touches the Swift runtime.

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- the steps of the child, reported with errno when one fails ----------------------------
enum sbx_step {
    SBX_STEP_NONE = 0,
    SBX_STEP_SIGNALS,
    SBX_STEP_SYNC,            // waiting for the parent (user namespace maps)
    SBX_STEP_CGROUP_JOIN,
    SBX_STEP_CGROUP_NAMESPACE,
    SBX_STEP_SESSION,
    SBX_STEP_STDIO,
    SBX_STEP_MOUNT_PRIVATE,
    SBX_STEP_ROOT_TMPFS,
    SBX_STEP_MOUNT_OP,        // `index` says which entry of plan->mounts
    SBX_STEP_PIVOT_ROOT,
    SBX_STEP_OLD_ROOT_DETACH,
    SBX_STEP_ROOT_READONLY,
    SBX_STEP_HOSTNAME,
    SBX_STEP_LOOPBACK,
    SBX_STEP_RLIMIT,          // `index` says which entry of plan->rlimits
    SBX_STEP_CHDIR,
    SBX_STEP_GROUPS,
    SBX_STEP_SETGID,
    SBX_STEP_SETUID,
    SBX_STEP_CAPS_BOUNDING,
    SBX_STEP_CAPS_AMBIENT,
    SBX_STEP_CAPS,
    SBX_STEP_NO_NEW_PRIVS,
    SBX_STEP_PARENT_DEATH,
    SBX_STEP_SECCOMP,         // `index` says which filter
    SBX_STEP_EXECVE,
    SBX_STEP_CLONE,           // reported by the parent: clone3 itself failed
};

// What the child writes to the report pipe when a step fails. EOF without a report means
// execve succeeded (the pipe is close-on-exec).
struct sbx_report {
    int32_t step;
    int32_t error;   // errno
    int32_t index;   // which mount op / rlimit / filter, or -1
};

// ---- the mount plan, built in the parent, executed in order by the child ------------------
enum sbx_mount_kind {
    SBX_MOUNT_DIR = 1,        // mkdir target (mode)
    SBX_MOUNT_FILE,           // create an empty regular file at target (a bind point)
    SBX_MOUNT_SYMLINK,        // symlink(source -> target)
    SBX_MOUNT_BIND,           // bind source onto target; flags MS_RDONLY etc. applied by remount
    SBX_MOUNT_TMPFS,          // tmpfs at target with data (size=…,mode=…), flags
    SBX_MOUNT_PROC,           // a new proc at target
    SBX_MOUNT_REMOUNT,        // remount target (already a mount) with flags (bind remount)
    SBX_MOUNT_WRITE_FILE,     // create target and write data (data_len bytes), mode
};

struct sbx_mount_op {
    int32_t kind;
    int32_t optional;         // a failure with ENOENT is skipped instead of reported
    const char *source;       // host path (bind) or link text (symlink)
    const char *target;       // absolute host-side path under the new root's mount point
    const char *data;         // tmpfs options or file contents
    size_t data_len;
    unsigned long flags;      // MS_* for the (re)mount
    uint32_t mode;
};

struct sbx_rlimit {
    int32_t resource;
    uint64_t soft;
    uint64_t hard;
};

struct sbx_filter {
    const void *instructions; // struct sock_filter[]
    uint16_t length;
};

struct sbx_plan {
    // the child's stack: owned by the caller's slot and reused (one spawn at a time per stack);
    // mapping and unmapping one per run cost TLB-shootdown IPIs across the runner's threads
    void *stack;
    size_t stack_size;

    // namespaces
    int32_t new_user_namespace;      // CLONE_NEWUSER: wait on sync_fd until the maps are written
    int32_t sync_fd;                 // read end; -1 when no wait is needed

    // cgroup: pre-opened cgroup.procs descriptors (one per v1 hierarchy, one for v2)
    const int32_t *cgroup_procs_fds;
    size_t cgroup_procs_count;

    // stdio: host descriptors that become 0, 1, 2
    int32_t stdin_fd, stdout_fd, stderr_fd;
    int32_t report_fd;               // write end of the report pipe, close-on-exec

    // filesystem
    const char *root;                // host directory the new root's tmpfs is mounted on
    const char *root_tmpfs_data;     // e.g. "size=1m,nr_inodes=4096,mode=0755"
    const struct sbx_mount_op *mounts;
    size_t mount_count;
    const char *workdir;             // inside the new root, after pivot_root

    // identity and limits
    const char *hostname;
    uint32_t uid, gid;               // as seen inside (== host ids without a user namespace)
    int32_t cap_last_cap;            // /proc/sys/kernel/cap_last_cap
    const struct sbx_rlimit *rlimits;
    size_t rlimit_count;

    // seccomp: installed in order, right before execve (the profile's policy last: it may not
    // allow seccomp() itself)
    const struct sbx_filter *filters;
    size_t filter_count;

    // program: candidates tried in order (PATH search done in the parent's plan)
    const char *const *exec_paths;
    size_t exec_path_count;
    char *const *argv;
    char *const *envp;
};

// A stack for sbx_plan.stack (mmap'd; NULL on failure), and its release.
void *sbx_stack_allocate(size_t size);
void sbx_stack_free(void *stack, size_t size);

// Clones the child into new namespaces and runs the plan there. Returns the child's pid
// (and its pidfd in *pidfd) or -1 with errno set. Never returns in the child.
pid_t sbx_spawn(const struct sbx_plan *plan, int *pidfd);

// Reaps the child through its pidfd. Returns 1 when it has exited (exit code or signal set),
// 0 when still running (nonblocking only), or a negative errno.
int sbx_pidfd_wait(int pidfd, int32_t *exit_code, int32_t *signal_number, int nonblocking);
// SIGKILL through the pidfd: never hits a recycled pid.
int sbx_pidfd_kill(int pidfd);

// Wrappers for calls glibc only declares under _GNU_SOURCE.
int sbx_pipe_cloexec(int fds[2]);
int sbx_eventfd(void);
struct pollfd;
int sbx_poll_us(struct pollfd *fds, unsigned long count, int64_t timeout_us);
int32_t sbx_rlimit_nproc(void);
// 1 when pidfds work on this kernel.
int sbx_pidfd_supported(void);

// ---- seccomp compilation (parent side, libseccomp) -----------------------------------------
enum sbx_action_kind { SBX_ACTION_ALLOW = 0, SBX_ACTION_ERRNO = 1, SBX_ACTION_KILL = 2 };

struct sbx_syscall_rule {
    int32_t number;
    int32_t action;      // sbx_action_kind
    int32_t errno_value;
};

// Compiles an allow-list policy for the native architecture (other architectures and the
// x32 ABI are killed). On success *out holds malloc'd sock_filter instructions (free with
// sbx_filter_free). Returns 0 or a negative errno.
int sbx_policy_compile(int32_t default_action, int32_t default_errno,
                       const struct sbx_syscall_rule *rules, size_t rule_count,
                       struct sbx_filter *out);
void sbx_filter_free(struct sbx_filter *filter);

// The fixed guard filter: argument checks libseccomp cannot express as an allow-list
// (personality beyond the default, clone with namespace flags, AF_VSOCK / AF_PACKET and raw
// sockets) kill the process. Static storage; never freed.
struct sbx_filter sbx_guard_filter(void);

// Native syscall number for a name, or -1 when this architecture has no such syscall.
int32_t sbx_syscall_number(const char *name);
// The name of a native syscall number (static storage), or NULL.
const char *sbx_syscall_name(int32_t number);

#ifdef __cplusplus
}
#endif
#endif
