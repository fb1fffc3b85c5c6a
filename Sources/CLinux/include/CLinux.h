// Linux system headers that Glibc's Swift module leaves out, plus thin wrappers for
// variadic or macro-only APIs Swift cannot call. Part of our own package, not a dependency.
#ifndef BUS_CLINUX_H
#define BUS_CLINUX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <unistd.h>
#include <errno.h>

static inline int bus_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// CPUs this process may run on (its affinity mask), not the host's count.
static inline int bus_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

static inline int bus_iov_max(void) { return IOV_MAX; }
static inline unsigned int bus_epollexclusive(void) { return EPOLLEXCLUSIVE; }
static inline unsigned int bus_epollrdhup(void) { return EPOLLRDHUP; }
static inline int bus_errno(void) { return errno; }

/// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread (threads created later inherit
/// the mask) and returns a signalfd that reads SIGINT/SIGTERM, or -1.
static inline int bus_block_signals_and_open_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGTERM);
    return signalfd(-1, &wanted, SFD_NONBLOCK | SFD_CLOEXEC);
}

/// Reads one pending signal from a signalfd; returns its number, or -1.
static inline int bus_read_signalfd(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n != (ssize_t)sizeof(info)) return -1;
    return (int)info.ssi_signo;
}

static inline void bus_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

#endif
