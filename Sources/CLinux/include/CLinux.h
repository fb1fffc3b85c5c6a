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
/// malloc_trim(0): free heap pages of every arena back to the kernel (glibc's malloc.h,
/// which Glibc's module leaves out).
int bus_malloc_trim(void);
/// Names the calling thread (pthread_setname_np needs _GNU_SOURCE, which Swift's Glibc
/// module does not define); Linux keeps the first 15 bytes.
void bus_set_thread_name(const char *name);

/// A minimal io_uring for batched socket writes (see BatchedWriter.swift). Opaque to Swift.
typedef struct bus_uring bus_uring;
/// A ring with room for `entries` submissions, or NULL where io_uring is unavailable.
bus_uring *bus_uring_create(unsigned entries);
void bus_uring_destroy(bus_uring *ring);
/// Queues a sendmsg with MSG_DONTWAIT | MSG_NOSIGNAL (a full socket completes with -EAGAIN
/// instead of waiting); 0, or -1 when the submission queue is full.
int bus_uring_queue_sendmsg(bus_uring *ring, int fd, const struct msghdr *message, unsigned long long tag);
/// Submits everything queued and waits until `count` completions are ready; 0 or -errno.
int bus_uring_submit_and_wait(bus_uring *ring, unsigned count);
/// Takes one completion: 1 with its result and tag, or 0 when none is ready.
int bus_uring_next_completion(bus_uring *ring, int *result, unsigned long long *tag);

#endif
