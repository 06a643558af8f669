// The guard filter: fixed argument checks that an allow-list cannot express, stacked on top of
// the profile's policy. With several filters the kernel applies the strictest verdict, so
// this one only ever kills or allows.
#define _GNU_SOURCE
#include "CSandbox.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LOAD_ARG_LOW(n) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[n]))
#define JUMP_EQ(value, yes, no) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (value), (yes), (no))
#define RETURN(action) BPF_STMT(BPF_RET | BPF_K, (action))

// Namespace flags that clone() can carry (CLONE_NEWTIME shares its bit with the exit signal).
#define CLONE_NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
                               CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

// Jump offsets count from the next instruction; the labels in the comments are the targets.
static const struct sock_filter guard[] = {
    /*  0        */ LOAD(arch),
    /*  1        */ JUMP_EQ(AUDIT_ARCH_X86_64, 1, 0),     // -> 3 | 2
    /*  2        */ RETURN(SECCOMP_RET_KILL_PROCESS),
    /*  3        */ LOAD(nr),
    /*  4        */ JUMP_EQ(__NR_personality, 3, 0),      // -> PERSONALITY
    /*  5        */ JUMP_EQ(__NR_clone, 5, 0),            // -> CLONE
    /*  6        */ JUMP_EQ(__NR_socket, 6, 0),           // -> SOCKET
    /*  7        */ RETURN(SECCOMP_RET_ALLOW),
    // personality: only PER_LINUX (0) and the query 0xffffffff
    /*  8 PERSONALITY */ LOAD_ARG_LOW(0),
    /*  9        */ JUMP_EQ(0, 11, 0),                    // -> ALLOW
    /* 10        */ JUMP_EQ(0xffffffffu, 10, 11),         // -> ALLOW | KILL
    // clone: no namespace flags
    /* 11 CLONE  */ LOAD_ARG_LOW(0),
    /* 12        */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NAMESPACE_FLAGS, 9, 8), // -> KILL | ALLOW
    // socket: no AF_VSOCK, no AF_PACKET, no raw IP sockets
    /* 13 SOCKET */ LOAD_ARG_LOW(0),
    /* 14        */ JUMP_EQ(AF_VSOCK, 7, 0),              // -> KILL
    /* 15        */ JUMP_EQ(AF_PACKET, 6, 0),             // -> KILL
    /* 16        */ JUMP_EQ(AF_INET, 1, 0),               // -> TYPE
    /* 17        */ JUMP_EQ(AF_INET6, 0, 3),              // -> TYPE | ALLOW
    /* 18 TYPE   */ LOAD_ARG_LOW(1),
    /* 19        */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),   // strip SOCK_NONBLOCK / SOCK_CLOEXEC
    /* 20        */ JUMP_EQ(SOCK_RAW, 1, 0),              // -> KILL | ALLOW
    /* 21 ALLOW  */ RETURN(SECCOMP_RET_ALLOW),
    /* 22 KILL   */ RETURN(SECCOMP_RET_KILL_PROCESS),
};

struct sbx_filter sbx_guard_filter(void) {
    struct sbx_filter filter = { .instructions = guard, .length = sizeof guard / sizeof guard[0] };
    return filter;
}
