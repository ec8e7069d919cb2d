// What the Qt app needs from LiteCore's replicator, as a small C++ interface with two
// implementations:
//   replicator_litecore.cpp  LiteCore's own replicator (c4repl_*), built when CMake finds LiteCore
//                            (-DLITECORE_ROOT=...);
//   replicator_fake.cpp      CI without LiteCore: the C tests' fake LiteCore plays the replicator's
//                            part of one socket (open with auth options, one message through SG's
//                            echo, close), through the factory the app registered.
// main.cpp is the same in both builds. Neither implementation uses Qt: the point of the example is
// that events arrive on threads that are not the Qt thread, and main.cpp moves them there.
#ifndef LCWS_QT_EXAMPLE_REPLICATOR_H
#define LCWS_QT_EXAMPLE_REPLICATOR_H

#include <functional>
#include <memory>
#include <string>

struct ReplicatorConfig {
    std::string dbPath;     // local database, e.g. ./todo.cblite2 (the fake opens none)
    std::string url;        // ws[s]://host:port/db
    std::string username;   // Basic credentials: auth = {type: Basic, username, password}
    std::string password;
    std::string rootCerts;  // PEM/DER bytes for the `rootCerts` option; empty: default trust
};

struct ReplicatorEvent {
    enum Kind { Status, Progress, Stopped };
    Kind kind = Status;
    std::string text;           // "connecting", "busy", "documents completed: 3 pushed", ...
    // Stopped only: the final error ({0, 0} = none), as LiteCore's C4Error.
    int errorDomain = 0;
    int errorCode = 0;
    std::string errorMessage;
};

// Called on the replicator's (LiteCore's or litecore-ws's) threads, never on the Qt thread.
using ReplicatorListener = std::function<void(const ReplicatorEvent &)>;

class Replicator {
public:
    // Creates a push+pull one-shot replicator that uses the socket factory registered globally
    // (lcws_register_with_litecore()). Returns nullptr and sets *error when that fails.
    static std::unique_ptr<Replicator> create(const ReplicatorConfig &config, ReplicatorListener listener,
                                              std::string *error);
    virtual ~Replicator() = default;  // no listener call runs or starts once it returned
    virtual void start() = 0;
    virtual void stop() = 0;          // asks it to stop; a Stopped event follows
};

// "LiteCore", "Network", "WebSocket", ... for a C4ErrorDomain value.
const char *replicatorErrorDomainName(int domain);

// LiteCore's message for an error (c4error_getMessage); the fake has none.
struct C4Error;
std::string errorMessageOf(const C4Error &error);

// --serve: the database the app shares with peers through litecore-ws's listener (main.cpp starts
// the listener with the glue header's lcws_c4listener_* calls). Two implementations as above:
// replicator_litecore.cpp opens a real database; replicator_fake.cpp (CI) stands in for one.
struct C4Database;

class ServedDatabase {
public:
    // Opens (creates when missing) `path`, e.g. ./todo.cblite2. Returns nullptr and sets *error
    // when that fails.
    static std::unique_ptr<ServedDatabase> open(const std::string &path, std::string *error);
    virtual ~ServedDatabase() = default;  // closes it; stop sharing it first
    virtual C4Database *database() const = 0;
    virtual std::string name() const = 0;             // "todo" for ./todo.cblite2: the share's name
    virtual unsigned long long documentCount() const = 0;  // its default collection's
};

#endif
