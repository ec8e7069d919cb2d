/* Shared helpers of the fault-matrix tests (test_fault_*.c, README "Reliability"). */
#ifndef LCWS_FAULT_UTIL_H
#define LCWS_FAULT_UTIL_H
#include "peer_test.h"
#include <dirent.h>
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

/* ---- the process: fds, threads, memory (the leak checks of the cycle and stop rows) ---- */

static inline int fault_count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

static inline void fault_list_fds(const char *when) {
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    struct dirent *e;
    printf("  fds %s:", when);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        printf(" %s=%s", e->d_name, target);
    }
    printf("\n");
    closedir(d);
}

/* A field of /proc/self/status ("Threads", "VmRSS" in KiB). */
static inline long fault_status_field(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') v = atol(line + n + 1);
    fclose(f);
    return v;
}

/* Waits (bounded: 15 s) until the process has at most `max_fds` open fds and `max_threads`
 * threads (the runtime may still be finishing its last tasks); leaves the counts seen last in
 * *fds and *threads for the caller to check. */
static inline void fault_wait_settled(int max_fds, long max_threads, int *fds, long *threads) {
    *fds = fault_count_fds();
    *threads = fault_status_field("Threads");
    for (int i = 0; i < 150 && (*fds > max_fds || *threads > max_threads); i++) {
        fault_sleep_ms(100);
        *fds = fault_count_fds();
        *threads = fault_status_field("Threads");
    }
}

#endif
