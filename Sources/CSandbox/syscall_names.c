// Syscall name <-> number for the native architecture, through libseccomp's tables.
#include "CSandbox.h"
#include <seccomp.h>
#include <stdlib.h>

int32_t sbx_syscall_number(const char *name) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
    return nr < 0 ? -1 : nr;
}

const char *sbx_syscall_name(int32_t number) {
    // libseccomp returns a malloc'd copy; keep a small cache so callers get static storage.
    static __thread char buffer[64];
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    if (name == NULL) return NULL;
    size_t i = 0;
    for (; name[i] != '\0' && i < sizeof(buffer) - 1; i++) buffer[i] = name[i];
    buffer[i] = '\0';
    free(name);
    return buffer;
}
