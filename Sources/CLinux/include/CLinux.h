// Linux APIs that Glibc's Swift module leaves out. The header includes only what Glibc's
// module also sees with the same macros (so the two never disagree about a type); anything
// that needs _GNU_SOURCE is implemented in shim.c, where that macro is set.
#ifndef BUS_CLINUX_H
#define BUS_CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int bus_accept4(int fd, struct sockaddr *addr, socklen_t *len);
/// CPUs this process may run on (its affinity mask), not the host's count.
int bus_cpu_count(void);
int bus_iov_max(void);
unsigned int bus_epollexclusive(void);
unsigned int bus_epollrdhup(void);
/// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread (threads created later inherit
/// the mask) and returns a signalfd that reads SIGINT/SIGTERM, or -1.
int bus_block_signals_and_open_signalfd(void);
/// Reads one pending signal from a signalfd; returns its number, or -1.
int bus_read_signalfd(int fd);

#endif
