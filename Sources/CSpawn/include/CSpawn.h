/* glibc calls Swift's Glibc module does not expose: they need _GNU_SOURCE, which must not
   leak into this header — a module that sees glibc's headers with another feature set
   (fd_set's member is named differently) cannot be merged with Dispatch's view of them. */
#ifndef DRCTL_CSPAWN_H
#define DRCTL_CSPAWN_H

#include <spawn.h>
#include <sys/types.h>

/* A pipe whose ends are close-on-exec from the start: no window in which another thread's
   spawn inherits them. */
int drctl_pipe_cloexec(int fds[2]);

/* The child closes every descriptor from `lowest` up before exec (glibc 2.34+): it
   inherits only what its file actions set up. */
int drctl_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest);

/* A descriptor that polls readable when process `pid` exits (Linux 5.3+), any process
   of ours or not; -1 when the kernel has no pidfd_open. */
int drctl_pidfd_open(pid_t pid);

/* Moves the calling thread (only it) into the network namespace open at `fd`; threads it
   creates afterwards start there too. 0, or -1 with errno. */
int drctl_setns_net(int fd);

#endif
