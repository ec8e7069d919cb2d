// qt_replicate: a Qt console app that replicates a local LiteCore database with Sync Gateway,
// with litecore-ws as LiteCore's WebSocket transport; or, with --serve, shares the database with
// peers through litecore-ws's listener (Community Edition LiteCore has none of its own).
//
//   qt_replicate [--ca CA.pem] DBPATH ws[s]://host:4984/db USER PASSWORD
//   qt_replicate --serve [--port N] [--interface NAME] [--no-tls] DBPATH
//
// Exit status: 0 when the replication finished without error (--serve: when it stopped serving on
// SIGINT/SIGTERM), 1 when it failed (the error is printed as "{Domain, code} message"), 2 for bad
// arguments.
//
// What changes when a Qt app that had its own QWebSocket-based C4SocketFactory moves to
// litecore-ws (see README.md next to this file):
//   - the factory code goes away; registration is lcws_register_with_litecore() (below);
//   - replicators are created and started exactly as before (replicator_litecore.cpp);
//   - socket callbacks no longer run on the Qt thread but on litecore-ws's own threads, and
//     LiteCore's replicator callbacks on LiteCore's: anything that touches QObjects is moved to
//     the Qt thread with QMetaObject::invokeMethod(..., Qt::QueuedConnection) (SyncController).
// The Qt event loop keeps running the whole time: nothing here blocks it.
#include "litecore_ws_c4.h"  // LiteCore's c4.h, then litecore_ws.h; lcws_register_with_litecore()
#include "replicator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QMetaObject>
#include <QObject>
#include <QSocketNotifier>
#include <QThread>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <unistd.h>

#ifdef __linux__
#include <pthread.h>
#endif

namespace {

void say(const QString &line) {
    std::fputs(qPrintable(line + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

// The OS name of the calling thread ("lcws-worker", LiteCore's actor threads, ...), for the
// output only.
QString currentThreadName() {
#ifdef __linux__
    char name[32] = {0};
    if (pthread_getname_np(pthread_self(), name, sizeof name) == 0 && name[0]) return QString::fromUtf8(name);
#endif
    return QStringLiteral("?");
}

// Owns the replicator and lives on the Qt thread. The replicator's listener is called on other
// threads; it only copies the event and queues the real work (handle) to this object's thread.
class SyncController : public QObject {
public:
    explicit SyncController(ReplicatorConfig config) : m_config(std::move(config)) {}

    ~SyncController() override {
        // First the replicator: once it is gone no listener call can run, so no queued call can
        // target a destroyed object. (Queued calls still pending die with this QObject.)
        m_replicator.reset();
    }

    void start() {
        std::string error;
        m_replicator = Replicator::create(
                m_config,
                [this](const ReplicatorEvent &event) {
                    // A LiteCore or litecore-ws thread: no Qt objects are touched here.
                    const QString from = currentThreadName();
                    QMetaObject::invokeMethod(
                            this, [this, event, from] { handle(event, from); }, Qt::QueuedConnection);
                },
                &error);
        if (!m_replicator) {
            say(QStringLiteral("replication failed: %1").arg(QString::fromStdString(error)));
            QCoreApplication::exit(1);
            return;
        }
        // Proof that the event loop keeps running while the replicator works.
        QObject::connect(&m_ticker, &QTimer::timeout, this, [this] { ++m_ticks; });
        m_ticker.start(1);
        // A one-shot replication ends by itself; give up after a minute.
        QTimer::singleShot(60000, this, [this] {
            say(QStringLiteral("timeout: stopping the replicator"));
            if (m_replicator) m_replicator->stop();
        });
        m_replicator->start();
    }

private:
    // Runs on the Qt thread (queued by the listener).
    void handle(const ReplicatorEvent &event, const QString &from) {
        const bool onQtThread = QThread::currentThread() == thread();
        const QString where = QStringLiteral("(from thread '%1', handled on %2)")
                                      .arg(from, onQtThread ? QStringLiteral("the Qt thread")
                                                            : QStringLiteral("ANOTHER THREAD"));
        switch (event.kind) {
        case ReplicatorEvent::Status:
            say(QStringLiteral("status: %1 %2").arg(QString::fromStdString(event.text), where));
            break;
        case ReplicatorEvent::Progress:
            say(QStringLiteral("progress: %1 %2").arg(QString::fromStdString(event.text), where));
            break;
        case ReplicatorEvent::Stopped:
            m_ticker.stop();
            say(QStringLiteral("status: stopped %1").arg(where));
            say(QStringLiteral("Qt event loop: %1 ticks of a 1 ms timer while replicating").arg(m_ticks));
            if (event.errorCode != 0) {
                say(QStringLiteral("replication failed: {%1, %2} %3")
                            .arg(QString::fromUtf8(replicatorErrorDomainName(event.errorDomain)))
                            .arg(event.errorCode)
                            .arg(event.errorMessage.empty() ? QStringLiteral("(no message)")
                                                            : QString::fromStdString(event.errorMessage)));
                QCoreApplication::exit(1);
            } else {
                say(QStringLiteral("replication finished without error"));
                QCoreApplication::exit(0);
            }
            break;
        }
    }

    ReplicatorConfig m_config;
    std::unique_ptr<Replicator> m_replicator;
    QTimer m_ticker;
    int m_ticks = 0;
};

#ifdef LCWS_C4_HAS_LISTENER
// --serve: the listener and its status, on the Qt thread. The listener itself needs nothing from
// the Qt thread: it accepts on litecore-ws's threads and each connection's passive replicator runs
// on LiteCore's. This object only starts and stops it and polls its counters for the output.
class ServeController : public QObject {
public:
    ServeController(ServedDatabase *db, quint16 port, QString networkInterface, bool tls)
        : m_db(db), m_port(port), m_interface(std::move(networkInterface)), m_tls(tls) {}

    ~ServeController() override { stop(); }

    bool start() {
        // Enterprise's C4ListenerConfig, as litecore-ws's LcwsC4ListenerConfig: zero = defaults.
        const QByteArray iface = m_interface.toUtf8();
        LcwsC4ListenerConfig config{};
        config.port = m_port;                             // 0: any free port
        config.networkInterface.buf = iface.constData();  // empty: every interface
        config.networkInterface.size = static_cast<size_t>(iface.size());
        config.disableTLS = !m_tls;  // tlsConfig stays zero: an anonymous identity is generated
        config.allowPush = true;     // peers may push into the database
        config.allowPull = true;     // and pull from it
        C4Error err{};
        m_listener = lcws_c4listener_start(&config, &err);
        if (!m_listener) {
            say(QStringLiteral("cannot start the listener: %1").arg(errorText(err)));
            return false;
        }
        const std::string name = m_db->name();
        C4String shareName;
        shareName.buf = name.data();
        shareName.size = name.size();
        if (!lcws_c4listener_shareDB(m_listener, shareName, m_db->database(), &err)) {
            say(QStringLiteral("cannot share the database: %1").arg(errorText(err)));
            return false;
        }
        say(QStringLiteral("serving '%1' (%2 documents) on port %3 over %4")
                    .arg(QString::fromStdString(name))
                    .arg(m_db->documentCount())
                    .arg(lcws_c4listener_getPort(m_listener))
                    .arg(m_tls ? QStringLiteral("wss") : QStringLiteral("ws")));
        FLMutableArray urls = lcws_c4listener_getURLs(m_listener, m_db->database(), &err);
        const uint32_t n = urls ? FLArray_Count(urls) : 0;
        for (uint32_t i = 0; i < n; i++) {
            const FLString url = FLValue_AsString(FLArray_Get(urls, i));
            say(QStringLiteral("URL: %1")
                        .arg(QString::fromUtf8(static_cast<const char *>(url.buf), static_cast<int>(url.size))));
        }
        FLValue_Release(reinterpret_cast<FLValue>(urls));
        // Peers pin this certificate (replicator option pinnedCert) or compare its fingerprint.
        const C4Slice cert = lcws_c4listener_getCertificate(m_listener);
        if (cert.size) {
            const QByteArray der = QByteArray::fromRawData(static_cast<const char *>(cert.buf),
                                                           static_cast<int>(cert.size));
            say(QStringLiteral("certificate SHA-256: %1")
                        .arg(QString::fromLatin1(QCryptographicHash::hash(der, QCryptographicHash::Sha256)
                                                         .toHex(':')
                                                         .toUpper())));
        }
        say(QStringLiteral("serving until interrupted (Ctrl-C)"));
        QObject::connect(&m_poll, &QTimer::timeout, this, [this] { poll(); });
        m_poll.start(250);
        return true;
    }

    // Stops serving: closes the peers' sockets (4001: they retry later), waits for their
    // replicators and releases the database. Call before the database is closed.
    void stop() {
        if (!m_listener) return;
        m_poll.stop();
        lcws_c4listener_free(m_listener);
        m_listener = nullptr;
        say(QStringLiteral("stopped serving"));
    }

private:
    void poll() {
        unsigned connections = 0, active = 0;
        lcws_c4listener_getConnectionStatus(m_listener, &connections, &active);
        const unsigned long long docs = m_db->documentCount();
        if (connections == m_connections && active == m_active && docs == m_docs) return;
        m_connections = connections;
        m_active = active;
        m_docs = docs;
        say(QStringLiteral("connections: %1 (%2 active), documents: %3").arg(connections).arg(active).arg(docs));
    }

    static QString errorText(const C4Error &err) {
        return QStringLiteral("{%1, %2} %3")
                .arg(QString::fromUtf8(replicatorErrorDomainName(static_cast<int>(err.domain))))
                .arg(err.code)
                .arg(QString::fromStdString(errorMessageOf(err)));
    }

    ServedDatabase *m_db;
    quint16 m_port;
    QString m_interface;
    bool m_tls;
    LcwsC4Listener *m_listener = nullptr;
    QTimer m_poll;
    unsigned m_connections = ~0u, m_active = ~0u;
    unsigned long long m_docs = ~0ull;
};

// SIGINT/SIGTERM end the event loop: the handler only writes to a pipe, which a QSocketNotifier
// watches on the Qt thread (the usual way to turn Unix signals into Qt events).
int g_signalPipe[2] = {-1, -1};

void onSignal(int) {
    const char c = 1;
    const ssize_t r = ::write(g_signalPipe[1], &c, 1);
    (void)r;
}

int serve(const QString &dbPath, quint16 port, const QString &networkInterface, bool tls) {
    std::string error;
    std::unique_ptr<ServedDatabase> db = ServedDatabase::open(dbPath.toStdString(), &error);
    if (!db) {
        say(QStringLiteral("cannot open %1: %2").arg(dbPath, QString::fromStdString(error)));
        return 1;
    }
    if (::pipe(g_signalPipe) != 0) {
        std::perror("pipe");
        return 1;
    }
    QSocketNotifier notifier(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, [] {
        say(QStringLiteral("interrupted"));
        QCoreApplication::quit();
    });
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    int rc = 0;
    {
        ServeController server(db.get(), port, networkInterface, tls);
        if (!server.start()) return 1;
        rc = QCoreApplication::exec();
        server.stop();  // before the database closes
    }
    db.reset();
    return rc;
}
#endif

}  // namespace

const char *replicatorErrorDomainName(int domain) {
    switch (domain) {
    case 1: return "LiteCore";
    case 2: return "POSIX";
    case 3: return "SQLite";
    case 4: return "Fleece";
    case 5: return "Network";
    case 6: return "WebSocket";
    case 7: return "MbedTLS";
    default: return "?";
    }
}

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("qt_replicate"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Replicates DBPATH with Sync Gateway through litecore-ws, or (--serve) shares it with peers."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption caOption(QStringLiteral("ca"), QStringLiteral("Trust only this CA (PEM or DER)."),
                                      QStringLiteral("CA.pem"));
    parser.addOption(caOption);
    const QCommandLineOption serveOption(QStringLiteral("serve"),
                                         QStringLiteral("Share DBPATH with peers (litecore-ws's listener) until interrupted."));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("--serve: the port (default: any free one)."),
                                        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption interfaceOption(QStringLiteral("interface"),
                                             QStringLiteral("--serve: an interface name or address (default: every interface)."),
                                             QStringLiteral("NAME"));
    const QCommandLineOption noTlsOption(QStringLiteral("no-tls"), QStringLiteral("--serve: plain ws instead of wss."));
    parser.addOption(serveOption);
    parser.addOption(portOption);
    parser.addOption(interfaceOption);
    parser.addOption(noTlsOption);
    parser.addPositionalArgument(QStringLiteral("DBPATH"), QStringLiteral("local database, e.g. ./todo.cblite2"));
    parser.addPositionalArgument(QStringLiteral("URL"), QStringLiteral("ws[s]://host:4984/db"));
    parser.addPositionalArgument(QStringLiteral("USER"), QStringLiteral("Sync Gateway user"));
    parser.addPositionalArgument(QStringLiteral("PASSWORD"), QStringLiteral("its password"));
    const bool parsed = parser.parse(QCoreApplication::arguments());
    if (parsed && parser.isSet(helpOption)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    const bool serving = parsed && parser.isSet(serveOption);
    if (!parsed || parser.positionalArguments().size() != (serving ? 1 : 4)) {
        std::fprintf(stderr, "%s\n", qPrintable(parser.errorText().isEmpty() ? parser.helpText() : parser.errorText()));
        return 2;
    }
    const QStringList args = parser.positionalArguments();
    if (serving) {
#ifdef LCWS_C4_HAS_LISTENER
        bool portOk = false;
        const uint port = parser.value(portOption).toUInt(&portOk);
        if (!portOk || port > 65535) {
            std::fprintf(stderr, "--port: not a port number\n");
            return 2;
        }
        say(QStringLiteral("litecore-ws %1: serving %2").arg(QString::fromUtf8(lcws_version()), args[0]));
        const int rc = serve(args[0], static_cast<quint16>(port), parser.value(interfaceOption), !parser.isSet(noTlsOption));
        const LcwsStatus st = lcws_shutdown();
        if (st != LCWS_STATUS_OK) std::fprintf(stderr, "lcws_shutdown: status %d\n", static_cast<int>(st));
        return rc;
#else
        std::fprintf(stderr, "--serve needs LiteCore 3.1 or later (collections)\n");
        return 2;
#endif
    }
    ReplicatorConfig config;
    config.dbPath = args[0].toStdString();
    config.url = args[1].toStdString();
    config.username = args[2].toStdString();
    config.password = args[3].toStdString();
    if (parser.isSet(caOption)) {
        QFile ca(parser.value(caOption));
        if (!ca.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "cannot read %s\n", qPrintable(ca.fileName()));
            return 2;
        }
        config.rootCerts = ca.readAll().toStdString();
    }

    // ---- The switch to litecore-ws ------------------------------------------------------------
    // Before, the app registered its own transport here:
    //     c4socket_registerFactory(QtWebSocketFactory::c4Factory());   // QWebSocket on this thread
    // Now one call, once, before the first replicator: the host table from LiteCore's functions
    // and the global factory (kC4NoFraming, close = NULL). A second call never registers twice.
    // (For SG's cookies per database, give each replicator lcws_c4_factory(db) instead.)
    if (!lcws_register_with_litecore()) {
        std::fprintf(stderr, "litecore-ws could not be registered (its log says why)\n");
        return 1;
    }
    say(QStringLiteral("litecore-ws %1 registered as LiteCore's WebSocket transport")
                .arg(QString::fromUtf8(lcws_version())));
    say(QStringLiteral("replicating %1 <-> %2 as %3 (Basic)")
                .arg(args[0], args[1], args[2]));

    int rc;
    {
        SyncController sync(config);
        QTimer::singleShot(0, &sync, [&sync] { sync.start(); });
        rc = QCoreApplication::exec();
    }  // the replicator is freed here, on the Qt thread

    // Optional, before unloading litecore-ws: closes what is left and stops its threads.
    const LcwsStatus st = lcws_shutdown();
    if (st != LCWS_STATUS_OK) std::fprintf(stderr, "lcws_shutdown: status %d\n", static_cast<int>(st));
    return rc;
}
