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

#endif
