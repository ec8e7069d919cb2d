/*
 * Real LiteCore on both ends: a database served by litecore-ws's listener, another replicating
 * with it through litecore-ws's client, over ws and wss (the generated identity pinned).
 * One-shot push, then one-shot pull, then a push-and-pull; document counts and contents are
 * checked on both databases.
 *
 * Usage: test_real_push_pull ws|wss
 */
#include "real_util.h"

int main(int argc, char **argv) {
    bool tls = argc > 1 && strcmp(argv[1], "wss") == 0;
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    C4Database *client = real_open_db("client");
    LcwsC4Listener *listener = real_listener_start(served, "served", tls, NULL);
    char url[256];
    real_listener_url(listener, "served", tls, url, sizeof url);
    C4Slice cert = lcws_c4listener_getCertificate(listener);
    REAL_CHECK(tls == (cert.size > 0), "certificate size %zu", cert.size);

    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.max_retries = 0;
    if (tls) {
        o.pinned_cert = cert.buf;
        o.pinned_cert_size = cert.size;
    }

    /* 1. Push 300 documents. */
    real_write_docs(client, "c", 300, 100);
    RealRepl r;
    o.push = kC4OneShot;
    o.pull = kC4Disabled;
    REAL_CHECK(real_repl_start(&r, client, url, &o), "push start");
    REAL_CHECK(real_repl_wait_stopped(&r, 60), "push did not stop");
    REAL_CHECK(r.error.code == 0, "push error %s", real_error_text(r.error));
    c4repl_free(r.repl);
    REAL_CHECK(real_doc_count(served) == 300, "served has %llu docs", (unsigned long long)real_doc_count(served));
    REAL_CHECK(real_doc_has_n(served, "c-299", 299), "c-299 missing or wrong");

    /* 2. Pull 200 documents written on the served side. */
    real_write_docs(served, "s", 200, 50);
    o.push = kC4Disabled;
    o.pull = kC4OneShot;
    REAL_CHECK(real_repl_start(&r, client, url, &o), "pull start");
    REAL_CHECK(real_repl_wait_stopped(&r, 60), "pull did not stop");
    REAL_CHECK(r.error.code == 0, "pull error %s", real_error_text(r.error));
    c4repl_free(r.repl);
    REAL_CHECK(real_doc_count(client) == 500, "client has %llu docs", (unsigned long long)real_doc_count(client));
    REAL_CHECK(real_doc_has_n(client, "s-123", 123), "s-123 missing or wrong");

    /* 3. Both ways at once. */
    real_write_docs(client, "c2", 50, 10);
    real_write_docs(served, "s2", 70, 10);
    o.push = kC4OneShot;
    o.pull = kC4OneShot;
    REAL_CHECK(real_repl_start(&r, client, url, &o), "pushpull start");
    REAL_CHECK(real_repl_wait_stopped(&r, 60), "pushpull did not stop");
    REAL_CHECK(r.error.code == 0, "pushpull error %s", real_error_text(r.error));
    c4repl_free(r.repl);
    REAL_CHECK(real_doc_count(client) == 620, "client has %llu", (unsigned long long)real_doc_count(client));
    REAL_CHECK(real_doc_count(served) == 620, "served has %llu", (unsigned long long)real_doc_count(served));

    unsigned connections = 99, active = 99;
    lcws_c4listener_getConnectionStatus(listener, &connections, &active);
    printf("listener status after the replications: %u connections, %u active\n", connections, active);
    lcws_c4listener_free(listener);
    real_close_db(client);
    real_close_db(served);
    real_cleanup();
    printf("%s: %s\n", tls ? "wss" : "ws", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
