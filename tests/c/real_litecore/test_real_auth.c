/*
 * Real LiteCore on both ends, a listener that wants Basic credentials (user "alice"): a wrong
 * password ends the client with the permanent {WebSocket, 401}, an unknown database with
 * {WebSocket, 404}; the right password replicates, preemptively and after a challenge
 * (challengeAuth). No connection of a refused client reaches the served database's LiteCore.
 *
 * Usage: test_real_auth ws|wss
 */
#include "real_util.h"

static C4Error replicate(C4Database *db, const char *url, const char *password, bool challenge, const void *cert,
                         size_t cert_size) {
    RealRepl r;
    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.push = kC4OneShot;
    o.pull = kC4Disabled;
    o.max_retries = 0;
    o.user = password ? "alice" : NULL;
    o.password = password;
    o.challenge_auth = challenge;
    o.pinned_cert = cert;
    o.pinned_cert_size = cert_size;
    C4Error none;
    memset(&none, 0, sizeof none);
    if (!real_repl_start(&r, db, url, &o)) return none;
    REAL_CHECK(real_repl_wait_stopped(&r, 60), "did not stop");
    C4Error e = r.error;
    c4repl_free(r.repl);
    return e;
}

int main(int argc, char **argv) {
    bool tls = argc > 1 && strcmp(argv[1], "wss") == 0;
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    C4Database *client = real_open_db("client");
    LcwsC4Listener *listener = real_listener_start(served, "served", tls, "s3cret");
    char url[256], unknown[256];
    real_listener_url(listener, "served", tls, url, sizeof url);
    real_listener_url(listener, "nosuchdb", tls, unknown, sizeof unknown);
    C4Slice cert = lcws_c4listener_getCertificate(listener);
    real_write_docs(client, "c", 40, 10);

    C4Error e = replicate(client, url, "wrong", false, cert.buf, cert.size);
    REAL_CHECK(e.domain == WebSocketDomain && e.code == 401, "wrong password: %s", real_error_text(e));
    REAL_CHECK(!c4error_mayBeTransient(e), "401 must be permanent");
    e = replicate(client, url, NULL, false, cert.buf, cert.size);
    REAL_CHECK(e.domain == WebSocketDomain && e.code == 401, "no credentials: %s", real_error_text(e));
    e = replicate(client, unknown, "s3cret", false, cert.buf, cert.size);
    REAL_CHECK(e.domain == WebSocketDomain && e.code == 404, "unknown database: %s", real_error_text(e));
    unsigned connections = 9, active = 9;
    lcws_c4listener_getConnectionStatus(listener, &connections, &active);
    REAL_CHECK(connections == 0, "a refused client reached LiteCore (%u connections)", connections);
    REAL_CHECK(real_doc_count(served) == 0, "documents arrived without credentials");

    e = replicate(client, url, "s3cret", true, cert.buf, cert.size);
    REAL_CHECK(e.code == 0, "challengeAuth: %s", real_error_text(e));
    REAL_CHECK(real_doc_count(served) == 40, "served has %llu", (unsigned long long)real_doc_count(served));
    real_write_docs(client, "d", 10, 10);
    e = replicate(client, url, "s3cret", false, cert.buf, cert.size);
    REAL_CHECK(e.code == 0, "preemptive Basic: %s", real_error_text(e));
    REAL_CHECK(real_doc_count(served) == 50, "served has %llu", (unsigned long long)real_doc_count(served));

    lcws_c4listener_free(listener);
    real_close_db(client);
    real_close_db(served);
    real_cleanup();
    printf("%s: %s\n", tls ? "wss" : "ws", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
