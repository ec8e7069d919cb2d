#define _XOPEN_SOURCE 700
#include "real_util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <time.h>
#include <stdarg.h>
#include <unistd.h>

int real_failures = 0;

C4Slice real_str(const char *s) {
    C4Slice r;
    r.buf = s;
    r.size = s ? strlen(s) : 0;
    return r;
}

static void release_result(C4SliceResult r) {
    if (r.buf) _FLBuf_Release(r.buf);
}

const char *real_error_text(C4Error err) {
    static __thread char buf[512];
    C4StringResult msg = c4error_getMessage(err);
    snprintf(buf, sizeof buf, "{%d, %d} %.*s", (int)err.domain, (int)err.code, (int)msg.size,
             msg.buf ? (const char *)msg.buf : "");
    release_result(msg);
    return buf;
}

double real_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void real_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- databases ---- */

static char temp_dir[512];

const char *real_temp_dir(void) {
    if (!temp_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(temp_dir, sizeof temp_dir, "%s/lcws-real-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(temp_dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return temp_dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void real_cleanup(void) {
    if (temp_dir[0]) nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

C4Database *real_open_db(const char *name) {
    C4DatabaseConfig2 config;
    C4Error err;
    memset(&config, 0, sizeof config);
    memset(&err, 0, sizeof err);
    config.parentDirectory = real_str(real_temp_dir());
    config.flags = kC4DB_Create;
    C4Database *db = c4db_openNamed(real_str(name), &config, &err);
    if (!db) {
        fprintf(stderr, "cannot open database %s: %s\n", name, real_error_text(err));
        exit(1);
    }
    return db;
}

void real_close_db(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    if (!c4db_close(db, &err)) fprintf(stderr, "closing a database: %s\n", real_error_text(err));
    c4base_release(db);
}

C4Collection *real_default_collection(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Collection *c = c4db_getDefaultCollection(db, &err);
    if (!c) {
        fprintf(stderr, "no default collection: %s\n", real_error_text(err));
        exit(1);
    }
    return c;
}

static void put_doc(C4Database *db, const char *doc_id, C4SliceResult body, C4RevisionFlags flags) {
    C4Error err;
    memset(&err, 0, sizeof err);
    C4Slice b = {body.buf, body.size};
    C4Document *doc = c4coll_createDoc(real_default_collection(db), real_str(doc_id), b, flags, &err);
    if (!doc) {
        fprintf(stderr, "cannot save %s: %s\n", doc_id, real_error_text(err));
        exit(1);
    }
    c4doc_release(doc);
}

static void begin(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    if (!c4db_beginTransaction(db, &err)) {
        fprintf(stderr, "begin: %s\n", real_error_text(err));
        exit(1);
    }
}

static void commit(C4Database *db) {
    C4Error err;
    memset(&err, 0, sizeof err);
    if (!c4db_endTransaction(db, true, &err)) {
        fprintf(stderr, "commit: %s\n", real_error_text(err));
        exit(1);
    }
}

void real_write_docs(C4Database *db, const char *prefix, int count, size_t pad_bytes) {
    char *pad = calloc(pad_bytes + 1, 1);
    memset(pad, 'x', pad_bytes);
    begin(db);
    for (int i = 0; i < count; i++) {
        char id[128];
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        FLEncoder enc = FLEncoder_New();
        FLEncoder_BeginDict(enc, 3);
        FLEncoder_WriteKey(enc, real_str("n"));
        FLEncoder_WriteInt(enc, i);
        FLEncoder_WriteKey(enc, real_str("from"));
        FLEncoder_WriteString(enc, real_str(prefix));
        FLEncoder_WriteKey(enc, real_str("pad"));
        FLEncoder_WriteString(enc, real_str(pad));
        FLEncoder_EndDict(enc);
        FLSliceResult body = FLEncoder_Finish(enc, NULL);
        FLEncoder_Free(enc);
        C4SliceResult b = {body.buf, body.size};
        put_doc(db, id, b, 0);
        release_result(b);
    }
    commit(db);
    free(pad);
}

static void blob_pattern(unsigned char *buf, size_t size, unsigned seed) {
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

void real_write_blob_doc(C4Database *db, const char *doc_id, size_t size, unsigned seed) {
    C4Error err;
    memset(&err, 0, sizeof err);
    unsigned char *data = malloc(size ? size : 1);
    blob_pattern(data, size, seed);
    C4BlobStore *store = c4db_getBlobStore(db, &err);
    C4BlobKey key;
    C4Slice contents = {data, size};
    if (!store || !c4blob_create(store, contents, NULL, &key, &err)) {
        fprintf(stderr, "cannot store a blob: %s\n", real_error_text(err));
        exit(1);
    }
    C4StringResult digest = c4blob_keyToString(key);
    FLEncoder enc = FLEncoder_New();
    FLEncoder_BeginDict(enc, 1);
    FLEncoder_WriteKey(enc, real_str("photo"));
    FLEncoder_BeginDict(enc, 4);
    FLEncoder_WriteKey(enc, real_str("@type"));
    FLEncoder_WriteString(enc, real_str("blob"));
    FLEncoder_WriteKey(enc, real_str("digest"));
    C4Slice d = {digest.buf, digest.size};
    FLEncoder_WriteString(enc, d);
    FLEncoder_WriteKey(enc, real_str("length"));
    FLEncoder_WriteUInt(enc, size);
    FLEncoder_WriteKey(enc, real_str("content_type"));
    FLEncoder_WriteString(enc, real_str("application/octet-stream"));
    FLEncoder_EndDict(enc);
    FLEncoder_EndDict(enc);
    FLSliceResult body = FLEncoder_Finish(enc, NULL);
    FLEncoder_Free(enc);
    C4SliceResult b = {body.buf, body.size};
    begin(db);
    put_doc(db, doc_id, b, kRevHasAttachments);
    commit(db);
    release_result(b);
    release_result(digest);
    free(data);
}

static C4Document *get_doc(C4Database *db, const char *doc_id) {
    C4Error err;
    memset(&err, 0, sizeof err);
    return c4coll_getDoc(real_default_collection(db), real_str(doc_id), true, kDocGetCurrentRev, &err);
}

bool real_blob_doc_matches(C4Database *db, const char *doc_id, size_t size, unsigned seed) {
    C4Document *doc = get_doc(db, doc_id);
    if (!doc) return false;
    bool ok = false;
    FLDict props = c4doc_getProperties(doc);
    FLDict photo = FLValue_AsDict(FLDict_Get(props, real_str("photo")));
    FLSlice digest = FLValue_AsString(FLDict_Get(photo, real_str("digest")));
    C4BlobKey key;
    C4Error err;
    memset(&err, 0, sizeof err);
    C4BlobStore *store = c4db_getBlobStore(db, &err);
    if (store && digest.buf && c4blob_keyFromString(digest, &key)) {
        C4SliceResult got = c4blob_getContents(store, key, &err);
        if (got.buf && got.size == size) {
            unsigned char *want = malloc(size ? size : 1);
            blob_pattern(want, size, seed);
            ok = memcmp(want, got.buf, size) == 0;
            free(want);
        }
        release_result(got);
    }
    c4doc_release(doc);
    return ok;
}

uint64_t real_doc_count(C4Database *db) {
    return c4coll_getDocumentCount(real_default_collection(db));
}

bool real_doc_has_n(C4Database *db, const char *doc_id, int64_t n) {
    C4Document *doc = get_doc(db, doc_id);
    if (!doc) return false;
    FLDict props = c4doc_getProperties(doc);
    bool ok = FLValue_AsInt(FLDict_Get(props, real_str("n"))) == n;
    c4doc_release(doc);
    return ok;
}

/* ---- replication ---- */

static void on_status(C4Replicator *repl, C4ReplicatorStatus status, void *context) {
    (void)repl;
    RealRepl *r = context;
    pthread_mutex_lock(&r->mu);
    r->level = status.level;
    r->docs = status.progress.documentCount;
    if (status.error.code) r->error = status.error;
    if (status.level == kC4Offline) r->went_offline = true;
    if (status.level == kC4Stopped) r->stopped = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void write_key(FLEncoder enc, const char *key) {
    FLEncoder_WriteKey(enc, real_str(key));
}

bool real_repl_start(RealRepl *r, C4Database *db, const char *url, const RealReplOptions *o) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    C4Address address;
    C4String remote_db;
    memset(&address, 0, sizeof address);
    if (!c4address_fromURL(real_str(url), &address, &remote_db)) {
        fprintf(stderr, "bad URL %s\n", url);
        return false;
    }
    FLEncoder enc = FLEncoder_New();
    FLEncoder_BeginDict(enc, 4);
    if (o->client_cert) {
        write_key(enc, kC4ReplicatorOptionAuthentication);
        FLEncoder_BeginDict(enc, 3);
        write_key(enc, kC4ReplicatorAuthType);
        FLEncoder_WriteString(enc, real_str(kC4AuthTypeClientCert));
        write_key(enc, kC4ReplicatorAuthClientCert);
        C4Slice c = {o->client_cert, o->client_cert_size};
        FLEncoder_WriteData(enc, c);
        write_key(enc, kC4ReplicatorAuthClientCertKey);
        C4Slice k = {o->client_key, o->client_key_size};
        FLEncoder_WriteData(enc, k);
        FLEncoder_EndDict(enc);
    } else if (o->user) {
        write_key(enc, kC4ReplicatorOptionAuthentication);
        FLEncoder_BeginDict(enc, 4);
        write_key(enc, kC4ReplicatorAuthType);
        FLEncoder_WriteString(enc, real_str(kC4AuthTypeBasic));
        write_key(enc, kC4ReplicatorAuthUserName);
        FLEncoder_WriteString(enc, real_str(o->user));
        write_key(enc, kC4ReplicatorAuthPassword);
        FLEncoder_WriteString(enc, real_str(o->password));
        if (o->challenge_auth) {
            write_key(enc, "challengeAuth");
            FLEncoder_WriteBool(enc, true);
        }
        FLEncoder_EndDict(enc);
    }
    if (o->pinned_cert) {
        write_key(enc, kC4ReplicatorOptionPinnedServerCert);
        C4Slice cert = {o->pinned_cert, o->pinned_cert_size};
        FLEncoder_WriteData(enc, cert);
    }
    if (o->max_retries >= 0) {
        write_key(enc, kC4ReplicatorOptionMaxRetries);
        FLEncoder_WriteInt(enc, o->max_retries);
    }
    FLEncoder_EndDict(enc);
    FLSliceResult options = FLEncoder_Finish(enc, NULL);
    FLEncoder_Free(enc);

    C4SocketFactory factory = lcws_c4_factory(db);
    C4ReplicationCollection coll;
    memset(&coll, 0, sizeof coll);
    coll.collection = kC4DefaultCollectionSpec;
    coll.push = o->push;
    coll.pull = o->pull;
    C4ReplicatorParameters params;
    memset(&params, 0, sizeof params);
    params.optionsDictFleece.buf = options.buf;
    params.optionsDictFleece.size = options.size;
    params.onStatusChanged = on_status;
    params.callbackContext = r;
    params.socketFactory = &factory;
    params.collections = &coll;
    params.collectionCount = 1;
    C4Error err;
    memset(&err, 0, sizeof err);
    r->repl = c4repl_new(db, address, remote_db, params, real_str("real-test"), &err);
    if (options.buf) _FLBuf_Release(options.buf);
    if (!r->repl) {
        fprintf(stderr, "c4repl_new: %s\n", real_error_text(err));
        return false;
    }
    c4repl_start(r->repl, false);
    return true;
}

bool real_repl_wait(RealRepl *r, double timeout_s, bool (*pred)(RealRepl *, void *), void *arg) {
    double deadline = real_now() + timeout_s;
    pthread_mutex_lock(&r->mu);
    while (!pred(r, arg)) {
        double left = deadline - real_now();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(left < 0.2 ? 0 : 0);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    bool ok = pred(r, arg);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static bool is_stopped(RealRepl *r, void *arg) {
    (void)arg;
    return r->stopped;
}

static bool is_idle(RealRepl *r, void *arg) {
    (void)arg;
    return r->stopped || r->level == kC4Idle;
}

bool real_repl_wait_stopped(RealRepl *r, double timeout_s) {
    return real_repl_wait(r, timeout_s, is_stopped, NULL);
}

bool real_repl_wait_idle(RealRepl *r, double timeout_s) {
    return real_repl_wait(r, timeout_s, is_idle, NULL);
}

void real_repl_stop_and_free(RealRepl *r) {
    if (!r->repl) return;
    c4repl_stop(r->repl);
    if (!real_repl_wait_stopped(r, 20)) fprintf(stderr, "a replicator did not stop within 20 s\n");
    c4repl_free(r->repl);
    r->repl = NULL;
}

/* ---- listener ---- */

static bool check_alice(LcwsC4Listener *listener, C4String database, C4String user, C4Slice password,
                        void *context) {
    (void)listener;
    (void)database;
    const char *want = context;
    return user.size == 5 && memcmp(user.buf, "alice", 5) == 0 && password.size == strlen(want) &&
           memcmp(password.buf, want, password.size) == 0;
}

LcwsC4Listener *real_listener_start_with(C4Database *db, const char *name, const LcwsC4ListenerConfig *config) {
    C4Error err;
    memset(&err, 0, sizeof err);
    LcwsC4Listener *l = lcws_c4listener_start(config, &err);
    if (!l) {
        fprintf(stderr, "lcws_c4listener_start: %s\n", real_error_text(err));
        exit(1);
    }
    if (!lcws_c4listener_shareDB(l, real_str(name), db, &err)) {
        fprintf(stderr, "lcws_c4listener_shareDB: %s\n", real_error_text(err));
        exit(1);
    }
    return l;
}

bool real_sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    printf("+ %s\n", cmd);
    fflush(stdout);
    return system(cmd) == 0;
}

void *real_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(buf, 1, n > 0 ? (size_t)n : 0, f);
    fclose(f);
    return buf;
}

LcwsC4Listener *real_listener_start(C4Database *db, const char *name, bool tls, const char *password) {
    LcwsC4ListenerConfig config;
    memset(&config, 0, sizeof config);
    config.networkInterface = real_str("127.0.0.1");
    config.disableTLS = !tls;
    config.allowPush = true;
    config.allowPull = true;
    if (password) {
        config.httpAuthCallback = check_alice;
        config.callbackContext = (void *)password;
    }
    C4Error err;
    memset(&err, 0, sizeof err);
    LcwsC4Listener *l = lcws_c4listener_start(&config, &err);
    if (!l) {
        fprintf(stderr, "lcws_c4listener_start: %s\n", real_error_text(err));
        exit(1);
    }
    if (!lcws_c4listener_shareDB(l, real_str(name), db, &err)) {
        fprintf(stderr, "lcws_c4listener_shareDB: %s\n", real_error_text(err));
        exit(1);
    }
    return l;
}

void real_listener_url(LcwsC4Listener *l, const char *name, bool tls, char *out, size_t size) {
    snprintf(out, size, "%s://127.0.0.1:%u/%s", tls ? "wss" : "ws", (unsigned)lcws_c4listener_getPort(l), name);
}
