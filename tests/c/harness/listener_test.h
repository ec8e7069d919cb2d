/* Shared set-up for the listener tests (tests/c/tests/server/test_listener_*.c): litecore-ws's listener
 * with a host that plays LiteCore on the server side — every accepted connection becomes a socket
 * made by the fake's c4socket_fromNative and a passive replicator (fake_passive_start) — and,
 * for the client side, litecore-ws's own client through the fake LiteCore (fake_socket_open).
 *
 * The host (LtHost, one per test program) records every accept, release, password and certificate
 * check, so a test can prove that a refused client never reached LiteCore. */
#ifndef LCWS_LISTENER_TEST_H
#define LCWS_LISTENER_TEST_H
#define _POSIX_C_SOURCE 200809L
#include "sg_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#define LT_PROTOCOL "BLIP_3+CBMobile_3"
/* Accepted sockets a test program records at once (a test may define more before including this;
 * lt_forget_finished starts the count again). */
#ifndef LT_MAX_SOCKETS
#define LT_MAX_SOCKETS 64
#endif

typedef struct LtHost {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Settings for the sockets accepted from now on. */
    bool echo;           /* the passive replicator writes back what it receives */
    int ack_mode;        /* FAKE_ACK_* */
    int open_mode;       /* FAKE_OPEN_* */
    bool attached;       /* the factory given to fromNative has `attached` (LiteCore 3.4/4.1+) */
    bool refuse;         /* accept makes the socket, then frees it and returns NULL */
    const char *password; /* check_password accepts user "alice" with this one */
    bool cert_verdict;   /* what check_certificate answers */
    bool keep_messages;  /* the fake keeps received messages for fake_socket_next_message */
    bool quiet;          /* lt_finish_server prints nothing (long loops) */
    /* While set, accept waits (lt.holding counts the callers waiting) until it is cleared: a
     * connection can be kept in its hand-over. Clear it with lt_release_held. */
    bool hold_accept;
    int holding;
    /* Set by lt_free once lcws_listener_free returned: a host callback entered after that is
     * counted (the listener promised none), cleared by lt_start. */
    bool listener_freed;
    int calls_after_free;
    char first_call_after_free[64];
    /* What happened. */
    C4Socket *sockets[LT_MAX_SOCKETS];
    LcwsConnection *connections[LT_MAX_SOCKETS];
    char databases[LT_MAX_SOCKETS][64];
    char users[LT_MAX_SOCKETS][64];
    char protocols[LT_MAX_SOCKETS][64];
    bool released_token[LT_MAX_SOCKETS];
    bool freed[LT_MAX_SOCKETS];
    int accepted, released, refused;
    int password_checks, cert_checks, databases_released;
} LtHost;

/* The one host of a test program; lt_init sets its defaults: echo on, acknowledging at once,
 * open from the replicator's thread, no `attached`, accepting certificates. */
static LtHost lt;

/* Every host callback starts here: records a call that came after lcws_listener_free returned. */
static inline void lt_callback_entered(LtHost *h, const char *which) {
    pthread_mutex_lock(&h->mu);
    if (h->listener_freed) {
        if (h->calls_after_free++ == 0)
            snprintf(h->first_call_after_free, sizeof h->first_call_after_free, "%s", which);
        fprintf(stderr, "host callback %s after lcws_listener_free returned\n", which);
    }
    pthread_mutex_unlock(&h->mu);
}

static inline void *lt_accept(void *context, const LcwsIncoming *in) {
    LtHost *h = (LtHost *)context;
    CHECK(h == &lt);
    lt_callback_entered(h, "accept");
    pthread_mutex_lock(&h->mu);
    if (h->hold_accept) {
        h->holding++;
        pthread_cond_broadcast(&h->cv);
        while (h->hold_accept) pthread_cond_wait(&h->cv, &h->mu);
        h->holding--;
    }
    pthread_mutex_unlock(&h->mu);
    CHECK(in != NULL && in->connection != NULL && in->native_handle != NULL);
    FakeSocketFactory factory = fake_lcws_factory(NULL, h->attached);
    C4Socket *s = c4socket_fromNative(factory, in->native_handle, &in->peer);
    pthread_mutex_lock(&h->mu);
    int i = h->accepted++;
    CHECK(i < LT_MAX_SOCKETS);
    h->sockets[i] = s;
    h->connections[i] = in->connection;
    snprintf(h->databases[i], sizeof h->databases[i], "%.*s", (int)in->database_name.size,
             (const char *)in->database_name.buf);
    snprintf(h->users[i], sizeof h->users[i], "%.*s", (int)in->user.size, (const char *)in->user.buf);
    snprintf(h->protocols[i], sizeof h->protocols[i], "%.*s", (int)in->protocol.size,
             (const char *)in->protocol.buf);
    bool refuse = h->refuse, echo = h->echo, keep = h->keep_messages;
    int ack = h->ack_mode, mode = h->open_mode;
    pthread_mutex_unlock(&h->mu);
    if (refuse) {
        /* "a socket it made must be released before returning NULL": LiteCore frees an unretained
         * socket when a retain/release pair ends, which disposes it. */
        c4socket_release(c4socket_retain(s));
        pthread_mutex_lock(&h->mu);
        h->refused++;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        return NULL;
    }
    fake_socket_set_echo(s, echo);
    fake_socket_set_ack_mode(s, ack);
    fake_socket_keep_messages(s, keep);
    fake_passive_start(s, in->connection, in->replicator_options.buf, in->replicator_options.size, mode);
    pthread_mutex_lock(&h->mu);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return (void *)(uintptr_t)(i + 1); /* the token: the socket's index + 1 */
}

static inline void lt_release(void *context, void *token) {
    LtHost *h = (LtHost *)context;
    uintptr_t t = (uintptr_t)token;
    lt_callback_entered(h, "release");
    pthread_mutex_lock(&h->mu);
    CHECK(t >= 1 && (int)t <= h->accepted);
    CHECK(!h->released_token[t - 1]); /* once per connection */
    h->released_token[t - 1] = true;
    h->released++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static inline bool lt_check_password(void *context, LcwsSlice db, LcwsSlice user, LcwsSlice password) {
    LtHost *h = (LtHost *)context;
    (void)db;
    lt_callback_entered(h, "check_password");
    pthread_mutex_lock(&h->mu);
    h->password_checks++;
    const char *want = h->password;
    pthread_mutex_unlock(&h->mu);
    return want && user.size == 5 && memcmp(user.buf, "alice", 5) == 0 && password.size == strlen(want) &&
           memcmp(password.buf, want, password.size) == 0;
}

static inline bool lt_check_certificate(void *context, LcwsSlice der) {
    LtHost *h = (LtHost *)context;
    CHECK(der.size > 0);
    lt_callback_entered(h, "check_certificate");
    pthread_mutex_lock(&h->mu);
    h->cert_checks++;
    bool verdict = h->cert_verdict;
    pthread_mutex_unlock(&h->mu);
    return verdict;
}

static inline void lt_release_database(void *context, void *db) {
    LtHost *h = (LtHost *)context;
    (void)db;
    lt_callback_entered(h, "release_database");
    pthread_mutex_lock(&h->mu);
    h->databases_released++;
    pthread_mutex_unlock(&h->mu);
}

/* Installs the fake LiteCore (host table with its optional entries; the registered factory is
 * litecore-ws's, for the client sockets). */
static inline void lt_init(void) {
    pthread_mutex_init(&lt.mu, NULL);
    pthread_cond_init(&lt.cv, NULL);
    lt.echo = true;
    lt.ack_mode = FAKE_ACK_IMMEDIATE;
    lt.open_mode = FAKE_OPEN_THREAD;
    lt.cert_verdict = true;
    lt.keep_messages = true;
    peer_test_init();
}

/* A config with the host's callbacks, bound to 127.0.0.1, plain ws, push and pull allowed. */
static inline LcwsListenerConfig lt_config(void) {
    LcwsListenerConfig c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.network_interface.buf = "127.0.0.1";
    c.network_interface.size = 9;
    c.disable_tls = true;
    c.allow_push = true;
    c.allow_pull = true;
    c.context = &lt;
    c.accept = lt_accept;
    c.release = lt_release;
    c.release_database = lt_release_database;
    return c;
}

static inline LcwsSlice lt_slice(const char *s) {
    LcwsSlice r;
    r.buf = s;
    r.size = s ? strlen(s) : 0;
    return r;
}

static inline LcwsListener *lt_start(const LcwsListenerConfig *c) {
    pthread_mutex_lock(&lt.mu);
    lt.listener_freed = false;
    pthread_mutex_unlock(&lt.mu);
    LcwsListener *l = NULL;
    LcwsError e;
    memset(&e, 0, sizeof e);
    LcwsStatus st = lcws_listener_start(c, &l, &e);
    if (st != LCWS_STATUS_OK) fprintf(stderr, "lcws_listener_start: status %d, error {%d, %d}\n", st, e.domain, e.code);
    CHECK_EQ_INT(st, LCWS_STATUS_OK);
    CHECK(l != NULL);
    CHECK(lcws_listener_port(l) != 0);
    return l;
}

/* lcws_listener_free, then marks the host: any callback from now on is counted in
 * lt.calls_after_free (until the next lt_start). */
static inline LcwsStatus lt_free(LcwsListener *l) {
    LcwsStatus st = lcws_listener_free(l);
    pthread_mutex_lock(&lt.mu);
    lt.listener_freed = true;
    pthread_mutex_unlock(&lt.mu);
    return st;
}

/* Lets every accept held by lt.hold_accept go on. */
static inline void lt_release_held(void) {
    pthread_mutex_lock(&lt.mu);
    lt.hold_accept = false;
    pthread_cond_broadcast(&lt.cv);
    pthread_mutex_unlock(&lt.mu);
}

/* Shares `db` (any pointer) as `name`, speaking LT_PROTOCOL. */
static inline void lt_share(LcwsListener *l, const char *name, void *db) {
    CHECK_EQ_INT(lcws_listener_share(l, lt_slice(name), db, lt_slice(LT_PROTOCOL)), LCWS_STATUS_OK);
}

static inline int lt_count(const int *field) {
    pthread_mutex_lock(&lt.mu);
    int n = *field;
    pthread_mutex_unlock(&lt.mu);
    return n;
}

/* Waits until *field >= n (1) or the timeout (0). */
static inline int lt_wait_count(const int *field, int n, int timeout_ms) {
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    pthread_mutex_lock(&lt.mu);
    while (*field < n) {
        double left = deadline - fake_now_s();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = (long long)ts.tv_nsec + (long long)(left * 1e9);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&lt.cv, &lt.mu, &ts);
    }
    int ok = *field >= n;
    pthread_mutex_unlock(&lt.mu);
    return ok;
}

/* Waits until the host released the i-th connection's replicator (1) or the timeout (0). */
static inline int lt_wait_released(int i, int timeout_ms) {
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    pthread_mutex_lock(&lt.mu);
    while (!lt.released_token[i]) {
        double left = deadline - fake_now_s();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = (long long)ts.tv_nsec + (long long)(left * 1e9);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&lt.cv, &lt.mu, &ts);
    }
    int ok = lt.released_token[i];
    pthread_mutex_unlock(&lt.mu);
    return ok;
}

/* The server socket of the i-th accepted connection (from 0), waiting for the accept. */
static inline C4Socket *lt_server(int i) {
    CHECK(lt_wait_count(&lt.accepted, i + 1, 20000));
    pthread_mutex_lock(&lt.mu);
    C4Socket *s = lt.sockets[i];
    pthread_mutex_unlock(&lt.mu);
    return s;
}

/* Waits until lcws_listener_status counts `connections` (1) or the timeout (0): a released
 * connection leaves the count just after the host's release returned. Polls every 5 ms. */
static inline int lt_wait_status(LcwsListener *l, size_t connections, int timeout_ms) {
    double deadline = fake_now_s() + timeout_ms / 1000.0;
    for (;;) {
        size_t n = 0, active = 0;
        CHECK_EQ_INT(lcws_listener_status(l, &n, &active), LCWS_STATUS_OK);
        if (n == connections) return 1;
        if (fake_now_s() > deadline) {
            fprintf(stderr, "listener status: %zu connections, want %zu\n", n, connections);
            return 0;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Ends the i-th server socket's record: its one closed, the replicator's Stopped report, the
 * host's release, dispose (the last reference gone); checks the incoming-socket contract and
 * frees the record. Returns the state. */
static inline FakeSocketState lt_finish_server(int i, int timeout_ms) {
    C4Socket *s = lt_server(i);
    CHECK(fake_wait_closed(s, timeout_ms));
    CHECK(fake_wait_stopped_reported(s, 5000));
    CHECK(fake_wait_disposed(s, 5000));
    CHECK(lt_wait_released(i, 5000));
    FakeSocketState st = fake_socket_state(s);
    FakeIncomingState in = fake_incoming_state(s);
    if (!lt.quiet)
        printf("  server socket %d (%s): closed {%d, %d} \"%s\"\n", i, in.peer_address, st.closed_error.domain,
               st.closed_error.code, st.closed_message);
    CHECK_EQ_INT(in.incoming, 1);
    CHECK_EQ_INT(in.open_calls, 1);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_EQ_INT(st.peer_cert_calls, 0);
    CHECK_EQ_INT(st.refcount, 0);
    CHECK_EQ_INT(st.disposed, 1);
    CHECK_EQ_INT(in.stopped_reports, 1);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    pthread_mutex_lock(&lt.mu);
    lt.freed[i] = true;
    pthread_mutex_unlock(&lt.mu);
    return st;
}

/* A refused accept's socket: disposed inside accept, never opened. */
static inline void lt_finish_refused(int i) {
    C4Socket *s = lt_server(i);
    CHECK(fake_wait_disposed(s, 5000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(fake_incoming_state(s).open_calls, 0);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_EQ_INT(st.closed_calls, 0);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    pthread_mutex_lock(&lt.mu);
    lt.freed[i] = true;
    pthread_mutex_unlock(&lt.mu);
}

/* Every accepted socket must have been finished by the test. */
static inline void lt_check_all_finished(void) {
    pthread_mutex_lock(&lt.mu);
    for (int i = 0; i < lt.accepted; i++) {
        if (!lt.freed[i]) fprintf(stderr, "server socket %d was not finished\n", i);
        CHECK(lt.freed[i]);
    }
    pthread_mutex_unlock(&lt.mu);
}

/* Once every accepted socket was finished (lt_finish_server / lt_finish_refused) and released:
 * forgets them, so that a long test can accept more than LT_MAX_SOCKETS in all. */
static inline void lt_forget_finished(void) {
    lt_check_all_finished();
    pthread_mutex_lock(&lt.mu);
    CHECK_EQ_INT(lt.released + lt.refused, lt.accepted);
    memset(lt.sockets, 0, sizeof lt.sockets);
    memset(lt.connections, 0, sizeof lt.connections);
    memset(lt.released_token, 0, sizeof lt.released_token);
    memset(lt.freed, 0, sizeof lt.freed);
    lt.accepted = lt.released = lt.refused = 0;
    pthread_mutex_unlock(&lt.mu);
}

/* ---- the client side (litecore-ws's client through the fake LiteCore) ---- */

/* Opens scheme://host:port/<db>/_blipsync with WS-Protocols plus `extra` options, no wait. */
static inline C4Socket *lt_client_nowait(const char *scheme, uint16_t port, const char *db, const FlEntry *extra,
                                         size_t n_extra, const char *protocols) {
    FlEntry entries[10];
    FlEntry proto = FL_S("WS-Protocols", protocols ? protocols : LT_PROTOCOL);
    entries[0] = proto;
    CHECK(n_extra <= 9);
    for (size_t i = 0; i < n_extra; i++) entries[1 + i] = extra[i];
    size_t size = 0;
    unsigned char *opts = fl_encode(entries, 1 + n_extra, &size);
    char path[128];
    snprintf(path, sizeof path, "/%s/_blipsync", db);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, scheme, strcmp(scheme, "wss") == 0 ? "localhost" : "127.0.0.1", port, path, opts, size);
    free(opts);
    return s;
}

/* The same, waiting for opened (the test fails without it). */
static inline C4Socket *lt_client(const char *scheme, uint16_t port, const char *db, const FlEntry *extra,
                                  size_t n_extra) {
    C4Socket *s = lt_client_nowait(scheme, port, db, extra, n_extra, NULL);
    if (!fake_wait_opened(s, 20000)) {
        FakeSocketState st = fake_socket_state(s);
        fprintf(stderr, "client not opened: HTTP %d, closed {%d, %d} %s\n", st.http_status, st.closed_error.domain,
                st.closed_error.code, st.closed_message);
        exit(1);
    }
    CHECK(fake_socket_headers_contain(s, LT_PROTOCOL));
    return s;
}

/* A client that must fail: waits for its closed and returns the record (contract checked). */
static inline FakeSocketState lt_client_fails(const char *scheme, uint16_t port, const char *db, const FlEntry *extra,
                                              size_t n_extra, const char *protocols) {
    C4Socket *s = lt_client_nowait(scheme, port, db, extra, n_extra, protocols);
    FakeSocketState st = peer_test_finish(s, 20000);
    CHECK_EQ_INT(st.opened_calls, 0);
    return st;
}

#define CHECK_ERROR(st, domain_, code_)                                                          \
    do {                                                                                         \
        if ((st).closed_error.domain != (domain_) || (st).closed_error.code != (code_)) {        \
            fprintf(stderr, "%s:%d: want {%d, %d}, got {%d, %d} \"%s\"\n", __FILE__, __LINE__,   \
                    (domain_), (code_), (st).closed_error.domain, (st).closed_error.code,        \
                    (st).closed_message);                                                        \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* byte i of test message `salt` */
static inline unsigned char lt_pattern(size_t i, size_t salt) { return (unsigned char)((i * 131 + salt * 7) % 251); }

static inline unsigned char *lt_message(size_t n, size_t salt) {
    unsigned char *m = (unsigned char *)malloc(n ? n : 1);
    CHECK(m != NULL);
    for (size_t i = 0; i < n; i++) m[i] = lt_pattern(i, salt);
    return m;
}

/* FNV-1a (32 bits) of a buffer, as tests/peers/ws_client.py reports messages. */
static inline uint32_t lt_fnv1a(const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* Sends `m` from `from` and checks that `to` receives it, byte-exact. */
static inline void lt_transfer(C4Socket *from, C4Socket *to, const unsigned char *m, size_t n) {
    fake_socket_write(from, m, n);
    size_t got_size = 0;
    unsigned char *got = (unsigned char *)fake_socket_next_message(to, 30000, &got_size);
    CHECK(got != NULL);
    CHECK_EQ_INT(got_size, n);
    CHECK(memcmp(got, m, n) == 0);
    free(got);
}

/* ---- external programs (openssl, curl) ---- */

extern char **environ;

/* Runs argv (PATH lookup) with stdin from /dev/null, collecting stdout and stderr (at most
 * out_size-1 bytes, NUL-terminated) until it exits; returns its exit status (-1: not started,
 * 128+N: killed by signal N). */
static inline int lt_run(char *const argv[], char *out, size_t out_size) {
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    size_t n = 0;
    char sink[4096];
    for (;;) {
        ssize_t got = out && n + 1 < out_size ? read(pipefd[0], out + n, out_size - 1 - n)
                                              : read(pipefd[0], sink, sizeof sink);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (out && n + 1 < out_size) n += (size_t)got;
    }
    if (out && out_size) out[n] = 0;
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* A shell command (sh -c CMD) through lt_run. */
static inline int lt_sh(const char *cmd, char *out, size_t out_size) {
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
    return lt_run(argv, out, out_size);
}

/* Certificates made at test time by the openssl CLI, in a new temporary directory:
 *   ca.pem/ca.key         a CA (P-256, CA:TRUE)
 *   server.pem/server.key a server certificate from the CA (CN localhost, SAN DNS:localhost,
 *                         IP:127.0.0.1, serverAuth)
 *   client.pem/client.key a client certificate from the CA (CN test-client, clientAuth)
 *   rogue.pem/rogue.key   a self-signed client certificate (not from the CA)
 *   server.der, server.key.der  the server certificate and key in DER (PKCS#8)
 * Returns 1 and fills dir, or 0 when openssl is missing or failed (output printed). */
static inline int lt_make_certs(char *dir, size_t dir_size) {
    char tmpl[] = "/tmp/lcws-listener-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    snprintf(dir, dir_size, "%s", tmpl);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'\n"
             "ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
             "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj '/CN=litecore-ws listener test CA' "
             "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
             "openssl req -new $ec -keyout server.key -out server.csr -subj /CN=localhost\n"
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n"
             "basicConstraints=CA:FALSE\\n' > server.ext\n"
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
             "-extfile server.ext -out server.pem\n"
             "openssl req -new $ec -keyout client.key -out client.csr -subj /CN=test-client\n"
             "printf 'extendedKeyUsage=clientAuth\\nbasicConstraints=CA:FALSE\\n' > client.ext\n"
             "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
             "-extfile client.ext -out client.pem\n"
             "openssl req -x509 $ec -keyout rogue.key -out rogue.pem -days 30 -subj /CN=test-client "
             "-addext basicConstraints=CA:FALSE -addext extendedKeyUsage=clientAuth\n"
             "openssl x509 -in server.pem -outform DER -out server.der\n"
             "openssl pkey -in server.key -outform DER -out server.key.der\n",
             dir);
    char out[8192];
    int rc = lt_sh(cmd, out, sizeof out);
    if (rc != 0) fprintf(stderr, "making certificates failed (%d):\n%s\n", rc, out);
    return rc == 0;
}

static inline void lt_remove_dir(const char *dir) {
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    lt_sh(cmd, NULL, 0);
}

/* A file of `dir`, read whole (the test fails without it). */
static inline Blob lt_file(const char *dir, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    Blob b;
    b.bytes = fake_read_file(path, &b.size);
    if (!b.bytes) fprintf(stderr, "cannot read %s\n", path);
    CHECK(b.bytes != NULL);
    return b;
}
#endif
