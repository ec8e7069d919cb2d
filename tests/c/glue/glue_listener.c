/*
 * Runtime test of the listener glue of include/litecore_ws_c4.h (lcws_c4listener_*, LiteCore 3.1+
 * headers) against the real litecore-ws library and the mock libLiteCore (mock_litecore_impl.c),
 * which plays LiteCore's side of an incoming connection. A raw TCP client in this program sends
 * the upgrade requests. Written in the common subset of C11 and C++17 (build_and_run.sh builds
 * both, so the _Generic and the overload choice of c4repl_newWithSocket's form both run).
 *
 * 1. start/share/getPort/getURLs/getConnectionStatus/getCertificate/unshare/free, plain ws and
 *    wss with the generated identity, with their error cases; the shares' database references
 *    balanced (c4base_retain/c4base_release).
 * 2. refused: the mock's c4repl_newWithSocket returns NULL. The glue's accept called
 *    c4socket_fromNative with litecore-ws's factory (the glue's thunks, kC4NoFraming, close NULL,
 *    no context), the peer's address and the request path; c4repl_newWithSocket with the shared
 *    database, the passive modes per allowPush/allowPull, the collection specs (the default one,
 *    or those shared with shareCollection), a status callback and the connection as its context,
 *    and `logPrefix` from 3.2; the socket was released (disposed through the factory) and the
 *    client got 503. An unknown database gets 404 without reaching the glue.
 * 3. accepted: the mock makes a replicator whose start calls the factory's open; the client gets
 *    101 with the subprotocol the version-vector database speaks (CBMobile_4), the connection is
 *    counted (busy, from the status callback), the client's Close is answered, and after
 *    `closed` the replicator's Stopped report makes litecore-ws release it: c4repl_free, socket
 *    disposed, no connection left. gotHTTPResponse is never called for the incoming socket.
 *
 * Prints "glue_listener: ok" and exits 0 on success; prints every failed check and exits 1.
 */
#ifndef __cplusplus
#define _POSIX_C_SOURCE 200809L
#endif
#include "litecore_ws_c4.h"
#include "mock_litecore_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef LCWS_C4_HAS_LISTENER
#error "glue_listener needs headers with collections (MOCK_LC_VERSION >= 310)"
#endif

static int g_failures = 0;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "glue_listener: FAILED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            g_failures++;                                                                        \
        }                                                                                        \
    } while (0)

static C4String str(const char* s) { return lcws_c4_str(s); }

static bool slice_is(C4Slice s, const char* text) {
    return s.size == strlen(text) && (s.size == 0 || memcmp(s.buf, text, s.size) == 0);
}

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, LCWS_C4_NULL);
}

/* Reads one int of the mock's shared state under its lock. */
static int read_state(const int* field) {
    int v;
    mock_lc_lock();
    v = *field;
    mock_lc_unlock();
    return v;
}

/* Waits up to 10 s for *field >= want. */
static bool wait_at_least(const int* field, int want) {
    int i;
    for (i = 0; i < 1000; i++) {
        if (read_state(field) >= want) return true;
        sleep_ms(10);
    }
    return false;
}

/* Waits up to 10 s for the listener to report `connections` / `active`. */
static bool wait_status(const LcwsC4Listener* l, unsigned connections, unsigned active) {
    int i;
    for (i = 0; i < 1000; i++) {
        unsigned c = 99, a = 99;
        lcws_c4listener_getConnectionStatus(l, &c, &a);
        if (c == connections && a == active) return true;
        sleep_ms(10);
    }
    return false;
}

static LcwsC4ListenerConfig ws_config(bool tls, bool allow_push, bool allow_pull) {
    LcwsC4ListenerConfig c;
    memset(&c, 0, sizeof c);
    c.port = 0;
    c.networkInterface = str("127.0.0.1");
    c.disableTLS = !tls;
    c.allowPush = allow_push;
    c.allowPull = allow_pull;
    return c;
}

/* ---- a raw TCP client ---- */

static int connect_to(uint16_t port, uint16_t* local_port) {
    struct sockaddr_in a;
    struct timeval tv;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    tv.tv_sec = 10;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)(void*)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    if (local_port && getsockname(fd, (struct sockaddr*)(void*)&a, &len) == 0) *local_port = ntohs(a.sin_port);
    return fd;
}

static bool send_all(int fd, const void* data, size_t size) {
    const char* p = (const char*)data;
    while (size > 0) {
        ssize_t n = send(fd, p, size, 0);
        if (n <= 0) return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

/* Sends the upgrade request for `path` offering `protocols`; reads the response head into `out`.
   Returns the response's status (0 when none came). */
static int upgrade(int fd, uint16_t port, const char* path, const char* protocols, char* out, size_t size) {
    char req[1024];
    size_t got = 0;
    int status = 0;
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: %s\r\n\r\n",
             path, (unsigned)port, protocols);
    out[0] = 0;
    if (!send_all(fd, req, strlen(req))) return 0;
    /* Byte by byte, so nothing after the head (a WebSocket frame) is consumed. */
    while (got + 1 < size) {
        ssize_t n = recv(fd, out + got, 1, 0);
        if (n <= 0) break;
        got++;
        out[got] = 0;
        if (got >= 4 && memcmp(out + got - 4, "\r\n\r\n", 4) == 0) break;
    }
    if (sscanf(out, "HTTP/1.1 %d", &status) != 1) status = 0;
    return status;
}

/* A whole request on a new connection; returns the status. */
static int request(uint16_t port, const char* path, const char* protocols, uint16_t* local_port) {
    char head[4096];
    int status;
    int fd = connect_to(port, local_port);
    if (fd < 0) return 0;
    status = upgrade(fd, port, path, protocols, head, sizeof head);
    close(fd);
    return status;
}

/* ---- 1. the API ---- */

static void test_api(void) {
    MockLcState* st = mock_lc_state();
    C4Database* db = mock_lc_database(0);
    C4Database* other = mock_lc_database(0);
    LcwsC4ListenerConfig config = ws_config(false, true, true);
    C4Error err;
    LcwsC4Listener* l;
    FLMutableArray urls;
    unsigned connections = 99, active = 99;
    uint16_t port;
    char want[128];
    int retains = read_state(&st->base_retains), releases = read_state(&st->base_releases);

    memset(&err, 0, sizeof err);
    CHECK(lcws_c4listener_start(LCWS_C4_NULL, &err) == LCWS_C4_NULL);
    CHECK(err.domain == LiteCoreDomain && err.code == kC4ErrorInvalidParameter);
    CHECK(lcws_c4listener_getPort(LCWS_C4_NULL) == 0);
    CHECK(lcws_c4listener_getCertificate(LCWS_C4_NULL).size == 0);
    lcws_c4listener_free(LCWS_C4_NULL);

    /* An interface this host does not have: {Network, 27 UnknownInterface}. */
    config.networkInterface = str("lcws-no-such-if0");
    memset(&err, 0, sizeof err);
    CHECK(lcws_c4listener_start(&config, &err) == LCWS_C4_NULL);
    CHECK(err.domain == NetworkDomain && err.code == 27);
    config.networkInterface = str("127.0.0.1");

    memset(&err, 0, sizeof err);
    l = lcws_c4listener_start(&config, &err);
    CHECK(l != LCWS_C4_NULL);
    if (!l) return;
    port = lcws_c4listener_getPort(l);
    CHECK(port != 0);
    CHECK(lcws_c4listener_getCertificate(l).size == 0); /* plain ws */

    CHECK(lcws_c4listener_shareDB(l, str("db"), db, &err));
    CHECK(read_state(&st->base_retains) == retains + 1); /* the share holds the database */

    urls = lcws_c4listener_getURLs(l, db, &err);
    CHECK(urls != LCWS_C4_NULL);
    snprintf(want, sizeof want, "ws://127.0.0.1:%u/db", (unsigned)port);
    CHECK(FLArray_Count(urls) == 1);
    CHECK(slice_is(FLValue_AsString(FLArray_Get(urls, 0)), want));
    FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));

    /* No database: the listener's own URLs, without a path. */
    urls = lcws_c4listener_getURLs(l, LCWS_C4_NULL, &err);
    snprintf(want, sizeof want, "ws://127.0.0.1:%u", (unsigned)port);
    CHECK(urls != LCWS_C4_NULL && FLArray_Count(urls) == 1);
    if (urls && FLArray_Count(urls) == 1) {
        C4Slice u = FLValue_AsString(FLArray_Get(urls, 0));
        CHECK(u.size >= strlen(want) && memcmp(u.buf, want, strlen(want)) == 0);
        CHECK(u.size <= strlen(want) + 1); /* at most a trailing '/' */
    }
    FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));

    /* A database that is not shared: NULL, {LiteCore, NotFound}, no array left behind. */
    memset(&err, 0, sizeof err);
    CHECK(lcws_c4listener_getURLs(l, other, &err) == LCWS_C4_NULL);
    CHECK(err.domain == LiteCoreDomain && err.code == kC4ErrorNotFound);
    CHECK(read_state(&st->live_arrays) == 0);

    lcws_c4listener_getConnectionStatus(l, &connections, &active);
    CHECK(connections == 0 && active == 0);
    lcws_c4listener_getConnectionStatus(l, LCWS_C4_NULL, LCWS_C4_NULL);

    /* shareCollection needs its database shared under that name first. */
    memset(&err, 0, sizeof err);
    CHECK(!lcws_c4listener_shareCollection(l, str("db"), mock_lc_collection(other, "s", "c"), &err));
    CHECK(err.domain == LiteCoreDomain && err.code == kC4ErrorInvalidParameter);

    CHECK(lcws_c4listener_unshareDB(l, db, &err));
    CHECK(read_state(&st->base_releases) == releases + 1);
    memset(&err, 0, sizeof err);
    CHECK(!lcws_c4listener_unshareDB(l, db, &err));
    CHECK(err.domain == LiteCoreDomain && err.code == kC4ErrorNotFound);
    CHECK(lcws_c4listener_getURLs(l, db, &err) == LCWS_C4_NULL);

    /* Shared again, then freed with the listener: the reference goes. */
    CHECK(lcws_c4listener_shareDB(l, str("db"), db, &err));
    lcws_c4listener_free(l);
    CHECK(read_state(&st->base_retains) == retains + 2);
    CHECK(read_state(&st->base_releases) == releases + 2);

    /* wss with the generated identity: a DER certificate to pin, wss URLs. */
    config = ws_config(true, true, true);
    l = lcws_c4listener_start(&config, &err);
    CHECK(l != LCWS_C4_NULL);
    if (!l) return;
    {
        C4Slice cert = lcws_c4listener_getCertificate(l);
        CHECK(cert.size > 100 && ((const unsigned char*)cert.buf)[0] == 0x30); /* DER SEQUENCE */
    }
    CHECK(lcws_c4listener_shareDB(l, str("db"), db, &err));
    urls = lcws_c4listener_getURLs(l, db, &err);
    snprintf(want, sizeof want, "wss://127.0.0.1:%u/db", (unsigned)lcws_c4listener_getPort(l));
    CHECK(urls != LCWS_C4_NULL && FLArray_Count(urls) == 1 &&
          slice_is(FLValue_AsString(FLArray_Get(urls, 0)), want));
    FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));
    lcws_c4listener_free(l);
    CHECK(read_state(&st->base_retains) == read_state(&st->base_releases));
    CHECK(read_state(&st->live_arrays) == 0);
}

/* ---- 2. an incoming connection the mock refuses to replicate ---- */

static void check_factory_is_litecore_ws(const C4SocketFactory* f) {
    CHECK(f->framing == kC4NoFraming);
    CHECK(f->context == LCWS_C4_NULL);
    CHECK(f->open == &lcws_c4_open);
    CHECK(f->write == &lcws_c4_write);
    CHECK(f->completedReceive == &lcws_socket_completed_receive);
    CHECK(f->close == LCWS_C4_NULL);
    CHECK(f->requestClose == &lcws_c4_request_close);
    CHECK(f->dispose == &lcws_socket_dispose);
}

static void test_refused(void) {
    MockLcState* st = mock_lc_state();
    C4Database* db = mock_lc_database(0);
    LcwsC4ListenerConfig config = ws_config(false, true, false); /* clients may push, not pull */
    C4Error err;
    LcwsC4Listener* l;
    uint16_t port, local_port = 0;
    int from_native = read_state(&st->from_native_calls);
    int disposed = read_state(&st->incoming_disposed);

    mock_lc_lock();
    st->repl_mode = MOCK_REPL_REFUSE;
    mock_lc_unlock();
    memset(&err, 0, sizeof err);
    l = lcws_c4listener_start(&config, &err);
    CHECK(l != LCWS_C4_NULL);
    if (!l) return;
    port = lcws_c4listener_getPort(l);
    CHECK(lcws_c4listener_shareDB(l, str("db"), db, &err));

    /* Unknown database: 404 from litecore-ws, LiteCore never involved. */
    CHECK(request(port, "/nosuchdb/_blipsync", "BLIP_3+CBMobile_3", LCWS_C4_NULL) == 404);
    CHECK(read_state(&st->from_native_calls) == from_native);

    CHECK(request(port, "/db/_blipsync", "BLIP_3+CBMobile_3", &local_port) == 503);
    mock_lc_lock();
    CHECK(st->from_native_calls == from_native + 1);
    check_factory_is_litecore_ws(&st->from_native_factory);
    CHECK(st->from_native_handle != LCWS_C4_NULL);
    CHECK(strcmp(st->from_native_scheme, "ws") == 0);
    CHECK(strcmp(st->from_native_host, "127.0.0.1") == 0);
    CHECK(st->from_native_port == local_port);
    CHECK(strcmp(st->from_native_path, "/db/_blipsync") == 0);
    CHECK(st->nws_db == db);
    CHECK(st->nws_socket == st->last_socket);
    CHECK(st->nws_collection_count == 1);
    CHECK(strcmp(st->nws_collections[0].scope, "_default") == 0);
    CHECK(strcmp(st->nws_collections[0].name, "_default") == 0);
    CHECK(st->nws_collections[0].push == kC4Disabled); /* the client may not pull */
    CHECK(st->nws_collections[0].pull == kC4Passive);  /* the client may push */
    CHECK(st->nws_has_status_callback);
    CHECK(st->nws_context != LCWS_C4_NULL); /* the LcwsConnection */
#if MOCK_LC_VERSION >= 320
    CHECK(st->nws_has_log_prefix && strcmp(st->nws_log_prefix, "lcws-listener") == 0);
#else
    CHECK(!st->nws_has_log_prefix);
#endif
    CHECK(st->incoming_disposed == disposed + 1); /* released by the glue: disposed */
    CHECK(st->incoming_refcount == 0);
    CHECK(st->incoming_http_responses == 0);
    mock_lc_unlock();
    CHECK(wait_status(l, 0, 0));

    /* The other way round, with two shared collections. */
    {
        LcwsC4ListenerConfig c2 = ws_config(false, false, true); /* clients may pull, not push */
        LcwsC4Listener* l2 = lcws_c4listener_start(&c2, &err);
        CHECK(l2 != LCWS_C4_NULL);
        if (l2) {
            CHECK(lcws_c4listener_shareDB(l2, str("two"), db, &err));
            CHECK(lcws_c4listener_shareCollection(l2, str("two"), mock_lc_collection(db, "s1", "c1"), &err));
            CHECK(lcws_c4listener_shareCollection(l2, str("two"), mock_lc_collection(db, "s2", "c2"), &err));
            CHECK(request(lcws_c4listener_getPort(l2), "/two/_blipsync", "BLIP_3+CBMobile_3", LCWS_C4_NULL) == 503);
            mock_lc_lock();
            CHECK(st->from_native_calls == from_native + 2);
            CHECK(st->nws_collection_count == 2);
            CHECK(strcmp(st->nws_collections[0].scope, "s1") == 0 && strcmp(st->nws_collections[0].name, "c1") == 0);
            CHECK(strcmp(st->nws_collections[1].scope, "s2") == 0 && strcmp(st->nws_collections[1].name, "c2") == 0);
            CHECK(st->nws_collections[0].push == kC4Passive && st->nws_collections[0].pull == kC4Disabled);
            CHECK(st->nws_collections[1].push == kC4Passive && st->nws_collections[1].pull == kC4Disabled);
            CHECK(st->incoming_disposed == disposed + 2);
            mock_lc_unlock();
            lcws_c4listener_free(l2);
        }
    }
    lcws_c4listener_free(l);
    CHECK(read_state(&st->repl_starts) == 0);
}

/* ---- 3. an incoming connection served by a (mock) passive replicator ---- */

static void test_accepted(void) {
    MockLcState* st = mock_lc_state();
    C4Database* db = mock_lc_database(0x08); /* kC4DB_VersionVectors: speaks CBMobile_4 */
    LcwsC4ListenerConfig config = ws_config(false, true, true);
    C4Error err;
    LcwsC4Listener* l;
    char head[4096];
    unsigned char frame[8];
    /* A masked Close(1000) frame: FIN+Close, mask bit + length 2, mask 1 2 3 4, 0x03E8 masked. */
    const unsigned char close_frame[] = {0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2};
    uint16_t port;
    int fd, status;
    int disposed = read_state(&st->incoming_disposed);

    mock_lc_lock();
    st->repl_mode = MOCK_REPL_ACCEPT;
    mock_lc_unlock();
    memset(&err, 0, sizeof err);
    l = lcws_c4listener_start(&config, &err);
    CHECK(l != LCWS_C4_NULL);
    if (!l) return;
    port = lcws_c4listener_getPort(l);
    CHECK(lcws_c4listener_shareDB(l, str("vv"), db, &err));

    fd = connect_to(port, LCWS_C4_NULL);
    CHECK(fd >= 0);
    if (fd < 0) {
        lcws_c4listener_free(l);
        return;
    }
    status = upgrade(fd, port, "/vv/_blipsync", "BLIP_3+CBMobile_4,BLIP_3+CBMobile_3", head, sizeof head);
    CHECK(status == 101);
    CHECK(strstr(head, "Sec-WebSocket-Protocol: BLIP_3+CBMobile_4\r\n") != LCWS_C4_NULL);
    if (status != 101) fprintf(stderr, "glue_listener: response was:\n%s\n", head);

    CHECK(read_state(&st->repl_starts) == 1);
    CHECK(wait_at_least(&st->incoming_opens, 1));
    CHECK(wait_at_least(&st->incoming_opened, 1));
    CHECK(wait_at_least(&st->status_reports, 1)); /* busy */
    CHECK(wait_status(l, 1, 1));
    mock_lc_lock();
    CHECK(st->nws_collections[0].push == kC4Passive && st->nws_collections[0].pull == kC4Passive);
    mock_lc_unlock();

    /* The client closes: LiteCore (the mock) answers, litecore-ws sends its Close and ends. */
    CHECK(send_all(fd, close_frame, sizeof close_frame));
    CHECK(recv(fd, frame, 2, MSG_WAITALL) == 2 && frame[0] == 0x88);
    CHECK(wait_at_least(&st->incoming_closed, 1));
    CHECK(wait_at_least(&st->repl_frees, 1)); /* Stopped reported -> released -> c4repl_free */
    CHECK(wait_at_least(&st->incoming_disposed, disposed + 1));
    CHECK(wait_status(l, 0, 0));
    close(fd);
    mock_lc_lock();
    CHECK(st->incoming_close_requested == 1);
    CHECK(st->incoming_http_responses == 0);
    CHECK(st->last_status_level == kC4Stopped);
    mock_lc_unlock();
    lcws_c4listener_free(l);
    CHECK(read_state(&st->base_retains) == read_state(&st->base_releases));
}

int main(void) {
    test_api();
    test_refused();
    test_accepted();
    CHECK(lcws_shutdown() == LCWS_STATUS_OK);
    if (g_failures) {
        fprintf(stderr, "glue_listener: %d check(s) failed (MOCK_LC_VERSION %d)\n", g_failures, (int)MOCK_LC_VERSION);
        return 1;
    }
    printf("glue_listener: ok\n");
    return 0;
}
