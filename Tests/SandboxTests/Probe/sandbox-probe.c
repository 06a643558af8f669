// sandbox-probe: attacks the containment tests run inside the sandbox. Each subcommand tries
// one thing a sandboxed program must not be able to do and prints what happened, so a test
// can tell "refused" (a line with the errno) from "killed" (no line, SIGSYS) from "escaped".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int report(const char *what, long rc) {
    if (rc < 0) printf("%s: refused %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    else printf("%s: ALLOWED %ld\n", what, rc);
    fflush(stdout);
    return rc < 0 ? 0 : 1;
}

static int connect_to(const char *kind, const char *port) {
    int udp = strcmp(kind, "udp") == 0;
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0) return report("socket", fd);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    long rc = connect(fd, (struct sockaddr *)&address, sizeof address);
    if (rc == 0 && udp) rc = send(fd, "escape", 6, 0);
    if (rc >= 0 && udp) { char buffer[16]; struct timeval tv = {1, 0}; setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); rc = recv(fd, buffer, sizeof buffer, 0); }
    return report(udp ? "udp" : "tcp", rc);
}

static int list_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return report("opendir", -1);
    int own = dirfd(dir);
    struct dirent *entry;
    printf("fds:");
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || atoi(entry->d_name) == own) continue;
        printf(" %s", entry->d_name);
    }
    printf("\n");
    closedir(dir);
    return 0;
}

static int fork_bomb(void) {
    int children = 0;
    for (int i = 0; i < 100000; i++) {
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) { pause(); _exit(0); }
        children++;
    }
    printf("forked %d\n", children);
    fflush(stdout);
    pause();  // hold them until the sandbox ends the run
    return 0;
}

static int memory_hog(void) {
    for (size_t total = 0;; total += 1 << 20) {
        char *block = malloc(1 << 20);
        if (block == NULL) { printf("malloc failed at %zu MiB\n", total >> 20); return 3; }
        memset(block, 1, 1 << 20);
    }
}

// A daemon that leaves its session and parent behind; it must still die with the run.
static int daemonize(void) {
    pid_t first = fork();
    if (first < 0) return report("fork", -1);
    if (first == 0) {
        setsid();
        if (fork() == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            for (;;) pause();
        }
        _exit(0);
    }
    waitpid(first, NULL, 0);
    printf("daemon started\n");
    return 0;
}

static int int80(void) {
    long rc;
    // getpid through the 32-bit ABI: a foreign architecture for the filter.
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
    return report("int80 getpid", rc);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sandbox-probe ATTACK [ARGS]\n"); return 2; }
    const char *attack = argv[1];
    if (!strcmp(attack, "ptrace")) return report("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    if (!strcmp(attack, "mount")) return report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(attack, "unshare")) return report("unshare", unshare(CLONE_NEWUSER));
    if (!strcmp(attack, "setns")) return report("setns", setns(open("/proc/1/ns/net", O_RDONLY), 0));
    if (!strcmp(attack, "keyctl")) return report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    if (!strcmp(attack, "bpf")) { union bpf_attr attr; memset(&attr, 0, sizeof attr); return report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr)); }
    if (!strcmp(attack, "perf_event_open")) { struct perf_event_attr attr; memset(&attr, 0, sizeof attr); attr.size = sizeof attr; return report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0)); }
    if (!strcmp(attack, "userfaultfd")) return report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
    if (!strcmp(attack, "init_module")) return report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    if (!strcmp(attack, "io_uring_setup")) return report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
    if (!strcmp(attack, "open_by_handle_at")) return report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
    if (!strcmp(attack, "clock_settime")) { struct timespec t = {0, 0}; return report("clock_settime", clock_settime(CLOCK_REALTIME, &t)); }
    if (!strcmp(attack, "reboot")) return report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
    if (!strcmp(attack, "personality")) return report("personality", personality(PER_LINUX32));
    if (!strcmp(attack, "personality-query")) return report("personality-query", personality(0xffffffff));
    if (!strcmp(attack, "clone-newuser")) return report("clone-newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(attack, "vsock")) return report("vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
    if (!strcmp(attack, "packet")) return report("packet", socket(AF_PACKET, SOCK_RAW, 0));
    if (!strcmp(attack, "raw")) return report("raw", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    if (!strcmp(attack, "x32")) return report("x32 getpid", syscall(0x40000000 | SYS_getpid));
    if (!strcmp(attack, "int80")) return int80();
    if (!strcmp(attack, "connect") && argc == 4) return connect_to(argv[2], argv[3]);
    if (!strcmp(attack, "kill-all")) return report("kill(-1)", kill(-1, SIGKILL));
    if (!strcmp(attack, "kill") && argc == 3) return report("kill", kill(atoi(argv[2]), SIGKILL));
    if (!strcmp(attack, "fds")) return list_fds();
    if (!strcmp(attack, "sethostname")) return report("sethostname", sethostname("escaped", 7));
    if (!strcmp(attack, "tiocsti")) { char c = 'x'; return report("tiocsti", ioctl(0, TIOCSTI, &c)); }
    if (!strcmp(attack, "open-tty")) return report("open /dev/tty", open("/dev/tty", O_RDWR));
    if (!strcmp(attack, "write") && argc == 3) { int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644); if (fd >= 0) { ssize_t n = write(fd, "pwned\n", 6); close(fd); return report("write", n); } return report("write", fd); }
    if (!strcmp(attack, "fork-bomb")) return fork_bomb();
    if (!strcmp(attack, "memory-hog")) return memory_hog();
    if (!strcmp(attack, "spin")) for (;;) {}
    if (!strcmp(attack, "segv")) { *(volatile int *)0 = 1; return 0; }
    if (!strcmp(attack, "daemon")) return daemonize();
    fprintf(stderr, "unknown attack %s\n", attack);
    return 2;
}
