#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CSpawn.h"

int drctl_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int drctl_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int drctl_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return -1;
#endif
}

int drctl_setns_net(int fd) {
    return setns(fd, CLONE_NEWNET);
}
