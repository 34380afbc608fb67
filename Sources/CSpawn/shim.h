/* glibc calls Swift's Glibc module does not expose (they need _GNU_SOURCE). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A pipe whose ends are close-on-exec from the start: no window in which another thread's
   spawn inherits them. */
static inline int drctl_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/* The child closes every descriptor from `lowest` up before exec (glibc 2.34+): it
   inherits only what its file actions set up. */
static inline int drctl_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

/* A descriptor that polls readable when process `pid` exits (Linux 5.3+), any process
   of ours or not; -1 when the kernel has no pidfd_open. */
static inline int drctl_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return -1;
#endif
}
