// Parent side: compiles a profile's allow-list to BPF with libseccomp, once per profile.
#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/filter.h>

static uint32_t to_scmp_action(int32_t kind, int32_t errno_value) {
    switch (kind) {
    case SBX_ACTION_ALLOW: return SCMP_ACT_ALLOW;
    case SBX_ACTION_ERRNO: return SCMP_ACT_ERRNO((uint16_t)errno_value);
    default: return SCMP_ACT_KILL_PROCESS;
    }
}

// seccomp_export_bpf writes to a descriptor; a memfd keeps it in memory.
static int export_filter(scmp_filter_ctx ctx, struct sbx_filter *out) {
    int fd = memfd_create("agentgrid-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) { close(fd); return rc; }
    struct stat st;
    if (fstat(fd, &st) < 0) { rc = -errno; close(fd); return rc; }
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        close(fd);
        return -E2BIG;
    }
    void *buffer = malloc(size);
    if (buffer == NULL) { close(fd); return -ENOMEM; }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *)buffer + done, size - done, (off_t)done);
        if (n <= 0) { rc = n < 0 ? -errno : -EIO; free(buffer); close(fd); return rc; }
        done += (size_t)n;
    }
    close(fd);
    out->instructions = buffer;
    out->length = (uint16_t)(size / sizeof(struct sock_filter));
    return 0;
}

int sbx_policy_compile(int32_t default_action, int32_t default_errno,
                       const struct sbx_syscall_rule *rules, size_t rule_count,
                       struct sbx_filter *out) {
    uint32_t fallback = to_scmp_action(default_action, default_errno);
    scmp_filter_ctx ctx = seccomp_init(fallback);
    if (ctx == NULL) return -ENOMEM;
    int rc = 0;
    // Only the native architecture: a foreign ABI (int 0x80, x32) kills the process.
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0) goto out;
    // The child sets no_new_privs itself, before installing.
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) goto out;
    // A binary tree over syscall numbers instead of a linear scan.
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) goto out;
    for (size_t i = 0; i < rule_count; i++) {
        uint32_t action = to_scmp_action(rules[i].action, rules[i].errno_value);
        if (action == fallback) continue;
        if ((rc = seccomp_rule_add(ctx, action, rules[i].number, 0)) < 0) goto out;
    }
    rc = export_filter(ctx, out);
out:
    seccomp_release(ctx);
    return rc;
}

void sbx_filter_free(struct sbx_filter *filter) {
    free((void *)filter->instructions);
    filter->instructions = NULL;
    filter->length = 0;
}
