// The child side of the sandbox: the steps between clone3() and execve().
//
// Runs in a copy of a multi-threaded parent, so it must be async-signal-safe: raw syscalls
// and a few libc wrappers only, no allocation, no locks, no stdio. Every step that can fail
// reports its number and errno through the report pipe and exits.
#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

__attribute__((noreturn)) static void fail(const struct sbx_plan *plan, int step, int error, int index) {
    struct sbx_report report = { .step = step, .error = error, .index = index };
    // Best effort: if the pipe is gone the parent sees EOF and a non-zero exit.
    ssize_t ignored = write(plan->report_fd, &report, sizeof report);
    (void)ignored;
    _exit(127);
}

#define CHECK(step, expr) do { if ((expr) < 0) fail(plan, (step), errno, -1); } while (0)

// ---- process state inherited from the parent ----------------------------------------------

// Handlers do not survive execve, but ignored signals and the blocked mask do: the runner
// ignores SIGPIPE, and the program must not inherit that.
static void reset_signals(const struct sbx_plan *plan) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &dfl, NULL);  // EINVAL for glibc-reserved signals is fine
    }
    sigset_t none;
    sigemptyset(&none);
    CHECK(SBX_STEP_SIGNALS, sigprocmask(SIG_SETMASK, &none, NULL));
}

// Only 0, 1 and 2 reach the program, whatever the caller left open without O_CLOEXEC.
static void setup_stdio(const struct sbx_plan *plan) {
    int fds[3] = { plan->stdin_fd, plan->stdout_fd, plan->stderr_fd };
    int moved[3];
    // Move out of the way first, so a source that is itself 0, 1 or 2 is not clobbered.
    for (int i = 0; i < 3; i++) {
        moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
        if (moved[i] < 0) fail(plan, SBX_STEP_STDIO, errno, i);
    }
    for (int i = 0; i < 3; i++) {
        if (dup3(moved[i], i, 0) < 0) fail(plan, SBX_STEP_STDIO, errno, i);
    }
    CHECK(SBX_STEP_STDIO, syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC));
}

static void wait_for_parent(const struct sbx_plan *plan) {
    if (plan->sync_fd < 0) return;
    char byte;
    ssize_t n;
    do { n = read(plan->sync_fd, &byte, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) fail(plan, SBX_STEP_SYNC, n < 0 ? errno : EPIPE, -1);
}

// Inside a new user namespace only the mapped ids can own files: take the sandbox uid/gid
// now, keeping the namespace's capabilities, so the root we build is owned by a mapped id
// (otherwise every mkdir fails with EOVERFLOW). The host root is never mapped.
static void assume_namespace_identity(const struct sbx_plan *plan) {
    if (!plan->new_user_namespace) return;
    CHECK(SBX_STEP_SETUID, prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    CHECK(SBX_STEP_GROUPS, syscall(SYS_setgroups, 0, NULL));
    CHECK(SBX_STEP_SETGID, syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid));
    CHECK(SBX_STEP_SETUID, syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid));
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    CHECK(SBX_STEP_CAPS, syscall(SYS_capget, &header, data));
    data[0].effective = data[0].permitted;
    data[1].effective = data[1].permitted;
    CHECK(SBX_STEP_CAPS, syscall(SYS_capset, &header, data));
}

// Joining through descriptors the parent opened works from inside a user namespace too:
// cgroup.procs checks the opener's credentials.
static void join_cgroups(const struct sbx_plan *plan) {
    for (size_t i = 0; i < plan->cgroup_procs_count; i++) {
        if (write(plan->cgroup_procs_fds[i], "0", 1) != 1) fail(plan, SBX_STEP_CGROUP_JOIN, errno, (int)i);
    }
    if (plan->cgroup_procs_count > 0) CHECK(SBX_STEP_CGROUP_NAMESPACE, unshare(CLONE_NEWCGROUP));
}

// ---- the fresh root ------------------------------------------------------------------------

// A read-only bind remount must keep the flags the kernel locked on the source mount (in a
// user namespace a remount that drops nosuid/nodev/noexec is refused).
static unsigned long locked_flags(const char *target) {
    struct statvfs st;
    if (statvfs(target, &st) < 0) return 0;
    unsigned long flags = 0;
    if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

static int run_mount_op(const struct sbx_mount_op *op) {
    switch (op->kind) {
    case SBX_MOUNT_DIR:
        if (mkdir(op->target, op->mode) < 0 && errno != EEXIST) return -1;
        return 0;
    case SBX_MOUNT_FILE: {
        int fd = open(op->target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, op->mode);
        if (fd < 0) return -1;
        close(fd);
        return 0;
    }
    case SBX_MOUNT_SYMLINK:
        return symlink(op->source, op->target);
    case SBX_MOUNT_BIND:
        if (mount(op->source, op->target, NULL, MS_BIND, NULL) < 0) return -1;
        if (op->flags == 0) return 0;
        return mount(NULL, op->target, NULL,
                     MS_BIND | MS_REMOUNT | op->flags | locked_flags(op->target), NULL);
    case SBX_MOUNT_TMPFS:
        return mount("tmpfs", op->target, "tmpfs", op->flags, op->data);
    case SBX_MOUNT_PROC:
        return mount("proc", op->target, "proc", op->flags, NULL);
    case SBX_MOUNT_REMOUNT:
        return mount(NULL, op->target, NULL,
                     MS_BIND | MS_REMOUNT | op->flags | locked_flags(op->target), NULL);
    case SBX_MOUNT_WRITE_FILE: {
        int fd = open(op->target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, op->mode);
        if (fd < 0) return -1;
        size_t done = 0;
        while (done < op->data_len) {
            ssize_t n = write(fd, op->data + done, op->data_len - done);
            if (n < 0) { if (errno == EINTR) continue; int e = errno; close(fd); errno = e; return -1; }
            done += (size_t)n;
        }
        close(fd);
        return 0;
    }
    default:
        errno = EINVAL;
        return -1;
    }
}

static void build_root(const struct sbx_plan *plan) {
    // Nothing we mount may propagate back to the host, nor host mounts into us.
    CHECK(SBX_STEP_MOUNT_PRIVATE, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    CHECK(SBX_STEP_ROOT_TMPFS, mount("tmpfs", plan->root, "tmpfs", MS_NOSUID | MS_NODEV,
                                     plan->root_tmpfs_data));
    for (size_t i = 0; i < plan->mount_count; i++) {
        const struct sbx_mount_op *op = &plan->mounts[i];
        if (run_mount_op(op) < 0) {
            if (op->optional && errno == ENOENT) continue;
            fail(plan, SBX_STEP_MOUNT_OP, errno, (int)i);
        }
    }
}

// pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
// program no path back to the host's tree.
static void enter_root(const struct sbx_plan *plan) {
    CHECK(SBX_STEP_PIVOT_ROOT, chdir(plan->root));
    CHECK(SBX_STEP_PIVOT_ROOT, syscall(SYS_pivot_root, ".", "."));
    CHECK(SBX_STEP_OLD_ROOT_DETACH, umount2(".", MNT_DETACH));
    CHECK(SBX_STEP_PIVOT_ROOT, chdir("/"));
    CHECK(SBX_STEP_ROOT_READONLY,
          mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
}

// ---- host-facing names ---------------------------------------------------------------------

static void set_hostname(const struct sbx_plan *plan) {
    CHECK(SBX_STEP_HOSTNAME, sethostname(plan->hostname, strlen(plan->hostname)));
}

// The new network namespace has only a loopback device, down. Bringing it up lets programs
// talk to themselves over 127.0.0.1 without reaching anything else.
static void loopback_up(const struct sbx_plan *plan) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(plan, SBX_STEP_LOOPBACK, errno, -1);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail(plan, SBX_STEP_LOOPBACK, errno, -1);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail(plan, SBX_STEP_LOOPBACK, errno, -1);
    close(fd);
}

// ---- identity, limits, privileges ----------------------------------------------------------

static void apply_rlimits(const struct sbx_plan *plan) {
    for (size_t i = 0; i < plan->rlimit_count; i++) {
        struct rlimit limit = { .rlim_cur = plan->rlimits[i].soft, .rlim_max = plan->rlimits[i].hard };
        if (setrlimit(plan->rlimits[i].resource, &limit) < 0) fail(plan, SBX_STEP_RLIMIT, errno, (int)i);
    }
}

static void drop_identity(const struct sbx_plan *plan) {
    // The bounding set can only be dropped while we still hold CAP_SETPCAP.
    for (int cap = 0; cap <= plan->cap_last_cap; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail(plan, SBX_STEP_CAPS_BOUNDING, errno, cap);
    }
    CHECK(SBX_STEP_CAPS_AMBIENT, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    // Raw syscalls: glibc's wrappers broadcast the change to every thread of the process and
    // wait for them, and the threads this copy of the parent remembers do not exist here.
    CHECK(SBX_STEP_GROUPS, syscall(SYS_setgroups, 0, NULL));
    CHECK(SBX_STEP_SETGID, syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid));
    CHECK(SBX_STEP_SETUID, syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid));
    // setresuid away from 0 clears permitted and effective, not inheritable: clear all three.
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    CHECK(SBX_STEP_CAPS, syscall(SYS_capset, &header, data));
    CHECK(SBX_STEP_NO_NEW_PRIVS, prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
    CHECK(SBX_STEP_NO_NEW_PRIVS, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

static void install_filters(const struct sbx_plan *plan) {
    for (size_t i = 0; i < plan->filter_count; i++) {
        struct sock_fprog program = {
            .len = plan->filters[i].length,
            .filter = (struct sock_filter *)plan->filters[i].instructions,
        };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0) fail(plan, SBX_STEP_SECCOMP, errno, (int)i);
    }
}

__attribute__((noreturn)) static void exec_program(const struct sbx_plan *plan) {
    int error = ENOENT;
    for (size_t i = 0; i < plan->exec_path_count; i++) {
        execve(plan->exec_paths[i], plan->argv, plan->envp);
        // Keep searching only past "not here"; anything else is the answer.
        if (errno != ENOENT && errno != ENOTDIR) { error = errno; break; }
    }
    fail(plan, SBX_STEP_EXECVE, error, -1);
}

static int child_main(void *argument) {
    const struct sbx_plan *plan = argument;
    // Die with the runner thread that spawned us; the pid namespace takes the rest along.
    CHECK(SBX_STEP_PARENT_DEATH, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    reset_signals(plan);
    wait_for_parent(plan);
    assume_namespace_identity(plan);
    join_cgroups(plan);
    CHECK(SBX_STEP_SESSION, setsid());  // no controlling terminal: TIOCSTI has nothing to inject into
    setup_stdio(plan);
    build_root(plan);
    enter_root(plan);
    set_hostname(plan);
    loopback_up(plan);
    apply_rlimits(plan);
    CHECK(SBX_STEP_CHDIR, chdir(plan->workdir));
    drop_identity(plan);
    install_filters(plan);
    exec_program(plan);
}

// The child runs on a stack of its own. Without a user namespace it also shares the parent's
// memory and the parent thread sleeps until execve (CLONE_VM | CLONE_VFORK, as posix_spawn
// does): no page tables copied, no copy-on-write faults afterwards in a large runner. With a
// user namespace the parent must write the id maps while the child waits, so it gets a copy.
void *sbx_stack_allocate(size_t size) {
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return stack == MAP_FAILED ? NULL : stack;
}

void sbx_stack_free(void *stack, size_t size) {
    if (stack != NULL) munmap(stack, size);
}

pid_t sbx_spawn(const struct sbx_plan *plan, int *pidfd) {
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD;
    if (plan->new_user_namespace) flags |= CLONE_NEWUSER;
    else flags |= CLONE_VM | CLONE_VFORK;
    if (plan->stack == NULL || plan->stack_size < 64 * 1024) { errno = EINVAL; return -1; }
    // No signal handler of the parent may run on the child's stack before it resets them.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int fd = -1;
    pid_t pid = clone(child_main, (char *)plan->stack + plan->stack_size, flags, (void *)plan, &fd);
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) { errno = saved_errno; return -1; }
    *pidfd = fd;
    return pid;
}
