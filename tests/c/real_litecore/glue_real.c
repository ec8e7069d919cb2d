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
 *   - lcws_c4_factory(db) carries the database as context.
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
    CHECK(rmdir(dir) == 0);

    CHECK(lcws_shutdown() == LCWS_STATUS_OK);
    if (g_failures) {
        fprintf(stderr, "glue_real: %d check(s) failed\n", g_failures);
        return 1;
    }
    puts("glue_real: ok");
    return 0;
}
