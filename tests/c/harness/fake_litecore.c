/* fake_litecore: LiteCore's side of the socket contract, with strict checks. See the header. */
#define _POSIX_C_SOURCE 200809L
#include "fake_litecore.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>

#define FAKE_MAGIC 0x4C43534F434B4554ull /* "LCSOCKET" */

typedef struct FakeMessage {
    struct FakeMessage *next;
    size_t size;
    unsigned char data[];
} FakeMessage;

struct C4Socket {
    uint64_t magic;
    int ack_mode;
    bool keep_messages;
    bool echo;
    unsigned char *headers;
    size_t headers_size;
    unsigned char *peer_cert; /* DER from c4socket_gotPeerCertificate */
    FakeMessage *head, *tail;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refcount;
    void *native;
    atomic_int in_host_call; /* serialization check */
    /* Set while the fake runs the factory's open on open_thread: host calls from inside it are
     * violations. */
    atomic_int in_open;
    pthread_t open_thread;
    FakeIncomingState in;
    /* Sockets made by c4socket_fromNative: their own copy of the factory, the address LiteCore
     * keeps for them, and the passive replicator playing on them. */
    bool has_factory;
    FakeSocketFactory factory;
    char *addr_scheme, *addr_host, *addr_path;
    uint16_t addr_port;
    LcwsConnection *connection; /* the replicator's, for lcws_connection_report */
    bool replicator_holds_ref;
    unsigned char *passive_options;
    size_t passive_options_size;
    bool opener_started, reporter_started;
    pthread_t opener, reporter;
    FakeSocketState st;
};

#define MAX_MESSAGES 4096
static FakeSocketFactory g_factory;
/* The factory LiteCore uses for a socket: its own (c4socket_fromNative copies it), else the
 * registered one. */
static const FakeSocketFactory *factory_of(const C4Socket *s) { return s->has_factory ? &s->factory : &g_factory; }
static LcwsSliceResult new_buffer(const void *data, size_t size);
static void (*g_closed_hook)(C4Socket *);
static void (*volatile g_received_hook)(C4Socket *, size_t);
static int g_factory_registered;
static atomic_long g_outstanding_buffers;

/* ---- violations ---- */

static void violation(C4Socket *s, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fake_litecore: CONTRACT VIOLATION: %s\n", msg);
    if (s->st.violations++ == 0) snprintf(s->st.first_violation, sizeof s->st.first_violation, "%s", msg);
}

static C4Socket *check(C4Socket *s, const char *fn) {
    if (!s || s->magic != FAKE_MAGIC) {
        fprintf(stderr, "fake_litecore: %s called with an invalid socket %p\n", fn, (void *)s);
        abort();
    }
    return s;
}

/* Every host call for a socket goes through enter/leave: overlap is a serialization bug. */
static void enter(C4Socket *s, const char *fn, int allowed_after_closed) {
    if (atomic_fetch_add(&s->in_host_call, 1) != 0) violation(s, "%s overlaps another host call (not serialized)", fn);
    if (atomic_load(&s->in_open) && pthread_equal(s->open_thread, pthread_self()))
        violation(s, "%s called from inside the factory's open", fn);
    pthread_mutex_lock(&s->mu);
    if (s->st.disposed) violation(s, "%s after dispose", fn);
    else if (s->st.closed_calls > 0 && !allowed_after_closed) violation(s, "%s after closed", fn);
    pthread_mutex_unlock(&s->mu);
}

static void leave(C4Socket *s) { atomic_fetch_sub(&s->in_host_call, 1); }

/* ---- LiteCore's functions ---- */

void c4socket_registerFactory(FakeSocketFactory factory) {
    /* LiteCore's own asserts; a violation terminates the process there too. */
    if (g_factory_registered) { fprintf(stderr, "fake_litecore: second c4socket_registerFactory\n"); abort(); }
    if (!factory.write || !factory.completedReceive) { fprintf(stderr, "fake_litecore: write/completedReceive NULL\n"); abort(); }
    if (factory.framing == 1) {
        if (factory.close || !factory.requestClose) { fprintf(stderr, "fake_litecore: kC4NoFraming needs close==NULL, requestClose!=NULL\n"); abort(); }
    } else if (!factory.close || factory.requestClose) {
        fprintf(stderr, "fake_litecore: byte framing needs close!=NULL, requestClose==NULL\n");
        abort();
    }
    g_factory = factory;
    g_factory_registered = 1;
}

void fake_use_lcws_factory(void *context) {
    memset(&g_factory, 0, sizeof g_factory);
    g_factory.framing = LCWS_FRAMING;
    g_factory.context = context;
    g_factory.open = lcws_socket_open;
    g_factory.write = lcws_socket_write;
    g_factory.completedReceive = lcws_socket_completed_receive;
    g_factory.requestClose = lcws_socket_request_close;
    g_factory.dispose = lcws_socket_dispose;
    g_factory_registered = 1;
}

void c4socket_gotHTTPResponse(C4Socket *s, int status, LcwsSlice headers) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    if (s->in.incoming) violation(s, "gotHTTPResponse on an incoming socket (made by c4socket_fromNative)");
    if (s->st.http_response_calls++ > 0) violation(s, "gotHTTPResponse called twice (LiteCore 3.0-3.2 abort)");
    free(s->headers);
    s->headers = (unsigned char *)malloc(headers.size ? headers.size : 1);
    if (!s->headers) abort();
    if (headers.size) memcpy(s->headers, headers.buf, headers.size);
    s->headers_size = headers.size;
    if (s->st.opened_calls > 0) violation(s, "gotHTTPResponse after opened");
    if (status < 0) violation(s, "negative HTTP status (LiteCore 3.4+ aborts)");
    s->st.http_status = status;
    pthread_mutex_unlock(&s->mu);
    leave(s);
}

void c4socket_opened(C4Socket *s) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    if (s->st.opened_calls++ > 0) violation(s, "opened called twice");
    if (s->in.incoming) {
        if (s->in.open_calls == 0) violation(s, "opened before LiteCore called the factory's open");
    } else if (s->st.http_response_calls == 0) {
        violation(s, "opened without gotHTTPResponse(101)");
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    leave(s);
}

static void *report_stopped(void *arg);

void c4socket_closed(C4Socket *s, LcwsError err) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    s->st.closed_calls++;
    s->st.closed_error = err;
    if (err.padding[0] || err.padding[1] || err.padding[2]) violation(s, "C4Error padding not zeroed");
    if (err.internal_info > MAX_MESSAGES) violation(s, "C4Error.internal_info %u was not made by c4error_make", err.internal_info);
    /* The passive replicator learns that its socket closed: it stops (its status callback, on
     * another thread, reports Stopped) and drops its reference — here, inside closed, as
     * LiteCore may: a transport that holds no reference of its own loses the socket now. */
    bool drop = s->replicator_holds_ref && s->st.closed_calls == 1;
    if (drop) s->replicator_holds_ref = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (g_closed_hook) g_closed_hook(s);
    if (drop) {
        if (pthread_create(&s->reporter, NULL, report_stopped, s) != 0) abort();
        s->reporter_started = true;
        c4socket_release(s);
    }
    leave(s);
}

void fake_set_closed_hook(void (*hook)(C4Socket *s)) { g_closed_hook = hook; }

void fake_set_received_hook(void (*hook)(C4Socket *s, size_t size)) { g_received_hook = hook; }

void c4socket_closeRequested(C4Socket *s, int status, LcwsSlice message) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    s->st.close_requested_calls++;
    pthread_mutex_unlock(&s->mu);
    leave(s);
    /* LiteCore answers the peer's close at once, on this thread, inside this call. */
    const FakeSocketFactory *f = factory_of(s);
    if (f->requestClose) f->requestClose(s, status, message);
}

void c4socket_completedWrite(C4Socket *s, size_t n) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    s->st.bytes_written_acked += n;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    leave(s);
}

void c4socket_received(C4Socket *s, LcwsSlice data) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    if (data.size == 0) violation(s, "received an empty message (LiteCore would call a NULL close)");
    if (s->st.opened_calls == 0) violation(s, "received before opened");
    s->st.bytes_received += data.size;
    s->st.messages_received++;
    if (s->keep_messages && data.size) {
        FakeMessage *m = (FakeMessage *)malloc(sizeof(FakeMessage) + data.size);
        if (!m) abort();
        m->next = NULL;
        m->size = data.size;
        memcpy(m->data, data.buf, data.size);
        if (s->tail) s->tail->next = m;
        else s->head = m;
        s->tail = m;
    }
    int ack = s->ack_mode == FAKE_ACK_IMMEDIATE;
    bool echo = s->echo;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    void (*hook)(C4Socket *, size_t) = g_received_hook;
    if (hook) hook(s, data.size);
    leave(s);
    if (echo) factory_of(s)->write(s, new_buffer(data.buf, data.size));
    /* BLIP acknowledges once it processed the frame; here at once, re-entrantly, which LiteCore
     * also does (completedReceive from inside c4socket_received). */
    if (ack) factory_of(s)->completedReceive(s, data.size);
}

void fake_socket_set_ack_mode(C4Socket *s, int mode) {
    pthread_mutex_lock(&check(s, __func__)->mu);
    s->ack_mode = mode;
    pthread_mutex_unlock(&s->mu);
}

void fake_socket_set_echo(C4Socket *s, bool echo) {
    pthread_mutex_lock(&check(s, __func__)->mu);
    s->echo = echo;
    pthread_mutex_unlock(&s->mu);
}

void fake_socket_keep_messages(C4Socket *s, bool keep) {
    pthread_mutex_lock(&check(s, __func__)->mu);
    s->keep_messages = keep;
    pthread_mutex_unlock(&s->mu);
}

void c4Socket_setNativeHandle(C4Socket *s, void *h) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    s->native = h;
    pthread_mutex_unlock(&s->mu);
}

void *c4Socket_getNativeHandle(C4Socket *s) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    void *h = s->native;
    pthread_mutex_unlock(&s->mu);
    return h;
}

C4Socket *c4socket_retain(C4Socket *s) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    if (s->st.disposed) violation(s, "retain after dispose");
    s->refcount++;
    s->st.refcount = s->refcount;
    pthread_mutex_unlock(&s->mu);
    return s;
}

void c4socket_release(C4Socket *s) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    int left = --s->refcount;
    s->st.refcount = left;
    if (left < 0) violation(s, "release without retain");
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (left == 0) {
        /* LiteCore's destructor: dispose on the thread that dropped the last reference. */
        const FakeSocketFactory *f = factory_of(s);
        if (f->dispose) f->dispose(s);
        pthread_mutex_lock(&s->mu);
        s->st.disposed = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

static atomic_bool g_peer_cert_verdict = true;

void fake_set_peer_cert_verdict(bool accept) { atomic_store(&g_peer_cert_verdict, accept); }

bool c4socket_gotPeerCertificate(C4Socket *s, LcwsSlice certDER, LcwsSlice hostname) {
    check(s, __func__);
    enter(s, __func__, 0);
    pthread_mutex_lock(&s->mu);
    if (s->st.http_response_calls || s->st.opened_calls)
        violation(s, "gotPeerCertificate after gotHTTPResponse/opened");
    if (s->in.incoming) violation(s, "gotPeerCertificate on an incoming socket");
    s->st.peer_cert_calls++;
    free(s->peer_cert);
    s->peer_cert = (unsigned char *)malloc(certDER.size ? certDER.size : 1);
    if (s->peer_cert && certDER.size) memcpy(s->peer_cert, certDER.buf, certDER.size);
    s->st.peer_cert_size = certDER.size;
    size_t n = hostname.size < sizeof s->st.peer_cert_host - 1 ? hostname.size : sizeof s->st.peer_cert_host - 1;
    if (n) memcpy(s->st.peer_cert_host, hostname.buf, n);
    s->st.peer_cert_host[n] = 0;
    pthread_mutex_unlock(&s->mu);
    leave(s);
    return atomic_load(&g_peer_cert_verdict);
}

bool fake_socket_peer_cert_is(C4Socket *s, const void *der, size_t size) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    bool same = s->peer_cert && s->st.peer_cert_size == size && memcmp(s->peer_cert, der, size) == 0;
    pthread_mutex_unlock(&s->mu);
    return same;
}

/* c4error_make keeps messages in a small table; internal_info is the 1-based slot. */
static char *g_messages[MAX_MESSAGES];
static atomic_uint g_message_count;

LcwsError c4error_make(uint8_t domain, int code, LcwsSlice message) {
    LcwsError e;
    memset(&e, 0, sizeof e);
    e.domain = domain;
    e.code = code;
    unsigned slot = atomic_fetch_add(&g_message_count, 1);
    if (slot < MAX_MESSAGES) {
        char *copy = (char *)malloc(message.size + 1);
        if (copy) {
            if (message.size) memcpy(copy, message.buf, message.size);
            copy[message.size] = 0;
            g_messages[slot] = copy;
            e.internal_info = slot + 1;
        }
    }
    return e;
}

static const char *message_of(LcwsError e) {
    if (e.internal_info == 0 || e.internal_info > MAX_MESSAGES) return "";
    const char *m = g_messages[e.internal_info - 1];
    return m ? m : "";
}

/* Buffers given to write: a header with a magic in front of the bytes. */
typedef struct FakeBuf {
    uint64_t magic;
    atomic_int refs;
    size_t size;
} FakeBuf;
#define BUF_MAGIC 0x464C42554621ull

void _FLBuf_Release(const void *buf) {
    if (!buf) return;
    FakeBuf *b = (FakeBuf *)((char *)buf - sizeof(FakeBuf));
    if (b->magic != BUF_MAGIC) { fprintf(stderr, "fake_litecore: _FLBuf_Release of a foreign or freed buffer\n"); abort(); }
    if (atomic_fetch_sub(&b->refs, 1) == 1) {
        b->magic = 0;
        free(b);
        atomic_fetch_sub(&g_outstanding_buffers, 1);
    }
}

static LcwsSliceResult new_buffer(const void *data, size_t size) {
    FakeBuf *b = (FakeBuf *)malloc(sizeof(FakeBuf) + (size ? size : 1));
    if (!b) abort();
    b->magic = BUF_MAGIC;
    atomic_init(&b->refs, 1);
    b->size = size;
    if (size) memcpy((char *)(b + 1), data, size);
    atomic_fetch_add(&g_outstanding_buffers, 1);
    LcwsSliceResult r;
    r.buf = (char *)(b + 1);
    r.size = size;
    return r;
}

long fake_outstanding_buffers(void) { return atomic_load(&g_outstanding_buffers); }

/* ---- cookie store ---- */

#define MAX_COOKIES 64
static pthread_mutex_t g_cookie_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_cookie_names[MAX_COOKIES][128], g_cookie_values[MAX_COOKIES][512];
static int g_cookie_count, g_cookie_set_calls;
static char g_cookie_text[MAX_COOKIES * 650];

void fake_cookies_clear(void) {
    pthread_mutex_lock(&g_cookie_mu);
    g_cookie_count = 0;
    g_cookie_set_calls = 0;
    pthread_mutex_unlock(&g_cookie_mu);
}

static void cookie_text_locked(void) {
    g_cookie_text[0] = 0;
    for (int i = 0; i < g_cookie_count; i++) {
        size_t len = strlen(g_cookie_text);
        snprintf(g_cookie_text + len, sizeof g_cookie_text - len, "%s%s=%s", i ? "; " : "", g_cookie_names[i],
                 g_cookie_values[i]);
    }
}

const char *fake_cookies_text(void) {
    pthread_mutex_lock(&g_cookie_mu);
    cookie_text_locked();
    pthread_mutex_unlock(&g_cookie_mu);
    return g_cookie_text;
}

int fake_cookies_set_calls(void) { return g_cookie_set_calls; }

static void copy_truncated(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

LcwsSliceResult c4db_getCookies(void *db, LcwsAddress request, LcwsError *outError) {
    (void)request;
    if (outError) memset(outError, 0, sizeof *outError);
    LcwsSliceResult r;
    r.buf = NULL;
    r.size = 0;
    if (!db) return r;
    pthread_mutex_lock(&g_cookie_mu);
    cookie_text_locked();
    if (g_cookie_count) r = new_buffer(g_cookie_text, strlen(g_cookie_text));
    pthread_mutex_unlock(&g_cookie_mu);
    return r;
}

bool c4db_setCookie(void *db, LcwsSlice setCookieHeader, LcwsSlice fromHost, LcwsSlice fromPath,
                    bool acceptParentDomain, LcwsError *outError) {
    (void)fromHost; (void)fromPath; (void)acceptParentDomain;
    if (outError) memset(outError, 0, sizeof *outError);
    if (!db) return false;
    /* "name=value; attributes": keep name (lower-cased, as LiteCore does) and value. */
    char line[700];
    size_t n = setCookieHeader.size < sizeof line - 1 ? setCookieHeader.size : sizeof line - 1;
    memcpy(line, setCookieHeader.buf, n);
    line[n] = 0;
    char *semi = strchr(line, ';');
    if (semi) *semi = 0;
    char *eq = strchr(line, '=');
    if (!eq) return false;
    *eq = 0;
    for (char *p = line; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    pthread_mutex_lock(&g_cookie_mu);
    g_cookie_set_calls++;
    int i = 0;
    while (i < g_cookie_count && strcmp(g_cookie_names[i], line) != 0) i++;
    if (i == g_cookie_count && g_cookie_count < MAX_COOKIES) g_cookie_count++;
    if (i < MAX_COOKIES) {
        copy_truncated(g_cookie_names[i], sizeof g_cookie_names[i], line);
        copy_truncated(g_cookie_values[i], sizeof g_cookie_values[i], eq + 1);
    }
    pthread_mutex_unlock(&g_cookie_mu);
    return true;
}

/* ---- a small HTTP client ---- */

char *fake_http(uint16_t port, const char *method, const char *path, const char *body, int *status) {
    *status = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, port, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = (char *)malloc(cap + 1);
    ssize_t got;
    while (buf && len < cap && (got = read(fd, buf + len, cap - len)) > 0) len += (size_t)got;
    close(fd);
    if (!buf) return NULL;
    buf[len] = 0;
    sscanf(buf, "HTTP/1.%*d %d", status);
    char *start = strstr(buf, "\r\n\r\n");
    char *out = strdup(start ? start + 4 : "");
    free(buf);
    return out;
}

void fake_json_str(const char *json, const char *key, char *out, size_t out_size) {
    out[0] = 0;
    char needle[128];
    snprintf(needle, sizeof needle, "\"%s\"", key);
    const char *at = strstr(json, needle);
    if (!at) return;
    at += strlen(needle);
    while (*at == ' ' || *at == ':') at++;
    if (*at != '"') return;
    at++;
    size_t n = 0;
    while (at[n] && at[n] != '"' && n + 1 < out_size) n++;
    memcpy(out, at, n);
    out[n] = 0;
}

/* ---- log capture ---- */

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_log;
static size_t g_log_len, g_log_cap;

static void fake_log(void *ctx, int level, const char *line) {
    (void)ctx;
    pthread_mutex_lock(&g_log_mu);
    size_t n = strlen(line);
    if (g_log_len + n + 2 > g_log_cap) {
        size_t cap = (g_log_cap + n + 2) * 2;
        char *p = (char *)realloc(g_log, cap);
        if (!p) { pthread_mutex_unlock(&g_log_mu); return; }
        g_log = p;
        g_log_cap = cap;
    }
    memcpy(g_log + g_log_len, line, n);
    g_log_len += n;
    g_log[g_log_len++] = '\n';
    g_log[g_log_len] = 0;
    pthread_mutex_unlock(&g_log_mu);
    if (getenv("FAKE_LITECORE_ECHO_LOG")) fprintf(stderr, "[lcws %d] %s\n", level, line);
}

const char *fake_captured_log(void) { return g_log ? g_log : ""; }

void fake_reset_log(void) {
    pthread_mutex_lock(&g_log_mu);
    g_log_len = 0;
    if (g_log) g_log[0] = 0;
    pthread_mutex_unlock(&g_log_mu);
}

void fake_fill_host_table(LcwsHostTable *t, bool with_optional) {
    memset(t, 0, sizeof *t);
    t->struct_size = sizeof *t;
    t->got_http_response = c4socket_gotHTTPResponse;
    t->opened = c4socket_opened;
    t->closed = c4socket_closed;
    t->close_requested = c4socket_closeRequested;
    t->completed_write = c4socket_completedWrite;
    t->received = c4socket_received;
    t->set_native_handle = c4Socket_setNativeHandle;
    t->get_native_handle = c4Socket_getNativeHandle;
    t->retain = c4socket_retain;
    t->release = c4socket_release;
    t->release_buffer = _FLBuf_Release;
    if (with_optional) {
        t->got_peer_certificate = c4socket_gotPeerCertificate;
        t->error_make = c4error_make;
        t->get_cookies = c4db_getCookies;
        t->set_cookie = c4db_setCookie;
        t->log = fake_log;
    }
}

/* ---- sockets ---- */

C4Socket *fake_socket_new(void) {
    C4Socket *s = (C4Socket *)calloc(1, sizeof *s);
    if (!s) abort();
    s->magic = FAKE_MAGIC;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->refcount = 1;
    s->st.refcount = 1;
    s->keep_messages = true;
    atomic_init(&s->in_host_call, 0);
    return s;
}

static LcwsSlice str_slice(const char *s) {
    LcwsSlice r;
    r.buf = s;
    r.size = s ? strlen(s) : 0;
    return r;
}

/* Calls the socket's factory open, recording that the call is running on this thread. */
static void call_open(C4Socket *s, const LcwsAddress *a, LcwsSlice options) {
    const FakeSocketFactory *f = factory_of(s);
    pthread_mutex_lock(&s->mu);
    s->in.open_calls++;
    pthread_mutex_unlock(&s->mu);
    s->open_thread = pthread_self();
    atomic_store(&s->in_open, 1);
    f->open(s, a, options, f->context);
    atomic_store(&s->in_open, 0);
}

void fake_socket_open(C4Socket *s, const char *scheme, const char *host, uint16_t port,
                      const char *path, const void *options, size_t options_size) {
    check(s, __func__);
    /* LiteCore's address is only valid during open: give copies and scribble afterwards. */
    char *sc = strdup(scheme), *h = strdup(host), *p = strdup(path);
    void *opts = malloc(options_size ? options_size : 1);
    if (!sc || !h || !p || !opts) abort();
    if (options_size) memcpy(opts, options, options_size);
    LcwsAddress a;
    a.scheme = str_slice(sc);
    a.hostname = str_slice(h);
    a.port = port;
    a.path = str_slice(p);
    LcwsSlice o;
    o.buf = opts;
    o.size = options_size;
    call_open(s, &a, o);
    memset(sc, 'X', strlen(sc));
    memset(h, 'X', strlen(h));
    memset(p, 'X', strlen(p));
    free(sc);
    free(h);
    free(p);
    /* Options stay valid for the socket's life in LiteCore; litecore-ws copies them anyway,
     * which this fake checks by freeing them now. */
    if (options_size) memset(opts, 0xEE, options_size);
    free(opts);
}

void fake_socket_write(C4Socket *s, const void *data, size_t size) {
    check(s, __func__);
    factory_of(s)->write(s, new_buffer(data, size));
}

void fake_socket_request_close(C4Socket *s, int status, const char *message) {
    check(s, __func__);
    factory_of(s)->requestClose(s, status, str_slice(message));
}

void fake_socket_completed_receive(C4Socket *s, size_t n) {
    check(s, __func__);
    factory_of(s)->completedReceive(s, n);
}

void fake_socket_drop(C4Socket *s) { c4socket_release(check(s, __func__)); }

/* ---- incoming sockets: c4socket_fromNative and the passive replicator ---- */

static char *copy_slice(LcwsSlice v) {
    char *c = (char *)malloc(v.size + 1);
    if (!c) abort();
    if (v.size) memcpy(c, v.buf, v.size);
    c[v.size] = 0;
    return c;
}

FakeSocketFactory fake_lcws_factory(void *context, bool with_attached) {
    FakeSocketFactory f;
    memset(&f, 0, sizeof f);
    f.framing = LCWS_FRAMING;
    f.context = context;
    f.open = lcws_socket_open;
    f.write = lcws_socket_write;
    f.completedReceive = lcws_socket_completed_receive;
    f.requestClose = lcws_socket_request_close;
    f.dispose = lcws_socket_dispose;
    if (with_attached) f.attached = lcws_socket_attached;
    return f;
}

C4Socket *c4socket_fromNative(FakeSocketFactory factory, void *native, const LcwsAddress *address) {
    if (!address) { fprintf(stderr, "fake_litecore: c4socket_fromNative without an address\n"); abort(); }
    /* LiteCore checks the factory like c4socket_registerFactory does (no-framing rules). */
    if (!factory.open || !factory.write || !factory.completedReceive || factory.framing != 1 || factory.close ||
        !factory.requestClose) {
        fprintf(stderr, "fake_litecore: c4socket_fromNative with an incomplete no-framing factory\n");
        abort();
    }
    C4Socket *s = fake_socket_new();
    /* Unretained, as c4socket_fromNative returns it: whoever keeps it retains it. */
    s->refcount = 0;
    s->st.refcount = 0;
    s->in.incoming = 1;
    s->has_factory = true;
    s->factory = factory;
    s->native = native;
    /* LiteCore keeps the address (as the socket's URL) for the later open. */
    s->addr_scheme = copy_slice(address->scheme);
    s->addr_host = copy_slice(address->hostname);
    s->addr_path = copy_slice(address->path);
    s->addr_port = address->port;
    snprintf(s->in.peer_address, sizeof s->in.peer_address, "%s://%s:%u%s", s->addr_scheme, s->addr_host,
             (unsigned)s->addr_port, s->addr_path);
    /* LiteCore 3.4/4.1+: attached right away, for sockets made here. */
    if (factory.attached) {
        factory.attached(s);
        s->in.attached_calls++;
    }
    return s;
}

/* The replicator starting: it "connects" its WebSocket, i.e. LiteCore calls the factory's open
 * with the address it kept and the options, valid only during the call. */
static void passive_open(C4Socket *s) {
    char *sc = strdup(s->addr_scheme), *h = strdup(s->addr_host), *p = strdup(s->addr_path);
    void *opts = malloc(s->passive_options_size ? s->passive_options_size : 1);
    if (!sc || !h || !p || !opts) abort();
    if (s->passive_options_size) memcpy(opts, s->passive_options, s->passive_options_size);
    LcwsAddress a;
    a.scheme = str_slice(sc);
    a.hostname = str_slice(h);
    a.port = s->addr_port;
    a.path = str_slice(p);
    LcwsSlice o;
    o.buf = opts;
    o.size = s->passive_options_size;
    call_open(s, &a, o);
    memset(sc, 'X', strlen(sc));
    memset(h, 'X', strlen(h));
    memset(p, 'X', strlen(p));
    if (s->passive_options_size) memset(opts, 0xEE, s->passive_options_size);
    free(sc);
    free(h);
    free(p);
    free(opts);
}

static void *passive_open_thread(void *arg) {
    passive_open((C4Socket *)arg);
    return NULL;
}

static void *report_stopped(void *arg) {
    C4Socket *s = (C4Socket *)arg;
    pthread_mutex_lock(&s->mu);
    LcwsConnection *c = s->connection;
    pthread_mutex_unlock(&s->mu);
    lcws_connection_report(c, LCWS_ACTIVITY_STOPPED);
    pthread_mutex_lock(&s->mu);
    s->in.stopped_reports++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void fake_passive_start(C4Socket *s, LcwsConnection *connection, const void *options, size_t options_size,
                        int mode) {
    check(s, __func__);
    if (!s->in.incoming) { fprintf(stderr, "fake_litecore: fake_passive_start on a socket not made by fromNative\n"); abort(); }
    /* c4repl_newWithSocket: the replicator keeps the socket. */
    c4socket_retain(s);
    pthread_mutex_lock(&s->mu);
    s->connection = connection;
    s->replicator_holds_ref = true;
    s->passive_options = (unsigned char *)malloc(options_size ? options_size : 1);
    if (!s->passive_options) abort();
    if (options_size) memcpy(s->passive_options, options, options_size);
    s->passive_options_size = options_size;
    pthread_mutex_unlock(&s->mu);
    /* c4repl_start: LiteCore opens the socket from its own thread, usually after the host's
     * accept returned; FAKE_OPEN_INLINE opens it before fake_passive_start returns. */
    if (mode == FAKE_OPEN_INLINE) {
        passive_open(s);
    } else if (mode == FAKE_OPEN_THREAD) {
        if (pthread_create(&s->opener, NULL, passive_open_thread, s) != 0) abort();
        s->opener_started = true;
    }
}

void fake_passive_open_now(C4Socket *s) {
    check(s, __func__);
    passive_open(s);
}

static int stopped_reported(C4Socket *s, size_t unused) {
    (void)unused;
    return s->in.stopped_reports > 0;
}

static void deadline_after(struct timespec *ts, int timeout_ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int fake_wait_closed(C4Socket *s, int timeout_ms) {
    check(s, __func__);
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->st.closed_calls == 0) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
    }
    int done = s->st.closed_calls > 0;
    pthread_mutex_unlock(&s->mu);
    return done;
}

/* Waits on the socket's condition until pred(s) holds; returns pred(s). */
static int wait_until(C4Socket *s, int timeout_ms, int (*pred)(C4Socket *, size_t), size_t arg) {
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (!pred(s, arg)) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
    }
    int done = pred(s, arg);
    pthread_mutex_unlock(&s->mu);
    return done;
}

static int opened_or_closed(C4Socket *s, size_t unused) {
    (void)unused;
    return s->st.opened_calls > 0 || s->st.closed_calls > 0;
}

int fake_wait_opened(C4Socket *s, int timeout_ms) {
    wait_until(check(s, __func__), timeout_ms, opened_or_closed, 0);
    pthread_mutex_lock(&s->mu);
    int opened = s->st.opened_calls > 0;
    pthread_mutex_unlock(&s->mu);
    return opened;
}

static int written_at_least(C4Socket *s, size_t bytes) { return s->st.bytes_written_acked >= bytes; }

double fake_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fake_wait_written(C4Socket *s, size_t bytes, int timeout_ms) {
    return wait_until(check(s, __func__), timeout_ms, written_at_least, bytes);
}

static int has_message(C4Socket *s, size_t unused) {
    (void)unused;
    return s->head != NULL;
}

void *fake_socket_next_message(C4Socket *s, int timeout_ms, size_t *size) {
    if (!wait_until(check(s, __func__), timeout_ms, has_message, 0)) return NULL;
    pthread_mutex_lock(&s->mu);
    FakeMessage *m = s->head;
    s->head = m->next;
    if (!s->head) s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    void *copy = malloc(m->size);
    if (!copy) abort();
    memcpy(copy, m->data, m->size);
    *size = m->size;
    free(m);
    return copy;
}

int fake_wait_refcount(C4Socket *s, int count, int timeout_ms) {
    check(s, __func__);
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->refcount != count) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
    }
    int done = s->refcount == count;
    pthread_mutex_unlock(&s->mu);
    return done;
}

static int stopped_reported(C4Socket *s, size_t unused);
int fake_wait_stopped_reported(C4Socket *s, int timeout_ms) {
    return wait_until(check(s, __func__), timeout_ms, stopped_reported, 0);
}

int fake_wait_disposed(C4Socket *s, int timeout_ms) {
    check(s, __func__);
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (!s->st.disposed) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
    }
    int done = s->st.disposed;
    pthread_mutex_unlock(&s->mu);
    return done;
}

FakeIncomingState fake_incoming_state(C4Socket *s) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    FakeIncomingState in = s->in;
    pthread_mutex_unlock(&s->mu);
    return in;
}

FakeSocketState fake_socket_state(C4Socket *s) {
    check(s, __func__);
    pthread_mutex_lock(&s->mu);
    FakeSocketState st = s->st;
    pthread_mutex_unlock(&s->mu);
    snprintf(st.closed_message, sizeof st.closed_message, "%s", message_of(st.closed_error));
    return st;
}

bool fake_socket_headers_contain(C4Socket *s, const char *text) {
    check(s, __func__);
    size_t n = strlen(text);
    pthread_mutex_lock(&s->mu);
    bool found = false;
    for (size_t i = 0; !found && n <= s->headers_size && i + n <= s->headers_size; i++)
        found = memcmp(s->headers + i, text, n) == 0;
    pthread_mutex_unlock(&s->mu);
    return found;
}

void fake_socket_free(C4Socket *s) {
    check(s, __func__);
    if (s->opener_started) pthread_join(s->opener, NULL);
    if (s->reporter_started) pthread_join(s->reporter, NULL);
    free(s->addr_scheme);
    free(s->addr_host);
    free(s->addr_path);
    free(s->passive_options);
    free(s->headers);
    free(s->peer_cert);
    for (FakeMessage *m = s->head; m;) {
        FakeMessage *next = m->next;
        free(m);
        m = next;
    }
    s->magic = 0;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

uint16_t fake_closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd); /* never listened: connecting is refused */
    return port;
}

uint16_t fake_blackhole_port(int fds[2]) {
    fds[0] = fds[1] = -1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 0) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0) {
        close(l);
        return 0;
    }
    /* Fill the accept queue (backlog 0 admits one connection); later SYNs are dropped. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
        close(l);
        if (c >= 0) close(c);
        return 0;
    }
    fds[0] = l;
    fds[1] = c;
    return ntohs(a.sin_port);
}

void *fake_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = (char *)malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *p = (char *)realloc(buf, cap *= 2);
            if (!p) { free(buf); buf = NULL; }
            else buf = p;
        }
    }
    fclose(f);
    if (buf) *size = n;
    return buf;
}

/* ---- peers ---- */

extern char **environ;

/* Starts argv[0] with its stdin and stdout on pipes: fills p->pid and returns 1, our ends in
 * *to_stdin and *from_stdout; 0 when it cannot start (`who` names the caller in the message). */
static int spawn_piped(FakePeer *p, char *const argv[], const char *who, int *to_stdin, int *from_stdout) {
    memset(p, 0, sizeof *p);
    p->pid = -1;
    p->stdin_fd = -1;
    p->stdout_fd = -1;
    int in[2], out[2];
    if (pipe(in) != 0) return 0;
    if (pipe(out) != 0) { close(in[0]); close(in[1]); return 0; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", who, argv[0], strerror(rc));
        close(in[1]);
        close(out[0]);
        return 0;
    }
    p->pid = pid;
    *to_stdin = in[1];
    *from_stdout = out[0];
    return 1;
}

int fake_peer_start(FakePeer *p, char *const argv[], int timeout_ms) {
    int to_stdin, from_stdout;
    if (!spawn_piped(p, argv, "fake_peer_start", &to_stdin, &from_stdout)) return 0;
    p->stdin_fd = to_stdin;
    /* Read lines until READY (the peer prints it only once it listens). */
    FILE *f = fdopen(from_stdout, "r");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char line[16384];
    int ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "READY ", 6) == 0) {
            snprintf(p->ready, sizeof p->ready, "%s", line + 6);
            ok = 1;
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 > timeout_ms) break;
    }
    fclose(f); /* the peer's later stdout lines go nowhere; it logs to stderr */
    if (!ok) {
        fprintf(stderr, "fake_peer_start: %s did not print READY\n", argv[0]);
        fake_peer_stop(p);
    }
    return ok;
}

static const char *json_field(const char *json, const char *key) {
    char needle[128];
    snprintf(needle, sizeof needle, "\"%s\"", key);
    const char *at = strstr(json, needle);
    if (!at) return NULL;
    at += strlen(needle);
    while (*at == ' ' || *at == ':') at++;
    return at;
}

long fake_peer_int(const FakePeer *p, const char *key) {
    const char *v = json_field(p->ready, key);
    return v ? strtol(v, NULL, 10) : 0;
}

void fake_peer_str(const FakePeer *p, const char *key, char *out, size_t out_size) {
    out[0] = 0;
    const char *v = json_field(p->ready, key);
    if (!v || *v != '"') return;
    v++;
    size_t n = 0;
    while (v[n] && v[n] != '"' && n + 1 < out_size) n++;
    memcpy(out, v, n);
    out[n] = 0;
}

void fake_peer_stop(FakePeer *p) {
    if (p->stdout_fd >= 0) close(p->stdout_fd);
    p->stdout_fd = -1;
    if (p->stdin_fd >= 0) close(p->stdin_fd);
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
    }
    p->pid = -1;
    p->stdin_fd = -1;
}

/* ---- peers driven over stdin/stdout ---- */

int fake_peer_read_line(FakePeer *p, char *out, size_t out_size, int timeout_ms) {
    if (p->stdout_fd < 0 || out_size == 0) return 0;
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    size_t n = 0;
    for (;;) {
        int left = (int)((deadline - fake_now_s()) * 1000);
        if (left < 0) left = 0;
        struct pollfd pfd;
        pfd.fd = p->stdout_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            out[n] = 0;
            return 0;
        }
        char c;
        ssize_t got = read(p->stdout_fd, &c, 1); /* one byte at a time: nothing read ahead */
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            out[n] = 0;
            return 0;
        }
        if (c == '\n') {
            out[n] = 0;
            return 1;
        }
        if (n + 1 < out_size) out[n++] = c;
    }
}

int fake_peer_send(FakePeer *p, const char *line) {
    if (p->stdin_fd < 0) return 0;
    size_t len = strlen(line);
    char *buf = (char *)malloc(len + 1);
    if (!buf) return 0;
    memcpy(buf, line, len);
    buf[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t w = write(p->stdin_fd, buf + off, len + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(buf);
    return off == len + 1;
}

int fake_peer_start_piped(FakePeer *p, char *const argv[], int timeout_ms) {
    int to_stdin, from_stdout;
    if (!spawn_piped(p, argv, "fake_peer_start_piped", &to_stdin, &from_stdout)) return 0;
    /* Our end of stdin must not leak into later children (they would keep it open). */
    fcntl(to_stdin, F_SETFD, FD_CLOEXEC);
    fcntl(from_stdout, F_SETFD, FD_CLOEXEC);
    p->stdin_fd = to_stdin;
    p->stdout_fd = from_stdout;
    char line[16384];
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        int left = (int)((deadline - fake_now_s()) * 1000);
        if (left <= 0 || !fake_peer_read_line(p, line, sizeof line, left)) break;
        if (strncmp(line, "READY", 5) == 0) {
            snprintf(p->ready, sizeof p->ready, "%s", line[5] == ' ' ? line + 6 : "");
            return 1;
        }
    }
    fprintf(stderr, "fake_peer_start_piped: %s did not print READY\n", argv[0]);
    fake_peer_stop(p);
    return 0;
}
