// qt_replicate: a Qt console app that replicates a local LiteCore database with Sync Gateway,
// with litecore-ws as LiteCore's WebSocket transport.
//
//   qt_replicate [--ca CA.pem] DBPATH ws[s]://host:4984/db USER PASSWORD
//
// Exit status: 0 when the replication finished without error, 1 when it failed (the error is
// printed as "{Domain, code} message"), 2 for bad arguments.
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
#include <QFile>
#include <QMetaObject>
#include <QObject>
#include <QThread>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <string>

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
    parser.setApplicationDescription(QStringLiteral("Replicates DBPATH with Sync Gateway through litecore-ws."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption caOption(QStringLiteral("ca"), QStringLiteral("Trust only this CA (PEM or DER)."),
                                      QStringLiteral("CA.pem"));
    parser.addOption(caOption);
    parser.addPositionalArgument(QStringLiteral("DBPATH"), QStringLiteral("local database, e.g. ./todo.cblite2"));
    parser.addPositionalArgument(QStringLiteral("URL"), QStringLiteral("ws[s]://host:4984/db"));
    parser.addPositionalArgument(QStringLiteral("USER"), QStringLiteral("Sync Gateway user"));
    parser.addPositionalArgument(QStringLiteral("PASSWORD"), QStringLiteral("its password"));
    const bool parsed = parser.parse(QCoreApplication::arguments());
    if (parsed && parser.isSet(helpOption)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (!parsed || parser.positionalArguments().size() != 4) {
        std::fprintf(stderr, "%s\n", qPrintable(parser.errorText().isEmpty() ? parser.helpText() : parser.errorText()));
        return 2;
    }
    const QStringList args = parser.positionalArguments();
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
