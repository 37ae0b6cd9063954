/*
 * System calls Swift cannot reach directly (glibc has no wrapper, and syscall(2) is variadic).
 */
#ifndef INJECT_SYSTEM_SHIMS_H
#define INJECT_SYSTEM_SHIMS_H

#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/** O_PATH (glibc hides it from Swift without _GNU_SOURCE). */
#define INJECT_O_PATH 010000000

/** POSIX_SPAWN_SETSID (a GNU extension glibc hides without _GNU_SOURCE): the child starts its own session. */
#define INJECT_POSIX_SPAWN_SETSID 0x80

#ifndef SYS_openat2
#define SYS_openat2 437
/** prctl(PR_SET_PDEATHSIG, signal) (prctl is variadic): `signal` is sent when the parent dies. */
static inline int inject_set_parent_death_signal(int signal_number) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal_number, 0UL, 0UL, 0UL);
}

#endif

/** openat2(2)'s RESOLVE_BENEATH: no "..", absolute path or symlink may leave the directory. */
#define INJECT_RESOLVE_BENEATH 0x08u
/** openat2(2)'s RESOLVE_NO_MAGICLINKS: no /proc/PID/fd-style links. */
#define INJECT_RESOLVE_NO_MAGICLINKS 0x02u

/** openat2(2): returns a descriptor, or -1 with errno (ENOSYS on kernels before 5.6). */
static inline int inject_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct { uint64_t flags, mode, resolve; } how = {flags, mode, resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/** prctl(PR_SET_PDEATHSIG, signal) (prctl is variadic): `signal` is sent when the parent dies. */
static inline int inject_set_parent_death_signal(int signal_number) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal_number, 0UL, 0UL, 0UL);
}

#endif
