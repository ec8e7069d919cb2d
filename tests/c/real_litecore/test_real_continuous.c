/*
 * Real LiteCore on both ends: a continuous push-and-pull through litecore-ws's client and
 * listener, with changes made on both sides while it runs, documents with blobs (1 KiB to
 * 3 MiB) both ways, then a clean stop. Counts, contents and blob bytes are checked on both
 * databases.
 *
 * Usage: test_real_continuous ws|wss
 */
#include "real_util.h"

typedef struct Want {
    C4Database *db;
    uint64_t count;
} Want;

static bool has_count(RealRepl *r, void *arg) {
    (void)r;
    Want *w = arg;
    return real_doc_count(w->db) >= w->count;
}

/* Waits (polling through the replicator's condition variable) until `db` holds `count` docs. */
static bool wait_count(RealRepl *r, C4Database *db, uint64_t count, double timeout_s) {
    Want w = {db, count};
    double deadline = real_now() + timeout_s;
    while (real_now() < deadline) {
        if (real_repl_wait(r, 0.2, has_count, &w)) return true;
    }
    return has_count(r, &w);
}

static const size_t blob_sizes[] = {1024, 100 * 1024, 3 * 1024 * 1024};

int main(int argc, char **argv) {
    bool tls = argc > 1 && strcmp(argv[1], "wss") == 0;
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    C4Database *client = real_open_db("client");
    real_write_docs(served, "s0", 100, 200);
    real_write_docs(client, "c0", 100, 200);
    LcwsC4Listener *listener = real_listener_start(served, "served", tls, NULL);
    char url[256];
    real_listener_url(listener, "served", tls, url, sizeof url);
    C4Slice cert = lcws_c4listener_getCertificate(listener);

    RealRepl r;
    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.push = kC4Continuous;
    o.pull = kC4Continuous;
    o.max_retries = 0;
    o.pinned_cert = cert.buf;
    o.pinned_cert_size = cert.size;
    REAL_CHECK(real_repl_start(&r, client, url, &o), "start");
    REAL_CHECK(wait_count(&r, client, 200, 60) && wait_count(&r, served, 200, 60), "first exchange: %llu / %llu",
               (unsigned long long)real_doc_count(client), (unsigned long long)real_doc_count(served));

    /* Changes on both sides while it runs, in rounds. */
    for (int round = 1; round <= 3; round++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "s%d", round);
        real_write_docs(served, prefix, 50, 500);
        snprintf(prefix, sizeof prefix, "c%d", round);
        real_write_docs(client, prefix, 50, 500);
    }
    for (unsigned i = 0; i < sizeof blob_sizes / sizeof blob_sizes[0]; i++) {
        char id[32];
        snprintf(id, sizeof id, "blob-s-%u", i);
        real_write_blob_doc(served, id, blob_sizes[i], 100 + i);
        snprintf(id, sizeof id, "blob-c-%u", i);
        real_write_blob_doc(client, id, blob_sizes[i], 200 + i);
    }
    uint64_t total = 200 + 300 + 6;
    REAL_CHECK(wait_count(&r, client, total, 90), "client has %llu of %llu", (unsigned long long)real_doc_count(client),
               (unsigned long long)total);
    REAL_CHECK(wait_count(&r, served, total, 90), "served has %llu of %llu", (unsigned long long)real_doc_count(served),
               (unsigned long long)total);
    /* A document arrives before its blobs are all in; give the last blob a moment. */
    for (unsigned i = 0; i < sizeof blob_sizes / sizeof blob_sizes[0]; i++) {
        char id[32];
        bool ok = false;
        snprintf(id, sizeof id, "blob-s-%u", i);
        for (int t = 0; t < 100 && !(ok = real_blob_doc_matches(client, id, blob_sizes[i], 100 + i)); t++)
            real_sleep_ms(100);
        REAL_CHECK(ok, "%s did not arrive intact on the client", id);
        snprintf(id, sizeof id, "blob-c-%u", i);
        for (int t = 0; t < 100 && !(ok = real_blob_doc_matches(served, id, blob_sizes[i], 200 + i)); t++)
            real_sleep_ms(100);
        REAL_CHECK(ok, "%s did not arrive intact on the served side", id);
    }
    REAL_CHECK(real_doc_has_n(served, "c3-49", 49) && real_doc_has_n(client, "s3-49", 49), "last round's documents");
    pthread_mutex_lock(&r.mu);
    C4Error e = r.error;
    pthread_mutex_unlock(&r.mu);
    REAL_CHECK(e.code == 0, "error while running: %s", real_error_text(e));

    unsigned connections = 0, active = 0;
    lcws_c4listener_getConnectionStatus(listener, &connections, &active);
    REAL_CHECK(connections == 1, "%u connections while replicating", connections);
    real_repl_stop_and_free(&r);
    REAL_CHECK(r.error.code == 0, "stop: %s", real_error_text(r.error));
    lcws_c4listener_free(listener);
    real_close_db(client);
    real_close_db(served);
    real_cleanup();
    printf("%s: %s\n", tls ? "wss" : "ws", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
