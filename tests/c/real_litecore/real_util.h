/*
 * Helpers for the tests that run the real LiteCore (LCWS_LITECORE_ROOT): databases in a
 * temporary directory, documents, a replicator that runs until it stops, and a listener.
 * Every function here avoids LiteCore's plain C99 `inline` functions (FLStr, c4db_release, ...),
 * which libLiteCore exports no definition of: the tests build at -O0 too.
 */
#ifndef REAL_UTIL_H
#define REAL_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include "litecore_ws_c4.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks ---- */

extern int real_failures;
#define REAL_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            real_failures++;                                                                       \
            fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* A slice over a C string. */
C4Slice real_str(const char *s);
/* "{domain, code} message" of an error, in a static buffer per thread. */
const char *real_error_text(C4Error err);

/* ---- databases ---- */

/* A temporary directory for this test's databases (removed by real_cleanup). */
const char *real_temp_dir(void);
/* Opens (creates) database `name` in the temp directory; aborts the test on failure. */
C4Database *real_open_db(const char *name);
void real_close_db(C4Database *db);
/* The default collection of `db`. */
C4Collection *real_default_collection(C4Database *db);
/* Writes `count` documents "<prefix>-<i>" with {"n": i, "from": prefix, "pad": <pad_bytes>}. */
void real_write_docs(C4Database *db, const char *prefix, int count, size_t pad_bytes);
/* Writes one document with a blob of `size` bytes (pattern by `seed`) as "photo". */
void real_write_blob_doc(C4Database *db, const char *doc_id, size_t size, unsigned seed);
/* True when the document exists and its blob "photo" holds the pattern of `size`/`seed`. */
bool real_blob_doc_matches(C4Database *db, const char *doc_id, size_t size, unsigned seed);
uint64_t real_doc_count(C4Database *db);
/* True when document `doc_id` exists with property "n" == n. */
bool real_doc_has_n(C4Database *db, const char *doc_id, int64_t n);
void real_cleanup(void);

/* ---- replication ---- */

typedef struct RealRepl {
    C4Replicator *repl;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    C4ReplicatorActivityLevel level;
    C4Error error;
    bool stopped;
    bool went_offline; /* saw kC4Offline (LiteCore retries later) */
    uint64_t docs;
} RealRepl;

typedef struct RealReplOptions {
    C4ReplicatorMode push, pull;
    const char *user, *password; /* Basic */
    bool challenge_auth;
    const void *pinned_cert;
    size_t pinned_cert_size;
    /* auth type "Client Cert" when set (PEM or DER). */
    const void *client_cert, *client_key;
    size_t client_cert_size, client_key_size;
    int max_retries; /* -1: LiteCore's default */
} RealReplOptions;

/* Starts a replicator of `db`'s default collection to `url` with litecore-ws as its transport
 * (a per-replicator factory). Returns false (with the error printed) when it cannot be made. */
bool real_repl_start(RealRepl *r, C4Database *db, const char *url, const RealReplOptions *o);
/* Waits until the replicator stopped (true) or `timeout_s` passed (false). */
bool real_repl_wait_stopped(RealRepl *r, double timeout_s);
/* Waits until the replicator is idle or stopped. */
bool real_repl_wait_idle(RealRepl *r, double timeout_s);
/* Waits until `pred(r, arg)` or the timeout. */
bool real_repl_wait(RealRepl *r, double timeout_s, bool (*pred)(RealRepl *, void *), void *arg);
void real_repl_stop_and_free(RealRepl *r);

/* ---- listener ---- */

/* Starts a listener on 127.0.0.1, port 0, sharing `db` as `name`. `tls`: with a generated
 * identity; `password`: Basic for user "alice". */
LcwsC4Listener *real_listener_start(C4Database *db, const char *name, bool tls, const char *password);
/* The same with a configuration the caller filled (port, interface, TLS, auth...). */
LcwsC4Listener *real_listener_start_with(C4Database *db, const char *name, const LcwsC4ListenerConfig *config);
/* Runs a shell command (printed first); true when it exits 0. */
bool real_sh(const char *fmt, ...);
/* Reads a whole file (malloc'd; the caller frees it). */
void *real_read_file(const char *path, size_t *size);
/* "ws[s]://127.0.0.1:<port>/<name>" */
void real_listener_url(LcwsC4Listener *l, const char *name, bool tls, char *out, size_t size);

double real_now(void);
void real_sleep_ms(int ms);

#endif
