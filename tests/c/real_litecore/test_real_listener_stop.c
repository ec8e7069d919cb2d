/*
 * Real LiteCore on both ends: the listener is stopped while clients are pulling. Every client
 * replicator must end with an error LiteCore treats as transient (it would retry), the listener
 * must report no connection left, and nothing may hang.
 *
 * Usage: test_real_listener_stop [clients]
 */
#include "real_util.h"

static bool got_some(RealRepl *r, void *arg) {
    (void)arg;
    return r->stopped || r->docs >= 20;
}

static bool ended_or_offline(RealRepl *r, void *arg) {
    (void)arg;
    return r->stopped || r->went_offline;
}

int main(int argc, char **argv) {
    int clients = argc > 1 ? atoi(argv[1]) : 4;
    if (clients < 1 || clients > 64) clients = 4;
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    real_write_docs(served, "s", 3000, 2000);
    LcwsC4Listener *listener = real_listener_start(served, "served", false, NULL);
    char url[256];
    real_listener_url(listener, "served", false, url, sizeof url);

    C4Database *dbs[64];
    RealRepl repls[64];
    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.pull = kC4Continuous;
    o.push = kC4Disabled;
    o.max_retries = -1;
    for (int i = 0; i < clients; i++) {
        char name[32];
        snprintf(name, sizeof name, "client%d", i);
        dbs[i] = real_open_db(name);
        REAL_CHECK(real_repl_start(&repls[i], dbs[i], url, &o), "start %d", i);
    }
    for (int i = 0; i < clients; i++)
        REAL_CHECK(real_repl_wait(&repls[i], 60, got_some, NULL), "client %d got nothing", i);

    double t0 = real_now();
    lcws_c4listener_free(listener);
    double took = real_now() - t0;
    printf("listener stopped in %.2f s\n", took);
    REAL_CHECK(took < 12, "stopping took %.1f s", took);

    for (int i = 0; i < clients; i++) {
        REAL_CHECK(real_repl_wait(&repls[i], 30, ended_or_offline, NULL), "client %d neither stopped nor offline", i);
        pthread_mutex_lock(&repls[i].mu);
        C4Error e = repls[i].error;
        bool offline = repls[i].went_offline;
        bool stopped = repls[i].stopped;
        pthread_mutex_unlock(&repls[i].mu);
        printf("client %d: %s, error %s, transient %d\n", i, offline ? "offline (retrying)" : stopped ? "stopped" : "?",
               real_error_text(e), (int)c4error_mayBeTransient(e));
        REAL_CHECK(e.code != 0, "client %d has no error", i);
        REAL_CHECK(c4error_mayBeTransient(e) || offline, "client %d: %s is not retryable", i, real_error_text(e));
        real_repl_stop_and_free(&repls[i]);
        real_close_db(dbs[i]);
    }
    real_close_db(served);
    real_cleanup();
    printf("%s\n", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
