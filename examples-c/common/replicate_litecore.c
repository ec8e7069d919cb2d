/* example_replicate() with LiteCore's real replicator (LiteCore 3.2+ / 4.x C API), litecore-ws
 * as its WebSocket transport. Built only when CMake finds LiteCore (-DLITECORE_ROOT=...).
 * FLStr, FLSliceResult_Release and c4db_release are C99 inline functions in LiteCore 4.x's
 * headers: litecore_inline.c, linked into the same program, provides their external definitions. */
#define _POSIX_C_SOURCE 200809L
#include "example_flow.h"

/* Includes <stdint.h>, <stdbool.h>, LiteCore's c4.h, then litecore_ws.h. */
#include "litecore_ws_c4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

static const char *level_name(C4ReplicatorActivityLevel level) {
    static const char *const names[] = {"stopped", "offline", "connecting", "idle", "busy", "stopping"};
    return (level >= 0 && level < (int)(sizeof names / sizeof names[0])) ? names[level] : "?";
}

static void print_error(const char *what, C4Error err) {
    C4StringResult msg = c4error_getMessage(err);
    printf("%s: {%s, %d} %.*s\n", what, example_error_domain_name((int)err.domain), (int)err.code, (int)msg.size,
           (const char *)msg.buf);
    FLSliceResult_Release(msg);
}

/* The main thread waits for the callback to report kC4Stopped. */
typedef struct Waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopped;
} Waiter;

/* Called by LiteCore on its own threads; printf is thread-safe per call. */
static void on_status_changed(C4Replicator *repl, C4ReplicatorStatus status, void *context) {
    (void)repl;
    Waiter *w = context;
    printf("status: %s, %llu documents so far\n", level_name(status.level),
           (unsigned long long)status.progress.documentCount);
    if (status.error.code != 0 && status.level != kC4Stopped) print_error("  (error)", status.error);
    fflush(stdout);
    if (status.level == kC4Stopped) {
        pthread_mutex_lock(&w->mu);
        w->stopped = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static void on_documents_ended(C4Replicator *repl, bool pushing, size_t num_docs, const C4DocumentEnded *docs[],
                               void *context) {
    (void)repl;
    (void)context;
    size_t failed = 0;
    for (size_t i = 0; i < num_docs; i++) {
        if (docs[i]->error.code == 0) continue;
        failed++;
        printf("  %s %.*s: ", pushing ? "push" : "pull", (int)docs[i]->docID.size, (const char *)docs[i]->docID.buf);
        print_error("failed", docs[i]->error);
    }
    printf("documents completed: %zu %s%s\n", num_docs - failed, pushing ? "pushed" : "pulled",
           failed ? " (some failed, see above)" : "");
    fflush(stdout);
}

/* "dir/name.cblite2" -> parent directory "dir" and database name "name" (c4db_openNamed's form). */
static void split_db_path(const char *path, char *dir, size_t dir_size, char *name, size_t name_size) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    const char *slash = NULL;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/') slash = path + i;
    const char *base = slash ? slash + 1 : path;
    size_t base_len = len - (size_t)(base - path);
    const char *ext = ".cblite2";
    size_t ext_len = strlen(ext);
    if (base_len > ext_len && memcmp(base + base_len - ext_len, ext, ext_len) == 0) base_len -= ext_len;
    if (!slash) snprintf(dir, dir_size, ".");
    else if (slash == path) snprintf(dir, dir_size, "/");
    else snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
    snprintf(name, name_size, "%.*s", (int)base_len, base);
}

static void write_string(FLEncoder enc, const char *key, const char *value) {
    if (!value) return;
    FLEncoder_WriteKey(enc, FLStr(key));
    FLEncoder_WriteString(enc, FLStr(value));
}

/* The replicator's options dict. LiteCore adds WS-Protocols itself before calling the factory. */
static FLSliceResult encode_options(const ExampleReplication *r) {
    FLEncoder enc = FLEncoder_New();
    FLEncoder_BeginDict(enc, 2);
    FLEncoder_WriteKey(enc, FLSTR(kC4ReplicatorOptionAuthentication));
    FLEncoder_BeginDict(enc, 5);
    write_string(enc, kC4ReplicatorAuthType, r->auth.type);
    write_string(enc, kC4ReplicatorAuthUserName, r->auth.username);
    write_string(enc, kC4ReplicatorAuthPassword, r->auth.password);
    write_string(enc, kC4ReplicatorAuthToken, r->auth.token);
    write_string(enc, "cookieName", r->auth.cookie_name); /* litecore-ws's extension */
    FLEncoder_EndDict(enc);
    if (r->root_certs) {
        FLSlice certs = {r->root_certs, r->root_certs_size};
        FLEncoder_WriteKey(enc, FLSTR(kC4ReplicatorOptionRootCerts));
        FLEncoder_WriteData(enc, certs);
    }
    FLEncoder_EndDict(enc);
    FLError flerr = kFLNoError;
    FLSliceResult out = FLEncoder_Finish(enc, &flerr);
    FLEncoder_Free(enc);
    if (!out.buf) fprintf(stderr, "cannot encode the replicator options (Fleece error %d)\n", (int)flerr);
    return out;
}

static void close_db(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    if (!c4db_close(db, &err)) print_error("closing the database", err);
    c4db_release(db);
}

/* Starts `repl` and waits until it stops; prints the outcome. */
static int run_to_completion(C4Replicator *repl, Waiter *waiter) {
    C4Error err;
    memset(&err, 0, sizeof err);
    /* Per-document callbacks for successes too, not only errors. */
    if (!c4repl_setProgressLevel(repl, kC4ReplProgressPerDocument, &err)) print_error("progress level", err);
    c4repl_start(repl, false);

    /* The one-shot replication stops by itself (the callbacks print progress meanwhile). */
    pthread_mutex_lock(&waiter->mu);
    while (!waiter->stopped) pthread_cond_wait(&waiter->cv, &waiter->mu);
    pthread_mutex_unlock(&waiter->mu);

    C4ReplicatorStatus status = c4repl_getStatus(repl);
    if (status.error.code != 0) {
        print_error("replication failed", status.error);
        return EXAMPLE_FAILED;
    }
    printf("replication finished without error (%llu documents)\n",
           (unsigned long long)status.progress.documentCount);
    return EXAMPLE_OK;
}

int example_replicate(const ExampleReplication *r) {
    int rc = EXAMPLE_FAILED;
    C4Error err;
    memset(&err, 0, sizeof err);
    Waiter waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};

    /* 1. The local database, created when missing. */
    char dir[1024], name[256];
    split_db_path(r->db_path, dir, sizeof dir, name, sizeof name);
    C4DatabaseConfig2 config;
    memset(&config, 0, sizeof config);
    config.parentDirectory = FLStr(dir);
    config.flags = kC4DB_Create;
    C4Database *db = c4db_openNamed(FLStr(name), &config, &err);
    if (!db) {
        print_error("cannot open the database", err);
        return EXAMPLE_FAILED;
    }
    printf("database: %s/%s.cblite2\n", dir, name);

    /* 2. The remote: ws://host:port/db -> address (path "/") + database name "db". */
    C4Address address;
    C4String remote_db;
    memset(&address, 0, sizeof address);
    if (!c4address_fromURL(FLStr(r->remote.text), &address, &remote_db)) {
        printf("replication failed: LiteCore cannot parse the URL %s\n", r->remote.text);
        close_db(db);
        return EXAMPLE_FAILED;
    }

    /* 3. litecore-ws as this replicator's transport. A per-replicator factory whose context is the
          database: litecore-ws then sends the database's stored cookies and stores SG's
          Set-Cookie answers (LiteCore does neither for a custom transport). Alternatively
          lcws_register_with_litecore() once at start-up registers it for every replicator. */
    C4SocketFactory factory = lcws_c4_factory(db);

    /* 4. Push and pull the default collection once. */
    FLSliceResult options = encode_options(r);
    if (!options.buf) {
        close_db(db);
        return EXAMPLE_FAILED;
    }
    C4ReplicationCollection collection;
    memset(&collection, 0, sizeof collection);
    collection.collection = kC4DefaultCollectionSpec;
    collection.push = kC4OneShot;
    collection.pull = kC4OneShot;

    C4ReplicatorParameters params;
    memset(&params, 0, sizeof params);
    params.optionsDictFleece.buf = options.buf;
    params.optionsDictFleece.size = options.size;
    params.onStatusChanged = on_status_changed;
    params.onDocumentsEnded = on_documents_ended;
    params.callbackContext = &waiter;
    params.socketFactory = &factory;
    params.collections = &collection;
    params.collectionCount = 1;

    C4Replicator *repl = c4repl_new(db, address, remote_db, params, FLSTR("example"), &err);
    if (repl) {
        rc = run_to_completion(repl, &waiter);
        c4repl_free(repl);
    } else {
        print_error("replication failed", err);
    }

    FLSliceResult_Release(options);
    close_db(db);
    return rc;
}
