/* Shared helpers of the listener's fault-matrix tests (test_fault_listener_*.c, README
 * "Reliability"): a raw client on a plain socket (the upgrade by hand, frames written and read by
 * hand, or bytes that are not frames at all), process counters (fds, threads, RSS), and the
 * checks every row ends with. */
#ifndef LCWS_FAULT_LISTENER_UTIL_H
#define LCWS_FAULT_LISTENER_UTIL_H
#include "listener_test.h"
#include "fault_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define LF_KEY "dGhlIHNhbXBsZSBub25jZQ=="

/* ---- a raw client ---- */

typedef struct LfRaw {
    int fd;
    unsigned char *buf; /* bytes read and not consumed yet */
    size_t len, cap;
    size_t frame_len; /* the frame lf_next_frame returned last, consumed by the next call */
} LfRaw;

/* Outcomes of the reads below. */
enum { LF_EOF = 0, LF_RESET = -1, LF_TIMEOUT = -2 };

/* A TCP connection to 127.0.0.1:port (TCP_NODELAY), or -1 with errno set. */
static inline int lf_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline LfRaw *lf_raw_new(int fd) {
    LfRaw *r = (LfRaw *)calloc(1, sizeof *r);
    CHECK(r != NULL);
    r->fd = fd;
    r->cap = 65536;
    r->buf = (unsigned char *)malloc(r->cap);
    CHECK(r->buf != NULL);
    return r;
}

static inline void lf_raw_free(LfRaw *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r);
}

/* Writes everything (no SIGPIPE); 1 on success, 0 when the connection failed. */
static inline int lf_send_all(int fd, const void *data, size_t n) {
    const char *p = (const char *)data;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* The upgrade request for /<db>/_blipsync; `extra` is more header lines ("Name: v\r\n"...). */
static inline int lf_request(char *out, size_t size, uint16_t port, const char *db, const char *extra) {
    int n = snprintf(out, size,
                     "GET /%s/_blipsync HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: " LF_KEY "\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: " LT_PROTOCOL "\r\n%s\r\n",
                     db, port, extra ? extra : "");
    CHECK(n > 0 && (size_t)n < size);
    return n;
}

/* Reads more bytes into r->buf, waiting up to timeout_ms: >0 bytes read, or LF_EOF, LF_RESET
 * (any error: errno says which), LF_TIMEOUT. */
static inline int lf_read_more(LfRaw *r, int timeout_ms) {
    if (r->cap - r->len < 16384) {
        r->cap *= 2;
        r->buf = (unsigned char *)realloc(r->buf, r->cap);
        CHECK(r->buf != NULL);
    }
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        int left = (int)((deadline - fake_now_s()) * 1000);
        struct pollfd p = {r->fd, POLLIN, 0};
        int rc = poll(&p, 1, left > 0 ? left : 0);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) return LF_TIMEOUT;
        ssize_t got = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) return LF_RESET;
        if (got == 0) return LF_EOF;
        r->len += (size_t)got;
        return (int)got;
    }
}

static inline void lf_consume(LfRaw *r, size_t n) {
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
}

/* Reads an HTTP response head; returns its status (the head is copied into `head` when given)
 * and keeps what follows it in r->buf; 0 when none came (EOF, reset or timeout: *why says which
 * when given). */
static inline int lf_read_head(LfRaw *r, int timeout_ms, char *head, size_t head_size, int *why) {
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        for (size_t i = 0; i + 3 < r->len; i++) {
            if (memcmp(r->buf + i, "\r\n\r\n", 4) == 0) {
                int status = 0;
                if (r->len < 12 || sscanf((const char *)r->buf, "HTTP/1.1 %d", &status) != 1) status = 0;
                if (head && head_size) {
                    size_t n = i + 4 < head_size - 1 ? i + 4 : head_size - 1;
                    memcpy(head, r->buf, n);
                    head[n] = 0;
                }
                lf_consume(r, i + 4);
                return status;
            }
        }
        int left = (int)((deadline - fake_now_s()) * 1000);
        int got = left > 0 ? lf_read_more(r, left) : LF_TIMEOUT;
        if (got <= 0) {
            if (why) *why = got;
            return 0;
        }
    }
}

/* Connects, sends the upgrade request and reads the answer: the raw client on success (101),
 * NULL otherwise (the status, 0 for none, in *status). */
static inline LfRaw *lf_upgrade(uint16_t port, const char *db, const char *extra, int timeout_ms, int *status) {
    *status = 0;
    int fd = lf_connect(port);
    if (fd < 0) return NULL;
    char req[2048];
    int n = lf_request(req, sizeof req, port, db, extra);
    LfRaw *r = lf_raw_new(fd);
    if (!lf_send_all(fd, req, (size_t)n)) {
        lf_raw_free(r);
        return NULL;
    }
    *status = lf_read_head(r, timeout_ms, NULL, 0, NULL);
    if (*status != 101) {
        lf_raw_free(r);
        return NULL;
    }
    return r;
}

/* Writes one frame (masked with a fixed key when `masked`); 1 on success. */
static inline int lf_send_frame(int fd, int fin, int opcode, const void *payload, size_t n, int masked) {
    unsigned char *f = (unsigned char *)malloc(n + 14);
    CHECK(f != NULL);
    size_t h = 0;
    f[h++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0F));
    unsigned char m = masked ? 0x80 : 0;
    if (n < 126) {
        f[h++] = (unsigned char)(m | n);
    } else if (n < 65536) {
        f[h++] = (unsigned char)(m | 126);
        f[h++] = (unsigned char)(n >> 8);
        f[h++] = (unsigned char)n;
    } else {
        f[h++] = (unsigned char)(m | 127);
        for (int i = 7; i >= 0; i--) f[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (masked) {
        memcpy(f + h, key, 4);
        h += 4;
    }
    const unsigned char *p = (const unsigned char *)payload;
    for (size_t i = 0; i < n; i++) f[h + i] = masked ? (unsigned char)(p[i] ^ key[i % 4]) : p[i];
    int ok = lf_send_all(fd, f, h + n);
    free(f);
    return ok;
}

/* Parses one whole server frame at the start of r->buf (reading more as needed): 1 with its
 * opcode and payload (pointer into r->buf, valid until the next call; *masked tells whether the
 * server masked it, which it must not), or LF_EOF / LF_RESET / LF_TIMEOUT. */
static inline int lf_next_frame(LfRaw *r, int timeout_ms, int *opcode, const unsigned char **payload, size_t *n,
                                int *masked) {
    if (r->frame_len) {
        lf_consume(r, r->frame_len);
        r->frame_len = 0;
    }
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        if (r->len >= 2) {
            size_t len = r->buf[1] & 0x7F, h = 2;
            if (len == 126 && r->len >= 4) {
                len = ((size_t)r->buf[2] << 8) | r->buf[3];
                h = 4;
            } else if (len == 127 && r->len >= 10) {
                len = 0;
                for (int i = 0; i < 8; i++) len = (len << 8) | r->buf[2 + i];
                h = 10;
            } else if (len >= 126) {
                h = 0; /* length not complete yet */
            }
            int is_masked = (r->buf[1] & 0x80) != 0;
            if (h && is_masked) h += 4;
            if (h && r->len >= h + len) {
                *opcode = r->buf[0] & 0x0F;
                *payload = r->buf + h;
                *n = len;
                *masked = is_masked;
                r->frame_len = h + len;
                return 1;
            }
        }
        int left = (int)((deadline - fake_now_s()) * 1000);
        int got = left > 0 ? lf_read_more(r, left) : LF_TIMEOUT;
        if (got <= 0) return got;
    }
}

/* Reads frames until the server's Close and then the end of the connection (or a reset, or the
 * timeout). Returns how the connection ended; *close_code gets the Close frame's code (-1: no
 * Close frame came). The Close is not answered. */
static inline int lf_wait_end(LfRaw *r, int timeout_ms, int *close_code) {
    *close_code = -1;
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        int left = (int)((deadline - fake_now_s()) * 1000);
        int op = 0, masked = 0;
        const unsigned char *p = NULL;
        size_t n = 0;
        int got = left > 0 ? lf_next_frame(r, left, &op, &p, &n, &masked) : LF_TIMEOUT;
        if (got <= 0) return got;
        CHECK(!masked); /* servers never mask */
        if (op == 0x8) *close_code = n >= 2 ? (p[0] << 8 | p[1]) : 1005;
    }
}

/* ---- the checks every row ends with ---- */

/* A transient "connection lost" error: {WebSocket, 1006} or {Network, 18}. */
#define LF_CHECK_LOST(st)                                                                        \
    do {                                                                                         \
        int lost_ = ((st).closed_error.domain == 6 && (st).closed_error.code == 1006) ||         \
                    ((st).closed_error.domain == 5 && (st).closed_error.code == 18);             \
        if (!lost_) {                                                                            \
            fprintf(stderr, "%s:%d: want {6, 1006} or {5, 18}, got {%d, %d} \"%s\"\n", __FILE__, \
                    __LINE__, (st).closed_error.domain, (st).closed_error.code,                  \
                    (st).closed_message);                                                        \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* The log lines litecore-ws sent to the sink must contain `text` (printed when they do not). */
static inline void lf_check_log(const char *text) {
    const char *log = fake_captured_log();
    if (!strstr(log, text)) {
        fprintf(stderr, "no log line contains \"%s\"; the log:\n%s\n", text, log);
        exit(1);
    }
    /* Show the first line that does. */
    const char *at = strstr(log, text), *start = at, *end = strchr(at, '\n');
    while (start > log && start[-1] != '\n') start--;
    printf("  log: %.*s\n", (int)(end ? end - start : (long)strlen(start)), start);
}

/* How many log lines contain `text`. */
static inline int lf_log_count(const char *text) {
    int n = 0;
    for (const char *at = fake_captured_log(); (at = strstr(at, text)) != NULL; at += strlen(text)) n++;
    return n;
}

/* Nothing left in the fake: every write buffer released, every accepted socket finished. */
static inline void lf_check_nothing_left(void) {
    lt_check_all_finished();
    fault_check_buffers_released(5000);
}
#endif
