#define _GNU_SOURCE 1
#include "CLinux.h"

#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int bus_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int bus_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

int bus_iov_max(void) { return IOV_MAX; }
int bus_malloc_trim(void) { return malloc_trim(0); }
void bus_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}
unsigned int bus_epollexclusive(void) { return EPOLLEXCLUSIVE; }
unsigned int bus_epollrdhup(void) { return EPOLLRDHUP; }

int bus_block_signals_and_open_signalfd(void) {
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

int bus_read_signalfd(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n != (ssize_t)sizeof(info)) return -1;
    return (int)info.ssi_signo;
}

// MARK: io_uring (raw system calls; no liburing)

#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

struct bus_uring {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    void *sq_ring, *cq_ring;
    size_t sq_ring_size, cq_ring_size, sqes_size;
    unsigned entries, queued;
};

/* Whether this kernel's io_uring can run SENDMSG: io_uring_setup exists since 5.1 but
   SENDMSG only since 5.3, and IORING_REGISTER_PROBE (5.6) is how to ask. A kernel that cannot
   answer is treated as not supporting it, so the caller keeps sendmsg(2). */
static int bus_uring_supports_sendmsg(int fd) {
#ifndef IO_URING_OP_SUPPORTED
    (void)fd;
    return 0;  /* headers older than 5.6: no probe to ask, so no io_uring */
#else
    const unsigned ops = 256;
    struct io_uring_probe *probe = calloc(1, sizeof *probe + ops * sizeof(struct io_uring_probe_op));
    if (!probe) return 0;
    int supported = syscall(__NR_io_uring_register, fd, IORING_REGISTER_PROBE, probe, ops) == 0
        && probe->last_op >= IORING_OP_SENDMSG
        && (probe->ops[IORING_OP_SENDMSG].flags & IO_URING_OP_SUPPORTED);
    free(probe);
    return supported;
#endif
}

bus_uring *bus_uring_create(unsigned entries) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0) return NULL;
    if (!bus_uring_supports_sendmsg(fd)) { close(fd); return NULL; }
    bus_uring *ring = calloc(1, sizeof *ring);
    if (!ring) { close(fd); return NULL; }
    ring->fd = fd;
    ring->entries = params.sq_entries;
    ring->sq_ring_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    ring->cq_ring_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
    ring->sq_ring = mmap(NULL, ring->sq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    ring->cq_ring = mmap(NULL, ring->cq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (ring->sq_ring == MAP_FAILED || ring->cq_ring == MAP_FAILED || ring->sqes == MAP_FAILED) {
        bus_uring_destroy(ring);
        return NULL;
    }
    char *sq = ring->sq_ring, *cq = ring->cq_ring;
    ring->sq_head = (unsigned *)(sq + params.sq_off.head);
    ring->sq_tail = (unsigned *)(sq + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(sq + params.sq_off.array);
    ring->cq_head = (unsigned *)(cq + params.cq_off.head);
    ring->cq_tail = (unsigned *)(cq + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(cq + params.cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
    return ring;
}

void bus_uring_destroy(bus_uring *ring) {
    if (!ring) return;
    if (ring->sq_ring && ring->sq_ring != MAP_FAILED) munmap(ring->sq_ring, ring->sq_ring_size);
    if (ring->cq_ring && ring->cq_ring != MAP_FAILED) munmap(ring->cq_ring, ring->cq_ring_size);
    if (ring->sqes && ring->sqes != MAP_FAILED) munmap(ring->sqes, ring->sqes_size);
    close(ring->fd);
    free(ring);
}

int bus_uring_queue_sendmsg(bus_uring *ring, int fd, const struct msghdr *message, unsigned long long tag) {
    unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
    unsigned tail = *ring->sq_tail + ring->queued;
    if (tail - head >= ring->entries) return -1;
    unsigned index = tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = &ring->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = fd;
    sqe->addr = (unsigned long long)(uintptr_t)message;
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    sqe->user_data = tag;
    ring->sq_array[index] = index;
    ring->queued++;
    return 0;
}

int bus_uring_submit_and_wait(bus_uring *ring, unsigned count) {
    unsigned submit = ring->queued;
    __atomic_store_n(ring->sq_tail, *ring->sq_tail + submit, __ATOMIC_RELEASE);
    ring->queued = 0;
    while (1) {
        int done = (int)syscall(__NR_io_uring_enter, ring->fd, submit, count, IORING_ENTER_GETEVENTS, NULL, 0);
        if (done >= 0) {
            unsigned ready = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE) - *ring->cq_head;
            if ((unsigned)done >= submit && ready >= count) return 0;
            submit -= (unsigned)done < submit ? (unsigned)done : submit;
            continue;
        }
        if (errno != EINTR) return -errno;
    }
}

int bus_uring_next_completion(bus_uring *ring, int *result, unsigned long long *tag) {
    unsigned head = *ring->cq_head;
    if (head == __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE)) return 0;
    struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];
    *result = cqe->res;
    *tag = cqe->user_data;
    __atomic_store_n(ring->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}
