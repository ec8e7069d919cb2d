/* p2p_sync: peer-to-peer replication between two LiteCore databases in one process, with
 * litecore-ws on both ends: its listener serves one database over wss (with the anonymous TLS
 * identity it generates), and the other database replicates with it through litecore-ws's client,
 * pinning the listener's certificate (`pinnedCert`). Community Edition LiteCore has no listener of
 * its own; this is what one looks like with litecore-ws.
 *
 *   p2p_sync [DIR]
 *
 * Creates DIR/served.cblite2 and DIR/peer.cblite2 afresh (deleting old ones), writes 3 documents
 * into the served database and 2 into the peer, runs one push-and-pull replication from the peer
 * and prints what synced: the documents pushed and pulled, each database's count afterwards and one
 * document that crossed each way. Without DIR, a new temporary directory is used and removed at
 * the end. Exit status: 0 when both databases end up with all 5 documents, 1 otherwise, 2 for bad
 * arguments.
 *
 * The listener binds 127.0.0.1 only (an example should not serve a database to the network);
 * set `networkInterface` to an interface name or leave it empty for every interface.
 *
 * FLStr, FLSliceResult_Release and c4db_release are C99 inline functions in LiteCore 4.x's headers:
 * common/litecore_inline.c, linked into the same program, provides their external definitions. */
#define _POSIX_C_SOURCE 200809L
#include "common/example_flow.h" /* example_error_domain_name */

/* Includes <stdint.h>, <stdbool.h>, LiteCore's c4.h, then litecore_ws.h. */
#include "litecore_ws_c4.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef LCWS_C4_HAS_LISTENER
#error "p2p_sync needs LiteCore 3.1 or later (the listener glue needs collections)"
#endif

#define SERVED_DOCS 3
#define PEER_DOCS 2

static void print_error(const char *what, C4Error err) {
    C4StringResult msg = c4error_getMessage(err);
    printf("%s: {%s, %d} %.*s\n", what, example_error_domain_name((int)err.domain), (int)err.code, (int)msg.size,
           msg.buf ? (const char *)msg.buf : "");
    FLSliceResult_Release(msg);
}

/* ---- the databases ---- */

static C4Database *open_fresh(const char *dir, const char *name) {
    C4Error err;
    memset(&err, 0, sizeof err);
    if (c4db_exists(FLStr(name), FLStr(dir)) && !c4db_deleteNamed(FLStr(name), FLStr(dir), &err)) {
        print_error("cannot delete the old database", err);
        return NULL;
    }
    C4DatabaseConfig2 config;
    memset(&config, 0, sizeof config);
    config.parentDirectory = FLStr(dir);
    config.flags = kC4DB_Create;
    C4Database *db = c4db_openNamed(FLStr(name), &config, &err);
    if (!db) print_error("cannot open the database", err);
    return db;
}

/* Writes documents "<prefix>-1" ... "<prefix>-<count>" with {"text": text, "n": i}. */
static bool write_docs(C4Database *db, const char *prefix, int count, const char *text) {
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Collection *coll = c4db_getDefaultCollection(db, &err);
    if (!coll || !c4db_beginTransaction(db, &err)) {
        print_error("cannot write", err);
        return false;
    }
    bool ok = true;
    for (int i = 1; i <= count && ok; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        FLEncoder enc = FLEncoder_New();
        FLEncoder_BeginDict(enc, 2);
        FLEncoder_WriteKey(enc, FLStr("text"));
        FLEncoder_WriteString(enc, FLStr(text));
        FLEncoder_WriteKey(enc, FLStr("n"));
        FLEncoder_WriteInt(enc, i);
        FLEncoder_EndDict(enc);
        FLSliceResult body = FLEncoder_Finish(enc, NULL);
        FLEncoder_Free(enc);
        C4Slice b = {body.buf, body.size};
        C4Document *doc = c4coll_createDoc(coll, FLStr(id), b, 0, &err);
        FLSliceResult_Release(body);
        if (doc) {
            c4doc_release(doc);
        } else {
            print_error("cannot save a document", err);
            ok = false;
        }
    }
    if (!c4db_endTransaction(db, ok, &err)) {
        print_error("cannot commit", err);
        ok = false;
    }
    return ok;
}

static uint64_t doc_count(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Collection *coll = c4db_getDefaultCollection(db, &err);
    return coll ? c4coll_getDocumentCount(coll) : 0;
}

/* Prints document `id` of `db` with its "text", or that it is missing. */
static bool show_doc(const char *db_name, C4Database *db, const char *id) {
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Collection *coll = c4db_getDefaultCollection(db, &err);
    C4Document *doc = coll ? c4coll_getDoc(coll, FLStr(id), true, kDocGetCurrentRev, &err) : NULL;
    if (!doc) {
        printf("  %s has no %s\n", db_name, id);
        return false;
    }
    FLString text = FLValue_AsString(FLDict_Get(c4doc_getProperties(doc), FLStr("text")));
    printf("  %s has %s: {\"text\": \"%.*s\"}\n", db_name, id, (int)text.size, (const char *)text.buf);
    c4doc_release(doc);
    return true;
}

/* ---- the peer's replicator ---- */

typedef struct Sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int last_level;
    bool stopped;
    C4Error error;
    size_t pushed, pulled;
    char first_pushed[64], first_pulled[64];
} Sync;

static const char *level_name(C4ReplicatorActivityLevel level) {
    static const char *const names[] = {"stopped", "offline", "connecting", "idle", "busy", "stopping"};
    return (level >= 0 && level < (int)(sizeof names / sizeof names[0])) ? names[level] : "?";
}

/* LiteCore's threads. */
static void on_status(C4Replicator *repl, C4ReplicatorStatus status, void *context) {
    (void)repl;
    Sync *s = context;
    pthread_mutex_lock(&s->mu);
    if ((int)status.level != s->last_level) printf("peer: %s\n", level_name(status.level));
    fflush(stdout);
    s->last_level = (int)status.level;
    if (status.error.code) s->error = status.error;
    if (status.level == kC4Stopped) {
        s->stopped = true;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_documents_ended(C4Replicator *repl, bool pushing, size_t num_docs, const C4DocumentEnded *docs[],
                               void *context) {
    (void)repl;
    Sync *s = context;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < num_docs; i++) {
        if (docs[i]->error.code) {
            printf("peer: %s %.*s failed\n", pushing ? "pushing" : "pulling", (int)docs[i]->docID.size,
                   (const char *)docs[i]->docID.buf);
            continue;
        }
        size_t *n = pushing ? &s->pushed : &s->pulled;
        char *first = pushing ? s->first_pushed : s->first_pulled;
        if ((*n)++ == 0)
            snprintf(first, sizeof s->first_pushed, "%.*s", (int)docs[i]->docID.size, (const char *)docs[i]->docID.buf);
    }
    pthread_mutex_unlock(&s->mu);
}

/* One push-and-pull replication of `db` with `url`, trusting only the certificate `cert`. */
static bool replicate(C4Database *db, const char *url, C4Slice cert, Sync *s) {
    C4Address address;
    C4String remote_db;
    memset(&address, 0, sizeof address);
    if (!c4address_fromURL(FLStr(url), &address, &remote_db)) {
        printf("LiteCore cannot parse the URL %s\n", url);
        return false;
    }
    /* pinnedCert: the listener's own certificate is the only one accepted (no CA, no host name
       check), as Couchbase Lite does for a peer's self-signed identity. */
    FLEncoder enc = FLEncoder_New();
    FLEncoder_BeginDict(enc, 1);
    FLEncoder_WriteKey(enc, FLStr(kC4ReplicatorOptionPinnedServerCert));
    FLEncoder_WriteData(enc, cert);
    FLEncoder_EndDict(enc);
    FLSliceResult options = FLEncoder_Finish(enc, NULL);
    FLEncoder_Free(enc);

    /* litecore-ws as the peer's transport, with the peer's database for cookies. */
    C4SocketFactory factory = lcws_c4_factory(db);
    C4ReplicationCollection collection;
    memset(&collection, 0, sizeof collection);
    collection.collection = kC4DefaultCollectionSpec;
    collection.push = kC4OneShot;
    collection.pull = kC4OneShot;
    C4ReplicatorParameters params;
    memset(&params, 0, sizeof params);
    params.optionsDictFleece.buf = options.buf;
    params.optionsDictFleece.size = options.size;
    params.onStatusChanged = on_status;
    params.onDocumentsEnded = on_documents_ended;
    params.callbackContext = s;
    params.socketFactory = &factory;
    params.collections = &collection;
    params.collectionCount = 1;
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Replicator *repl = c4repl_new(db, address, remote_db, params, FLStr("peer"), &err);
    FLSliceResult_Release(options);
    if (!repl) {
        print_error("cannot replicate", err);
        return false;
    }
    if (!c4repl_setProgressLevel(repl, kC4ReplProgressPerDocument, &err)) print_error("progress level", err);
    c4repl_start(repl, false);
    pthread_mutex_lock(&s->mu);
    while (!s->stopped) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    c4repl_free(repl);
    if (s->error.code) {
        print_error("replication failed", s->error);
        return false;
    }
    return true;
}

/* ---- the listener ---- */

static LcwsC4Listener *serve(C4Database *db, char *url, size_t url_size) {
    LcwsC4ListenerConfig config;
    memset(&config, 0, sizeof config);
    config.port = 0;                              /* any free port */
    config.networkInterface = FLStr("127.0.0.1"); /* this machine only */
    config.allowPush = true;                      /* peers may push into the database */
    config.allowPull = true;                      /* and pull from it */
    /* tlsConfig left zero: wss with an anonymous identity generated now (Couchbase Lite's
       behaviour); disableTLS = true would serve plain ws. */
    C4Error err;
    memset(&err, 0, sizeof err);
    LcwsC4Listener *listener = lcws_c4listener_start(&config, &err);
    if (!listener) {
        print_error("cannot start the listener", err);
        return NULL;
    }
    if (!lcws_c4listener_shareDB(listener, FLStr("served"), db, &err)) {
        print_error("cannot share the database", err);
        lcws_c4listener_free(listener);
        return NULL;
    }
    FLMutableArray urls = lcws_c4listener_getURLs(listener, db, &err);
    uint32_t n = urls ? FLArray_Count((FLArray)urls) : 0;
    for (uint32_t i = 0; i < n; i++) {
        FLString u = FLValue_AsString(FLArray_Get((FLArray)urls, i));
        printf("listening: %.*s\n", (int)u.size, (const char *)u.buf);
        if (i == 0) snprintf(url, url_size, "%.*s", (int)u.size, (const char *)u.buf);
    }
    FLValue_Release((FLValue)urls);
    if (n == 0) {
        printf("the listener has no URL\n");
        lcws_c4listener_free(listener);
        return NULL;
    }
    C4Slice cert = lcws_c4listener_getCertificate(listener);
    printf("certificate: %zu bytes (DER), generated: anonymous and self-signed; the peer pins it\n", cert.size);
    return listener;
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [DIR]\n", argv0);
    return EXAMPLE_USAGE;
}

int main(int argc, char **argv) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) return usage(argv[0]);
    char dir[1024];
    bool temporary = argc < 2;
    if (temporary) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/p2p_sync-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return EXAMPLE_FAILED;
        }
    } else {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    }
    printf("litecore-ws %s; databases in %s\n", lcws_version(), dir);

    int rc = EXAMPLE_FAILED;
    C4Database *served = open_fresh(dir, "served");
    C4Database *peer = open_fresh(dir, "peer");
    LcwsC4Listener *listener = NULL;
    if (!served || !peer) goto done;
    if (!write_docs(served, "served", SERVED_DOCS, "hello from the served database") ||
        !write_docs(peer, "peer", PEER_DOCS, "hello from the peer"))
        goto done;
    printf("served.cblite2: %llu documents, peer.cblite2: %llu documents\n", (unsigned long long)doc_count(served),
           (unsigned long long)doc_count(peer));

    /* 1. Serve `served` (the listener runs on litecore-ws's threads from now on). */
    char url[256];
    listener = serve(served, url, sizeof url);
    if (!listener) goto done;

    /* 2. The peer replicates with it: push and pull, once. */
    printf("peer: replicating with %s (push and pull)\n", url);
    Sync sync;
    memset(&sync, 0, sizeof sync);
    sync.last_level = -1;
    pthread_mutex_init(&sync.mu, NULL);
    pthread_cond_init(&sync.cv, NULL);
    bool replicated = replicate(peer, url, lcws_c4listener_getCertificate(listener), &sync);

    /* 3. What synced. The listener's passive replicator stops once the peer closed: wait (5 s at
          most) until the listener has no connection left. */
    unsigned connections = 0, active = 0;
    for (int i = 0; i < 500; i++) {
        lcws_c4listener_getConnectionStatus(listener, &connections, &active);
        if (connections == 0) break;
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    }
    printf("pushed %zu documents to the served database (first: %s)\n", sync.pushed,
           sync.pushed ? sync.first_pushed : "-");
    printf("pulled %zu documents from the served database (first: %s)\n", sync.pulled,
           sync.pulled ? sync.first_pulled : "-");
    uint64_t served_count = doc_count(served), peer_count = doc_count(peer);
    printf("served.cblite2 now has %llu documents, peer.cblite2 %llu\n", (unsigned long long)served_count,
           (unsigned long long)peer_count);
    bool crossed = show_doc("served.cblite2", served, "peer-1");
    crossed = show_doc("peer.cblite2", peer, "served-1") && crossed;
    printf("listener: %u connection(s) left, %u active\n", connections, active);
    if (replicated && crossed && sync.pushed == PEER_DOCS && sync.pulled == SERVED_DOCS &&
        served_count == SERVED_DOCS + PEER_DOCS && peer_count == SERVED_DOCS + PEER_DOCS && connections == 0) {
        printf("p2p sync finished: both databases have all %d documents\n", SERVED_DOCS + PEER_DOCS);
        rc = EXAMPLE_OK;
    } else {
        printf("p2p sync failed\n");
    }

done:
    /* Stop serving before closing the database: lcws_c4listener_free closes the listener's
       sockets, waits for its replicators and releases the shared database. */
    lcws_c4listener_free(listener);
    C4Error err;
    memset(&err, 0, sizeof err);
    if (peer && !(temporary ? c4db_delete(peer, &err) : c4db_close(peer, &err))) print_error("closing peer", err);
    if (served && !(temporary ? c4db_delete(served, &err) : c4db_close(served, &err)))
        print_error("closing served", err);
    c4db_release(peer);
    c4db_release(served);
    if (temporary) rmdir(dir);
    return rc;
}
