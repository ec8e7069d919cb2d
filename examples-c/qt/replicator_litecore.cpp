// Replicator with LiteCore's own replicator (LiteCore 3.2+ / 4.x C API), and the database that
// --serve shares (LiteCoreServedDatabase). Built when CMake finds
// LiteCore (-DLITECORE_ROOT=...); without it CI only compiles this file against declarations of
// that API (tests/c/examples/litecore_api).
//
// Nothing here is specific to litecore-ws: the replicator is created and started exactly as it was
// with the app's former QWebSocket factory. `params.socketFactory` stays NULL, so LiteCore uses the
// factory registered globally by lcws_register_with_litecore() (main.cpp). To have litecore-ws
// keep SG's cookies in the database, set `params.socketFactory` to a factory made by
// lcws_c4_factory(db) instead (litecore_ws_c4.h).
#include "replicator.h"

#include "c4.h"

#include <cstdio>
#include <cstring>

namespace {

const char *levelName(C4ReplicatorActivityLevel level) {
    static const char *const names[] = {"stopped", "offline", "connecting", "idle", "busy", "stopping"};
    const int i = static_cast<int>(level);
    return (i >= 0 && i < 6) ? names[i] : "?";
}

std::string messageOf(C4Error err) {
    FLSliceResult msg = c4error_getMessage(err);
    std::string text(static_cast<const char *>(msg.buf), msg.size);
    FLSliceResult_Release(msg);
    return text;
}

void writeString(FLEncoder enc, const char *key, const std::string &value) {
    FLEncoder_WriteKey(enc, FLStr(key));
    FLSlice v;
    v.buf = value.data();
    v.size = value.size();
    FLEncoder_WriteString(enc, v);
}

// "dir/name.cblite2" -> "dir", "name" (c4db_openNamed's form).
void splitDbPath(const std::string &path, std::string *dir, std::string *name) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const size_t slash = p.rfind('/');
    *dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
    *name = slash == std::string::npos ? p : p.substr(slash + 1);
    const std::string ext = ".cblite2";
    if (name->size() > ext.size() && name->compare(name->size() - ext.size(), ext.size(), ext) == 0)
        name->resize(name->size() - ext.size());
}

class LiteCoreReplicator : public Replicator {
public:
    explicit LiteCoreReplicator(ReplicatorListener listener) : m_listener(std::move(listener)) {}

    ~LiteCoreReplicator() override {
        c4repl_free(m_repl);  // stops it; LiteCore makes no callback after this returns
        FLSliceResult_Release(m_options);
        if (m_db) {
            C4Error err{};
            if (!c4db_close(m_db, &err)) std::fprintf(stderr, "closing the database: %s\n", messageOf(err).c_str());
            c4db_release(m_db);
        }
    }

    bool open(const ReplicatorConfig &config, std::string *error) {
        C4Error err{};
        std::string dir, name;
        splitDbPath(config.dbPath, &dir, &name);
        C4DatabaseConfig2 dbConfig{};
        dbConfig.parentDirectory = FLStr(dir.c_str());
        dbConfig.flags = kC4DB_Create;
        m_db = c4db_openNamed(FLStr(name.c_str()), &dbConfig, &err);
        if (!m_db) {
            *error = "cannot open the database: " + messageOf(err);
            return false;
        }

        m_url = config.url;
        C4Address address{};
        C4String remoteDb{};
        if (!c4address_fromURL(FLStr(m_url.c_str()), &address, &remoteDb)) {
            *error = "LiteCore cannot parse the URL " + m_url;
            return false;
        }

        // The replicator's options: auth (Basic) and, for a private CA, rootCerts.
        FLEncoder enc = FLEncoder_New();
        FLEncoder_BeginDict(enc, 2);
        FLEncoder_WriteKey(enc, FLStr(kC4ReplicatorOptionAuthentication));
        FLEncoder_BeginDict(enc, 3);
        writeString(enc, kC4ReplicatorAuthType, kC4AuthTypeBasic);
        writeString(enc, kC4ReplicatorAuthUserName, config.username);
        writeString(enc, kC4ReplicatorAuthPassword, config.password);
        FLEncoder_EndDict(enc);
        if (!config.rootCerts.empty()) {
            FLSlice certs;
            certs.buf = config.rootCerts.data();
            certs.size = config.rootCerts.size();
            FLEncoder_WriteKey(enc, FLStr(kC4ReplicatorOptionRootCerts));
            FLEncoder_WriteData(enc, certs);
        }
        FLEncoder_EndDict(enc);
        m_options = FLEncoder_Finish(enc, nullptr);
        FLEncoder_Free(enc);
        if (!m_options.buf) {
            *error = "cannot encode the replicator options";
            return false;
        }

        C4ReplicationCollection collection{};
        collection.collection.name = FLStr("_default");
        collection.collection.scope = FLStr("_default");
        collection.push = kC4OneShot;
        collection.pull = kC4OneShot;

        C4ReplicatorParameters params{};
        params.optionsDictFleece.buf = m_options.buf;
        params.optionsDictFleece.size = m_options.size;
        params.onStatusChanged = &LiteCoreReplicator::onStatusChanged;
        params.onDocumentsEnded = &LiteCoreReplicator::onDocumentsEnded;
        params.callbackContext = this;
        params.socketFactory = nullptr;  // the global one: litecore-ws
        params.collections = &collection;
        params.collectionCount = 1;
        m_repl = c4repl_new(m_db, address, remoteDb, params, FLStr("qt"), &err);
        if (!m_repl) {
            *error = "{" + std::string(replicatorErrorDomainName(static_cast<int>(err.domain))) + ", " +
                     std::to_string(err.code) + "} " + messageOf(err);
            return false;
        }
        // Per-document callbacks for successes too, not only errors.
        if (!c4repl_setProgressLevel(m_repl, kC4ReplProgressPerDocument, &err))
            std::fprintf(stderr, "progress level: %s\n", messageOf(err).c_str());
        return true;
    }

    void start() override { c4repl_start(m_repl, false); }
    void stop() override { c4repl_stop(m_repl); }

private:
    // LiteCore's threads.
    static void onStatusChanged(C4Replicator *, C4ReplicatorStatus status, void *context) {
        auto *self = static_cast<LiteCoreReplicator *>(context);
        ReplicatorEvent e;
        e.kind = status.level == kC4Stopped ? ReplicatorEvent::Stopped : ReplicatorEvent::Status;
        e.text = std::string(levelName(status.level)) + ", " + std::to_string(status.progress.documentCount) +
                 " documents so far";
        if (status.error.code != 0) {
            e.errorDomain = static_cast<int>(status.error.domain);
            e.errorCode = status.error.code;
            e.errorMessage = messageOf(status.error);
            if (e.kind != ReplicatorEvent::Stopped) e.text += " (" + e.errorMessage + ", will retry)";
        }
        self->m_listener(e);
    }

    static void onDocumentsEnded(C4Replicator *, bool pushing, size_t numDocs, const C4DocumentEnded *docs[],
                                 void *context) {
        auto *self = static_cast<LiteCoreReplicator *>(context);
        size_t failed = 0;
        for (size_t i = 0; i < numDocs; i++)
            if (docs[i]->error.code != 0) failed++;
        ReplicatorEvent e;
        e.kind = ReplicatorEvent::Progress;
        e.text = "documents completed: " + std::to_string(numDocs - failed) + (pushing ? " pushed" : " pulled");
        if (failed) e.text += ", " + std::to_string(failed) + " failed";
        self->m_listener(e);
    }

    ReplicatorListener m_listener;
    std::string m_url;  // remoteDb points into it
    C4Database *m_db = nullptr;
    C4Replicator *m_repl = nullptr;
    FLSliceResult m_options{};
};

// --serve: a real database, opened (created) here and closed when destroyed.
class LiteCoreServedDatabase : public ServedDatabase {
public:
    ~LiteCoreServedDatabase() override {
        if (!m_db) return;
        C4Error err{};
        if (!c4db_close(m_db, &err)) std::fprintf(stderr, "closing the database: %s\n", messageOf(err).c_str());
        c4db_release(m_db);
    }

    bool open(const std::string &path, std::string *error) {
        std::string dir;
        splitDbPath(path, &dir, &m_name);
        C4DatabaseConfig2 config{};
        config.parentDirectory = FLStr(dir.c_str());
        config.flags = kC4DB_Create;
        C4Error err{};
        m_db = c4db_openNamed(FLStr(m_name.c_str()), &config, &err);
        if (!m_db) *error = messageOf(err);
        return m_db != nullptr;
    }

    C4Database *database() const override { return m_db; }
    std::string name() const override { return m_name; }
    unsigned long long documentCount() const override {
        C4Error err{};
        C4Collection *coll = c4db_getDefaultCollection(m_db, &err);
        return coll ? c4coll_getDocumentCount(coll) : 0;
    }

private:
    C4Database *m_db = nullptr;
    std::string m_name;
};

}  // namespace

std::unique_ptr<ServedDatabase> ServedDatabase::open(const std::string &path, std::string *error) {
    std::unique_ptr<LiteCoreServedDatabase> db(new LiteCoreServedDatabase);
    if (!db->open(path, error)) return nullptr;
    return std::unique_ptr<ServedDatabase>(db.release());
}

std::string errorMessageOf(const C4Error &error) { return messageOf(error); }

std::unique_ptr<Replicator> Replicator::create(const ReplicatorConfig &config, ReplicatorListener listener,
                                               std::string *error) {
    std::unique_ptr<LiteCoreReplicator> r(new LiteCoreReplicator(std::move(listener)));
    if (!r->open(config, error)) return nullptr;
    return std::unique_ptr<Replicator>(r.release());
}
