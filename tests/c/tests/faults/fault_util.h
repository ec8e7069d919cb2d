/* Shared helpers of the fault-matrix tests (test_fault_*.c, README "Reliability"). */
#ifndef LCWS_FAULT_UTIL_H
#define LCWS_FAULT_UTIL_H
#include "peer_test.h"
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

/* ctest's skip code (SKIP_RETURN_CODE 77 in tests/c/CMakeLists.txt). */
#define FAULT_SKIP 77

static inline void fault_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs a shell command (formatted); returns its exit status. */
static inline int fault_sh(const char *fmt, ...) {
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    int status = (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
    printf("  $ %s -> %d\n", cmd, status);
    fflush(stdout);
    return status;
}

/* Every buffer LiteCore handed to write must be released exactly once. The release may come
 * just after dispose (the socket's task drops the last unsent messages when it ends; allowed:
 * LiteCore only asks that each buffer be released exactly once, from any thread): wait for it,
 * bounded, and say how long it took. */
static inline void fault_check_buffers_released(int timeout_ms) {
    double t0 = fake_now_s();
    long n = fake_outstanding_buffers();
    while (n != 0 && (fake_now_s() - t0) * 1000 < timeout_ms) {
        fault_sleep_ms(5);
        n = fake_outstanding_buffers();
    }
    if (n != 0) {
        fprintf(stderr, "%ld write buffers never released (waited %d ms)\n", n, timeout_ms);
        exit(1);
    }
    double took = fake_now_s() - t0;
    if (took > 0.001) printf("  last write buffers released %.3f s after dispose\n", took);
}

/* Checks the closed error of a finished socket's record (printing it). */
#define FAULT_CHECK_ERROR(st, domain_, code_)                                                    \
    do {                                                                                         \
        if ((st).closed_error.domain != (domain_) || (st).closed_error.code != (code_)) {        \
            fprintf(stderr, "%s:%d: want closed {%d, %d}, got {%d, %d} \"%s\"\n", __FILE__,      \
                    __LINE__, (domain_), (code_), (st).closed_error.domain,                      \
                    (st).closed_error.code, (st).closed_message);                                \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* Deterministic message contents for byte-exact echo checks. */
static inline size_t fault_msg_size(int k, size_t max) { return 1 + (size_t)(((unsigned)k * 104729u) % max); }
static inline unsigned char fault_msg_byte(int k, size_t i) { return (unsigned char)((k * 7 + i) % 251); }
static inline void fault_fill(unsigned char *buf, int k, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = fault_msg_byte(k, i);
}

/* Writes `count` messages (sizes 1..max_size) keeping at most 64 KiB unacknowledged by
 * completedWrite (LiteCore's send window) and checks each echo arrives in order, byte-exact.
 * Returns the bytes echoed. */
static inline size_t fault_echo_exact(C4Socket *s, int count, size_t max_size, int timeout_ms) {
    const size_t window = 64 * 1024;
    unsigned char *buf = (unsigned char *)malloc(max_size);
    CHECK(buf != NULL);
    size_t written = fake_socket_state(s).bytes_written_acked, total = 0;
    int next_write = 0;
    for (int k = 0; k < count; k++) {
        /* Fill the window. */
        while (next_write < count) {
            size_t n = fault_msg_size(next_write, max_size);
            size_t acked = fake_socket_state(s).bytes_written_acked;
            if (written - acked + n > window && written != acked) break;
            fault_fill(buf, next_write, n);
            fake_socket_write(s, buf, n);
            written += n;
            next_write++;
        }
        size_t size = 0;
        unsigned char *m = (unsigned char *)fake_socket_next_message(s, timeout_ms, &size);
        if (!m) {
            fprintf(stderr, "echo %d of %d did not arrive\n", k, count);
            exit(1);
        }
        CHECK_EQ_INT(size, fault_msg_size(k, max_size));
        for (size_t i = 0; i < size; i++) {
            if (m[i] != fault_msg_byte(k, i)) {
                fprintf(stderr, "echo %d: byte %zu differs\n", k, i);
                exit(1);
            }
        }
        total += size;
        free(m);
        /* The window is never exceeded by what LiteCore has outstanding. */
        CHECK(written - fake_socket_state(s).bytes_written_acked <= (max_size > window ? max_size : window));
    }
    free(buf);
    return total;
}
#endif
