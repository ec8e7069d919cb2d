/*
 * Runtime test of include/litecore_ws_c4.h against the real litecore-ws library and a mock
 * LiteCore (mock_litecore_impl.c, a shared library). Opens no socket.
 *
 * Written in the common subset of C11 and C++17: build_and_run.sh compiles it both ways, so the
 * C (_Generic) and C++ (overload) selection of c4db_setCookie's form are both exercised.
 *
 * Checks: registration happens exactly once (also when a second translation unit calls
 * lcws_register_with_litecore), with LiteCore's rules for kC4NoFraming satisfied; the host table
 * was accepted by lcws_set_host (the same table again → OK; a different one → ALREADY_SET);
 * lcws_c4_factory(db) carries db as context; every host-table entry reaches the right LiteCore
 * function with its arguments converted field by field.
 *
 * Prints "glue_register: ok" and exits 0 on success; prints every failed check and exits 1.
 */
#include "litecore_ws_c4.h"
#include "mock_litecore_impl.h"
#include "glue_register_tu2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "glue_register: FAILED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            g_failures++;                                                                 \
        }                                                                                 \
    } while (0)

static LcwsSlice lslice(const char* s) {
    LcwsSlice r;
    r.buf = s;
    r.size = strlen(s);
    return r;
}

static bool same_slice(C4Slice a, LcwsSlice b) { return a.buf == b.buf && a.size == b.size; }

/* Whether the host table should have got_peer_certificate. */
#if defined(LCWS_C4_HAS_PEER_CERTIFICATE)
#define EXPECT_PEER_CERT (LCWS_C4_HAS_PEER_CERTIFICATE == 1)
#else
#define EXPECT_PEER_CERT (MOCK_LC_VERSION >= 330) /* found by dlsym in the mock library */
#endif

static void check_factory(const C4SocketFactory* f, void* context) {
    CHECK(f->framing == kC4NoFraming);
    CHECK(f->context == context);
    CHECK(f->open != NULL);
    CHECK(f->write != NULL);
    CHECK(f->completedReceive != NULL);
    CHECK(f->close == NULL);
    CHECK(f->requestClose != NULL);
    CHECK(f->dispose != NULL);
#if MOCK_LC_VERSION >= 340
    CHECK(f->attached == NULL);
#endif
}

static void check_host_entries(const LcwsHostTable* t) {
    MockLcState* st = mock_lc_state();
    static void* fake_socket_storage[8];
    C4Socket* sock = (C4Socket*)(void*)fake_socket_storage;
    C4Database* db = (C4Database*)(void*)&fake_socket_storage[4];
    LcwsSlice hdr = lslice("headers-fleece");
    LcwsSlice msg = lslice("bye");
    LcwsError err;
    LcwsError out;
    C4Error closed;
    unsigned char zero_padding[3] = {0, 0, 0};
    int marker = 0;
    (void)db;

    CHECK(t->struct_size == sizeof(LcwsHostTable));

    t->got_http_response(sock, 101, hdr);
    CHECK(st->http_calls == 1 && st->http_status == 101 && same_slice(st->http_headers, hdr));

    t->opened(sock);
    CHECK(st->opened_calls == 1);

    memset(&err, 0xAB, sizeof err); /* garbage in the padding must not reach LiteCore */
    err.domain = 6;
    err.code = 1001;
    err.internal_info = 7;
    t->closed(sock, err);
    memcpy(&closed, st->closed_error_bytes, sizeof closed);
    CHECK(st->closed_calls == 1);
    CHECK((int)closed.domain == 6 && closed.code == 1001 && closed.internal_info == 7);
#ifndef LCWS_LITECORE_28
    CHECK(memcmp(st->closed_error_bytes + 1, zero_padding, 3) == 0);
#endif
    (void)zero_padding;

    t->close_requested(sock, 1000, msg);
    CHECK(st->close_requested_calls == 1 && st->close_requested_status == 1000 &&
          same_slice(st->close_requested_message, msg));

    t->completed_write(sock, 123);
    CHECK(st->completed_write_calls == 1 && st->completed_write_bytes == 123);

    t->received(sock, hdr);
    CHECK(st->received_calls == 1 && same_slice(st->received, hdr));

    t->set_native_handle(sock, &marker);
    CHECK(t->get_native_handle(sock) == (void*)&marker);

    CHECK(t->retain(sock) == sock && st->retains == 1);
    t->release(sock);
    CHECK(st->releases == 1);

    t->release_buffer(hdr.buf);
    CHECK(st->buf_releases == 1 && st->last_released_buf == hdr.buf);

    if (EXPECT_PEER_CERT) {
        CHECK(t->got_peer_certificate != NULL);
        if (t->got_peer_certificate) {
            CHECK(t->got_peer_certificate(sock, hdr, msg));
            CHECK(st->peer_cert_calls == 1 && same_slice(st->peer_cert, hdr) && same_slice(st->peer_host, msg));
        }
    } else {
        CHECK(t->got_peer_certificate == NULL);
    }

    CHECK(t->error_make != NULL);
    if (t->error_make) {
        out = t->error_make(5, 3, msg);
        CHECK(st->error_make_calls == 1 && st->made_domain == 5 && st->made_code == 3 &&
              same_slice(st->made_message, msg));
        CHECK(out.domain == 5 && out.code == 3 && out.internal_info == MOCK_LC_INTERNAL_INFO);
        CHECK(out.padding[0] == 0 && out.padding[1] == 0 && out.padding[2] == 0);
    }

#if LCWS_C4_COOKIES
    CHECK(t->get_cookies != NULL);
    if (t->get_cookies) {
        LcwsAddress a;
        LcwsSliceResult cookies;
        memset(&a, 0, sizeof a);
        a.scheme = lslice("wss");
        a.hostname = lslice("sg.example.com");
        a.port = 4984;
        a.path = lslice("/db/_blipsync");
        memset(&out, 0x5A, sizeof out);
        cookies = t->get_cookies(db, a, &out);
        CHECK(st->get_cookies_calls == 1 && st->cookie_db == db);
        CHECK(same_slice(st->cookie_addr.scheme, a.scheme) && same_slice(st->cookie_addr.hostname, a.hostname) &&
              st->cookie_addr.port == 4984 && same_slice(st->cookie_addr.path, a.path));
        CHECK(cookies.buf == (const void*)mock_lc_cookie_buffer() && cookies.size == strlen("name=value"));
        CHECK(out.code == 0);
        /* NULL database (the global factory's context): no call, no cookies. */
        cookies = t->get_cookies(NULL, a, &out);
        CHECK(cookies.buf == NULL && st->get_cookies_calls == 1);
    }
#if !defined(LCWS_C4_SET_COOKIE_ARITY) || LCWS_C4_SET_COOKIE_ARITY != 0
    CHECK(t->set_cookie != NULL);
    if (t->set_cookie) {
        LcwsSlice h = lslice("SyncGatewaySession=abc; Path=/db");
        LcwsSlice host = lslice("sg.example.com");
        LcwsSlice path = lslice("/db/_blipsync");
        CHECK(t->set_cookie(db, h, host, path, true, &out));
        CHECK(st->set_cookie_calls == 1);
        CHECK(same_slice(st->set_cookie_header, h) && same_slice(st->set_cookie_host, host) &&
              same_slice(st->set_cookie_path, path));
#if MOCK_LC_VERSION >= 310
        CHECK(st->set_cookie_arity == 6 && st->set_cookie_accept_parent_domain);
#else
        CHECK(st->set_cookie_arity == 5);
#endif
        CHECK(!t->set_cookie(NULL, h, host, path, true, &out) && st->set_cookie_calls == 1);
    }
#else
    CHECK(t->set_cookie == NULL);
#endif
#else
    CHECK(t->get_cookies == NULL && t->set_cookie == NULL);
#endif

#if LCWS_C4_ROUTE_LOG
    CHECK(t->log != NULL);
    if (t->log) {
        int before = st->log_calls;
        t->log(t->log_context, 3, "hello 100% from lcws");
        CHECK(st->log_calls == before + 1);
        CHECK(st->log_domain == kC4WebSocketLog && st->log_level == 3);
        CHECK(strcmp(st->log_line, "hello 100% from lcws") == 0);
    }
#else
    CHECK(t->log == NULL);
#endif
}

int main(void) {
    MockLcState* st = mock_lc_state();
    LcwsHostTable table;
    LcwsHostTable other;
    C4SocketFactory f;
    static int fake_db_storage;
    C4Database* db = (C4Database*)(void*)&fake_db_storage;

    CHECK(st->registrations == 0);

    /* Register: once. */
    CHECK(lcws_register_with_litecore());
    CHECK(st->registrations == 1);
    check_factory(&st->factory, NULL);

    /* Again, and from another translation unit: still once (the mock aborts on a second one). */
    CHECK(lcws_register_with_litecore());
    CHECK(tu2_register_with_litecore());
    CHECK(st->registrations == 1);

    /* The installed host table is this translation unit's: the same table again is accepted... */
    table = lcws_c4_host_table();
    CHECK(lcws_set_host(&table) == LCWS_STATUS_OK);
    /* ...and a different one is refused. */
    other = table;
    other.log_context = (void*)&other;
    CHECK(lcws_set_host(&other) == LCWS_STATUS_ALREADY_SET);
    /* lcws_c4_install_host treats an equivalent table installed elsewhere as success. */
    CHECK(lcws_c4_install_host());

    /* Per-replicator factories carry the database. */
    f = lcws_c4_factory(db);
    check_factory(&f, (void*)db);
    f = tu2_c4_factory(db);
    check_factory(&f, (void*)db);
    f = lcws_c4_socket_factory(NULL);
    check_factory(&f, NULL);
    CHECK(f.completedReceive == &lcws_socket_completed_receive);
    CHECK(f.dispose == &lcws_socket_dispose);
    CHECK(st->registrations == 1);

    /* Every host entry reaches LiteCore with converted arguments. */
    check_host_entries(&table);

    if (g_failures) {
        fprintf(stderr, "glue_register: %d check(s) failed (MOCK_LC_VERSION %d)\n", g_failures, (int)MOCK_LC_VERSION);
        return 1;
    }
    printf("glue_register: ok\n");
    return 0;
}
