/*
 * include/litecore_ws_c4.h against a real LiteCore: built by run.sh as C11 and as C++17, at -O0
 * and -O2, with -Wall -Wextra -Werror -pedantic, linked with libLiteCore.so and litecore-ws.
 * Opens no socket.
 *
 * Checks, with LiteCore's own functions doing the work:
 *   - lcws_register_with_litecore() registers the factory with c4socket_registerFactory, whose
 *     checks (kC4NoFraming: close NULL, requestClose set, ...) would terminate the process; a
 *     second call returns true without registering again (LiteCore terminates on a second
 *     registration);
 *   - the host table: c4socket_gotPeerCertificate found by dlsym (LiteCore 4.1 exports it);
 *     error_make records the message in LiteCore (c4error_getMessage returns it);
 *     set_cookie / get_cookies store and read a cookie in a real database (c4db_setCookie's
 *     6-parameter form, chosen by _Generic in C and by overloads in C++);
 *   - lcws_c4_factory(db) carries the database as context;
 *   - the listener glue (compiled because 4.1's headers have collections; c4repl_newWithSocket's
 *     5-parameter form chosen by _Generic / overloads): every lcws_c4listener_* function called
 *     with a real database and Fleece: start (ws, then wss with the generated identity), shareDB,
 *     shareCollection (the default collection), getPort, getURLs (a real FLMutableArray, read back
 *     with FLArray_Get), getConnectionStatus, getCertificate, unshareDB, free. No client connects
 *     here (the litecore_real_push_pull_* tests replicate through it).
 *
 * Prints "glue_real: ok" and exits 0 on success; prints each failed check and exits 1.
 */
#ifndef __cplusplus
#define _POSIX_C_SOURCE 200809L
#endif
#include "litecore_ws_c4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef __cplusplus
/* C99 inline functions of LiteCore 4.x's headers that this file calls: their external definitions
   (examples-c/common/litecore_inline.c explains why). C++ needs nothing. */
extern inline void FLSliceResult_Release(FLSliceResult s);
extern inline void c4db_release(C4Database *db);
#endif

static int g_failures = 0;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "glue_real: FAILED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            g_failures++;                                                                    \
        }                                                                                    \
    } while (0)

static C4Slice c4slice(const char *s) {
    C4Slice r;
    r.buf = s;
    r.size = strlen(s);
    return r;
}

static LcwsSlice lslice(const char *s) {
    LcwsSlice r;
    r.buf = s;
    r.size = strlen(s);
    return r;
}

static bool slice_is(LcwsSliceResult s, const char *text) {
    return s.buf != LCWS_C4_NULL && s.size == strlen(text) && memcmp(s.buf, text, s.size) == 0;
}

static void check_cookies(const LcwsHostTable *t, char *dir) {
    C4DatabaseConfig2 config;
    C4Error err;
    memset(&config, 0, sizeof config);
    memset(&err, 0, sizeof err);
    config.parentDirectory = c4slice(dir);
    config.flags = kC4DB_Create;
    C4Database *db = c4db_openNamed(c4slice("glue"), &config, &err);
    CHECK(db != LCWS_C4_NULL);
    if (!db) {
        fprintf(stderr, "glue_real: c4db_openNamed failed: {%d, %d}\n", (int)err.domain, (int)err.code);
        return;
    }

    C4SocketFactory f = lcws_c4_factory(db);
    CHECK(f.context == db);
    CHECK(f.framing == kC4NoFraming);

    /* set_cookie → c4db_setCookie(db, header, host, path, acceptParentDomain, &err). */
    LcwsError lerr;
    memset(&lerr, 0, sizeof lerr);
    CHECK(t->set_cookie != LCWS_C4_NULL);
    CHECK(t->get_cookies != LCWS_C4_NULL);
    if (t->set_cookie && t->get_cookies) {
        bool stored = t->set_cookie(db, lslice("lcws=abc123; Path=/db"), lslice("sg.example.com"),
                                    lslice("/db/_blipsync"), false, &lerr);
        CHECK(stored);
        CHECK(lerr.code == 0);

        /* get_cookies → c4db_getCookies(db, address, &err): the cookie comes back for that URL. */
        LcwsAddress a;
        memset(&a, 0, sizeof a);
        a.scheme = lslice("wss");
        a.hostname = lslice("sg.example.com");
        a.port = 4984;
        a.path = lslice("/db/_blipsync");
        LcwsSliceResult cookies = t->get_cookies(db, a, &lerr);
        CHECK(slice_is(cookies, "lcws=abc123"));
        FLSliceResult_Release(lcws_c4_slice_result_to_c4(cookies));

        /* Not for another host. */
        a.hostname = lslice("other.example.com");
        cookies = t->get_cookies(db, a, &lerr);
        CHECK(cookies.buf == LCWS_C4_NULL || cookies.size == 0);
        FLSliceResult_Release(lcws_c4_slice_result_to_c4(cookies));
    }

    memset(&err, 0, sizeof err);
    CHECK(c4db_delete(db, &err)); /* removes glue.cblite2 */
    c4db_release(db);
}

#ifndef LCWS_C4_HAS_LISTENER
#error "LiteCore 4.1's headers have collections: the listener glue should be compiled"
#endif

static bool url_is(FLMutableArray urls, uint32_t i, const char *want) {
    FLString u = FLValue_AsString(FLArray_Get(LCWS_C4_PTR_CAST(FLArray, urls), i));
    return u.size == strlen(want) && memcmp(u.buf, want, u.size) == 0;
}

static void check_listener(char *dir) {
    C4DatabaseConfig2 config;
    C4Error err;
    memset(&config, 0, sizeof config);
    memset(&err, 0, sizeof err);
    config.parentDirectory = c4slice(dir);
    config.flags = kC4DB_Create;
    C4Database *db = c4db_openNamed(c4slice("served"), &config, &err);
    CHECK(db != LCWS_C4_NULL);
    if (!db) return;

    for (int tls = 0; tls <= 1; tls++) {
        LcwsC4ListenerConfig lc;
        memset(&lc, 0, sizeof lc);
        lc.networkInterface = c4slice("127.0.0.1");
        lc.disableTLS = !tls;
        lc.allowPush = true;
        lc.allowPull = true;
        LcwsC4Listener *l = lcws_c4listener_start(&lc, &err);
        CHECK(l != LCWS_C4_NULL);
        if (!l) continue;
        uint16_t port = lcws_c4listener_getPort(l);
        CHECK(port != 0);
        C4Slice cert = lcws_c4listener_getCertificate(l);
        CHECK(tls ? cert.size > 100 : cert.size == 0);

        CHECK(lcws_c4listener_shareDB(l, c4slice("served"), db, &err));
        C4Collection *coll = c4db_getDefaultCollection(db, &err);
        CHECK(coll != LCWS_C4_NULL);
        if (coll) CHECK(lcws_c4listener_shareCollection(l, c4slice("served"), coll, &err));

        char want[128];
        snprintf(want, sizeof want, "%s://127.0.0.1:%u/served", tls ? "wss" : "ws", (unsigned)port);
        FLMutableArray urls = lcws_c4listener_getURLs(l, db, &err);
        CHECK(urls != LCWS_C4_NULL);
        if (urls) {
            CHECK(FLArray_Count(LCWS_C4_PTR_CAST(FLArray, urls)) == 1);
            CHECK(url_is(urls, 0, want));
            FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));
        }

        unsigned connections = 99, active = 99;
        lcws_c4listener_getConnectionStatus(l, &connections, &active);
        CHECK(connections == 0 && active == 0);

        CHECK(lcws_c4listener_unshareDB(l, db, &err));
        memset(&err, 0, sizeof err);
        CHECK(lcws_c4listener_getURLs(l, db, &err) == LCWS_C4_NULL);
        CHECK(err.domain == LiteCoreDomain && err.code == kC4ErrorNotFound);
        CHECK(lcws_c4listener_shareDB(l, c4slice("served"), db, &err)); /* released by free */
        lcws_c4listener_free(l);
    }

    memset(&err, 0, sizeof err);
    CHECK(c4db_delete(db, &err)); /* the listener released its references */
    c4db_release(db);
}

int main(void) {
    /* 1. Registration, twice: LiteCore terminates the process on a second registration or on a
          factory it does not accept. */
    CHECK(lcws_register_with_litecore());
    CHECK(lcws_register_with_litecore());
    CHECK(!lcws_claim_global_registration()); /* already claimed by the first call */

    /* 2. The host table's optional entries, against LiteCore's real functions. */
    LcwsHostTable t = lcws_c4_host_table();
    CHECK(t.got_peer_certificate != LCWS_C4_NULL);
    CHECK(t.error_make != LCWS_C4_NULL);
    if (t.error_make) {
        LcwsError e = t.error_make(6 /* WebSocket */, 401, lslice("Invalid login"));
        CHECK(e.domain == 6 && e.code == 401);
        C4StringResult msg = c4error_getMessage(lcws_c4_error_to_c4(e));
        CHECK(msg.size == 13 && memcmp(msg.buf, "Invalid login", 13) == 0);
        FLSliceResult_Release(msg);
    }

    /* 3. A per-database factory and the cookie entries, with a real database. */
    char dir[] = "/tmp/lcws-glue-real-XXXXXX";
    CHECK(mkdtemp(dir) != LCWS_C4_NULL);
    check_cookies(&t, dir);
    check_listener(dir);
    CHECK(rmdir(dir) == 0);

    CHECK(lcws_shutdown() == LCWS_STATUS_OK);
    if (g_failures) {
        fprintf(stderr, "glue_real: %d check(s) failed\n", g_failures);
        return 1;
    }
    puts("glue_real: ok");
    return 0;
}
