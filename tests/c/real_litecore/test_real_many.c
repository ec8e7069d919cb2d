/*
 * Real LiteCore on both ends: 50 clients replicate with one listener at once (push and pull,
 * one-shot), each pushing its own documents. Afterwards the served database holds every
 * client's documents and every client holds the served ones; the listener reports no
 * connection left.
 *
 * Usage: test_real_many ws|wss [clients]
 */
#include "real_util.h"

#define MAX_CLIENTS 64

int main(int argc, char **argv) {
    bool tls = argc > 1 && strcmp(argv[1], "wss") == 0;
    int clients = argc > 2 ? atoi(argv[2]) : 50;
    if (clients < 1 || clients > MAX_CLIENTS) clients = 50;
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    real_write_docs(served, "s", 100, 100);
    LcwsC4Listener *listener = real_listener_start(served, "served", tls, NULL);
    char url[256];
    real_listener_url(listener, "served", tls, url, sizeof url);
    C4Slice cert = lcws_c4listener_getCertificate(listener);

    static C4Database *dbs[MAX_CLIENTS];
    static RealRepl repls[MAX_CLIENTS];
    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.push = kC4OneShot;
    o.pull = kC4OneShot;
    o.max_retries = 3;
    o.pinned_cert = cert.buf;
    o.pinned_cert_size = cert.size;
    double t0 = real_now();
    for (int i = 0; i < clients; i++) {
        char name[32];
        snprintf(name, sizeof name, "client%d", i);
        dbs[i] = real_open_db(name);
        real_write_docs(dbs[i], name, 20, 100);
    }
    for (int i = 0; i < clients; i++) REAL_CHECK(real_repl_start(&repls[i], dbs[i], url, &o), "start %d", i);
    for (int i = 0; i < clients; i++) {
        REAL_CHECK(real_repl_wait_stopped(&repls[i], 120), "client %d did not finish", i);
        REAL_CHECK(repls[i].error.code == 0, "client %d: %s", i, real_error_text(repls[i].error));
        c4repl_free(repls[i].repl);
    }
    printf("%d clients done in %.2f s\n", clients, real_now() - t0);
    /* The first clients to finish did not see the later ones' documents: only the served
       database and each client's own share are checked. */
    REAL_CHECK(real_doc_count(served) == (uint64_t)(100 + 20 * clients), "served has %llu",
               (unsigned long long)real_doc_count(served));
    for (int i = 0; i < clients; i++) {
        char id[32];
        snprintf(id, sizeof id, "client%d-19", i);
        REAL_CHECK(real_doc_has_n(served, id, 19), "%s missing on the served side", id);
        REAL_CHECK(real_doc_has_n(dbs[i], "s-99", 99), "client %d lacks s-99", i);
        REAL_CHECK(real_doc_count(dbs[i]) >= 120, "client %d has %llu", i, (unsigned long long)real_doc_count(dbs[i]));
        real_close_db(dbs[i]);
    }
    /* Replicators are released on litecore-ws's threads shortly after they stop. */
    unsigned connections = 1, active = 1;
    for (int t = 0; t < 100; t++) {
        lcws_c4listener_getConnectionStatus(listener, &connections, &active);
        if (connections == 0) break;
        real_sleep_ms(50);
    }
    REAL_CHECK(connections == 0 && active == 0, "%u connections, %u active left", connections, active);
    lcws_c4listener_free(listener);
    real_close_db(served);
    real_cleanup();
    printf("%s x%d: %s\n", tls ? "wss" : "ws", clients, real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
