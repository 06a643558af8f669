// Parent-side process helpers that need siginfo or raw syscalls Swift cannot reach cleanly.
#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int sbx_pidfd_wait(int pidfd, int32_t *exit_code, int32_t *signal_number, int nonblocking) {
    siginfo_t info;
    info.si_pid = 0;
    int rc;
    do {
        rc = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | (nonblocking ? WNOHANG : 0));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -errno;
    if (info.si_pid == 0) return 0;  // still running
    *exit_code = -1;
    *signal_number = 0;
    if (info.si_code == CLD_EXITED) *exit_code = info.si_status;
    else *signal_number = info.si_status;
    return 1;
}

int sbx_pidfd_kill(int pidfd) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

int sbx_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int sbx_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int sbx_poll_us(struct pollfd *fds, unsigned long count, int64_t timeout_us) {
    struct timespec timeout = { .tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000 };
    return ppoll(fds, (nfds_t)count, timeout_us < 0 ? NULL : &timeout, NULL);
}

int32_t sbx_rlimit_nproc(void) {
    return RLIMIT_NPROC;
}

int sbx_pidfd_supported(void) {
    int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}
