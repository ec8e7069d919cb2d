// Replicator for CI, where LiteCore is not available: the C tests' fake LiteCore
// (tests/c/harness/fake_litecore.*, a shared library exporting LiteCore's socket functions with
// LiteCore's ABI) plays the replicator's part of one socket, as tests/c/examples/replicate_harness.c
// does for the C examples. Unlike that harness it goes through the factory the app registered with
// lcws_register_with_litecore() (the glue header's thunks and host table), because the fake keeps
// the factory given to c4socket_registerFactory:
//   - the options dict is what LiteCore hands the factory's `open`: `auth` {Basic}, `rootCerts`,
//     and the `WS-Protocols` LiteCore adds; the path is LiteCore's "/db/_blipsync";
//   - after `opened`, one binary message goes out and must come back through SG's echo (in place of
//     BLIP), then requestClose(1000) and exactly one `closed`;
//   - events go to the listener from this replicator's own thread ("fake-repl") and, for received
//     messages, from inside c4socket_received, i.e. on litecore-ws's thread ("lcws-worker").
// The fake checks LiteCore's socket contract on every call; a violation fails the run.
//
// --serve: the fake has no database and cannot run a passive replicator. FakeServedDatabase stands
// in for the database, and the LiteCore functions the listener glue calls besides the socket ones
// are defined below (the database's flags, retain/release, Fleece's mutable array for the URLs);
// c4socket_fromNative returns NULL, so a peer that connects is answered 503 by litecore-ws after
// the glue's accept gave up. Everything else of the serve mode runs for real: the listener, wss
// with the generated identity, the URLs, the fingerprint, the share (404 for another database),
// the status polling and the shutdown on SIGINT.
#include "replicator.h"

#include "example_flow.h"  // example_parse_url (examples-c/common)
#include "fake_litecore.h"
extern "C" {
#include "fleece_build.h"  // fl_encode: the options dict (exported by the fake library)
}

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#ifdef __linux__
#include <pthread.h>
#endif

// ---- LiteCore's log, which the glue header's host table routes litecore-ws's lines to ----------
// (the fake library has no c4log; these two definitions stand in for libLiteCore's.)
extern "C" {
struct c4LogDomain {
    const char *name;
};
static c4LogDomain g_webSocketLogDomain = {"WS"};
extern c4LogDomain *const kC4WebSocketLog;
c4LogDomain *const kC4WebSocketLog = &g_webSocketLogDomain;
void c4log(c4LogDomain *domain, int8_t level, const char *fmt, ...) noexcept;
void c4log(c4LogDomain *domain, int8_t level, const char *fmt, ...) noexcept {
    static const char *const names[] = {"Debug", "Verbose", "Info", "WARNING", "ERROR"};
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "[LiteCore %s %s] %s\n", domain ? domain->name : "?",
                 (level >= 0 && level <= 4) ? names[level] : "?", line);
}
}

namespace {

constexpr int kTimeoutMs = 20000;
constexpr const char *kProtocols = "BLIP_3+CBMobile_3";  // what LiteCore 3.x/4.x offers SG

class FakeReplicator;
std::mutex g_currentMutex;
FakeReplicator *g_current = nullptr;  // the replicator whose socket c4socket_received serves

class FakeReplicator : public Replicator {
public:
    FakeReplicator(const ReplicatorConfig &config, const ExampleUrl &url, ReplicatorListener listener)
        : m_config(config), m_url(url), m_listener(std::move(listener)) {}

    ~FakeReplicator() override {
        if (m_thread.joinable()) m_thread.join();
        std::lock_guard<std::mutex> lock(g_currentMutex);
        if (g_current == this) {
            fake_set_received_hook(nullptr);
            g_current = nullptr;
        }
    }

    void start() override { m_thread = std::thread([this] { run(); }); }
    void stop() override { m_stopRequested = true; }

private:
    void emit(ReplicatorEvent::Kind kind, std::string text) {
        ReplicatorEvent e;
        e.kind = kind;
        e.text = std::move(text);
        m_listener(e);
    }

    void stopped(const FakeSocketState *st, std::string problem) {
        ReplicatorEvent e;
        e.kind = ReplicatorEvent::Stopped;
        if (st && st->closed_error.code != 0) {
            e.errorDomain = st->closed_error.domain;
            e.errorCode = st->closed_error.code;
            e.errorMessage = st->closed_message;
        } else if (!problem.empty()) {
            e.errorDomain = 1;  // LiteCore
            e.errorCode = 1;    // kC4ErrorAssertionFailed: the harness saw a problem
            e.errorMessage = std::move(problem);
        }
        m_listener(e);
    }

    // LiteCore "processing" a received message, on litecore-ws's thread.
    static void onReceived(C4Socket *, size_t size) {
        std::lock_guard<std::mutex> lock(g_currentMutex);
        if (g_current) g_current->emit(ReplicatorEvent::Progress, "received a message of " + std::to_string(size) + " bytes");
    }

    // LiteCore drops its reference; checks the contract as replicate_harness.c does.
    static std::string finish(C4Socket *s, FakeSocketState *st) {
        std::string problem;
        if (!fake_wait_refcount(s, 1, 5000)) problem = "litecore-ws did not release the socket";
        fake_socket_drop(s);
        if (!fake_wait_disposed(s, 5000) && problem.empty()) problem = "the socket was not disposed";
        *st = fake_socket_state(s);
        fake_socket_free(s);
        if (st->violations) problem = std::string("socket contract violation: ") + st->first_violation;
        else if (st->closed_calls != 1) problem = "closed was called " + std::to_string(st->closed_calls) + " times";
        return problem;
    }

    void run() {
#ifdef __linux__
        pthread_setname_np(pthread_self(), "fake-repl");
#endif
        {
            std::lock_guard<std::mutex> lock(g_currentMutex);
            g_current = this;
            fake_set_received_hook(&FakeReplicator::onReceived);
        }
        char path[600];
        std::snprintf(path, sizeof path, "%s/_blipsync", m_url.path);
        emit(ReplicatorEvent::Status, std::string("connecting to ") + m_url.scheme + "://" + m_url.host + ":" +
                                              std::to_string(m_url.port) + path);

        // The options dict LiteCore passes to the factory's open.
        FlEntry auth[3] = {FL_S("password", m_config.password.c_str()), FL_S("type", "Basic"),
                           FL_S("username", m_config.username.c_str())};
        std::vector<FlEntry> opts;
        opts.push_back(FlEntry FL_S("WS-Protocols", kProtocols));
        opts.push_back(FlEntry{"auth", FL_DICT, nullptr, 0, 0, auth, 3});
        if (!m_config.rootCerts.empty())
            opts.push_back(FlEntry FL_D("rootCerts", m_config.rootCerts.data(), m_config.rootCerts.size()));
        size_t optsSize = 0;
        unsigned char *encoded = fl_encode(opts.data(), opts.size(), &optsSize);

        C4Socket *s = fake_socket_new();
        fake_socket_open(s, m_url.scheme, m_url.host, m_url.port, path, encoded, optsSize);
        std::free(encoded);

        FakeSocketState st;
        if (!fake_wait_opened(s, kTimeoutMs)) {
            if (!fake_wait_closed(s, kTimeoutMs)) {
                stopped(nullptr, "neither opened nor closed in time");
                return;  // the socket is left to the process exit
            }
            std::string problem = finish(s, &st);
            emit(ReplicatorEvent::Status, "offline (HTTP " + std::to_string(st.http_status) + ")");
            stopped(&st, problem);
            return;
        }
        st = fake_socket_state(s);
        emit(ReplicatorEvent::Status, "busy (HTTP " + std::to_string(st.http_status) + ", subprotocol " +
                                              (fake_socket_headers_contain(s, kProtocols) ? kProtocols : "?") + ")");

        std::string problem;
        if (!m_stopRequested) {
            // One binary message through SG's echo, in place of the BLIP conversation.
            unsigned char msg[1024];
            for (size_t i = 0; i < sizeof msg; i++) msg[i] = static_cast<unsigned char>((i * 131 + 7) % 251);
            msg[0] = 0x01;  // never looks like a stand-in "!cmd "
            fake_socket_write(s, msg, sizeof msg);
            size_t gotSize = 0;
            unsigned char *got = static_cast<unsigned char *>(fake_socket_next_message(s, kTimeoutMs, &gotSize));
            const bool echoed = got && gotSize == sizeof msg && std::memcmp(got, msg, sizeof msg) == 0;
            std::free(got);
            const bool written = fake_wait_written(s, sizeof msg, kTimeoutMs);
            emit(ReplicatorEvent::Progress, echoed ? "message echoed byte-exact" : "ECHO MISMATCH");
            if (!echoed || !written) problem = "the message did not come back through the echo";
        }

        emit(ReplicatorEvent::Status, "stopping");
        fake_socket_request_close(s, 1000, "");
        if (!fake_wait_closed(s, kTimeoutMs)) {
            stopped(nullptr, "not closed in time after requestClose(1000)");
            return;
        }
        std::string finished = finish(s, &st);
        if (problem.empty()) problem = finished;
        if (problem.empty() && fake_outstanding_buffers() != 0) problem = "write buffers were never released";
        stopped(&st, problem);
    }

    ReplicatorConfig m_config;
    ExampleUrl m_url;
    ReplicatorListener m_listener;
    std::thread m_thread;
    std::atomic<bool> m_stopRequested{false};
};

// --serve's database in CI: nothing behind it (the glue only passes the pointer around).
class FakeServedDatabase : public ServedDatabase {
public:
    explicit FakeServedDatabase(std::string name) : m_name(std::move(name)) {}
    C4Database *database() const override {
        return reinterpret_cast<C4Database *>(const_cast<char *>(&m_storage));
    }
    std::string name() const override { return m_name; }
    unsigned long long documentCount() const override { return 0; }

private:
    std::string m_name;
    char m_storage = 0;
};

// Fleece's mutable array of strings, enough for lcws_c4listener_getURLs and reading it.
struct FakeArray {
    std::vector<std::string> items;
};

[[noreturn]] void notInTheFake(const char *fn) {
    std::fprintf(stderr, "%s: the fake LiteCore cannot run a replicator\n", fn);
    std::abort();
}

}  // namespace

// What the listener glue calls in libLiteCore besides the socket functions (C linkage, LiteCore's
// ABI with litecore-ws's mirror types; see the comment at the top).
extern "C" {
struct FakeDatabaseConfig2 {  // C4DatabaseConfig2
    LcwsSlice parentDirectory;
    uint32_t flags;  // no kC4DB_VersionVectors: the share speaks BLIP_3+CBMobile_3
    uint32_t encryptionAlgorithm;
    uint8_t encryptionKey[32];
};
struct FakeReplicatorParameters {  // C4ReplicatorParameters, by value (never looked at)
    unsigned char bytes[88];
};
const FakeDatabaseConfig2 *c4db_getConfig2(void *) noexcept;
void *c4base_retain(void *obj) noexcept;
void c4base_release(void *obj) noexcept;
void *c4repl_newWithSocket(void *, C4Socket *, FakeReplicatorParameters, LcwsSlice, LcwsError *) noexcept;
void c4repl_start(void *, bool) noexcept;
void c4repl_free(void *) noexcept;
void *FLMutableArray_New(void) noexcept;
void *FLMutableArray_Append(void *array) noexcept;
void FLSlot_SetString(void *slot, LcwsSlice s) noexcept;
uint32_t FLArray_Count(const void *array) noexcept;
const void *FLArray_Get(const void *array, uint32_t index) noexcept;
LcwsSlice FLValue_AsString(const void *value) noexcept;
void FLValue_Release(const void *value) noexcept;

const FakeDatabaseConfig2 *c4db_getConfig2(void *) noexcept {
    static const FakeDatabaseConfig2 config{};
    return &config;
}
void *c4base_retain(void *obj) noexcept { return obj; }
void c4base_release(void *) noexcept {}
// The fake LiteCore library has a c4socket_fromNative of its own (for the listener tests); this
// app's definition takes precedence for this program, which cannot run a replicator anyway:
// no socket is made, so the glue answers the client 503.
C4Socket *c4socket_fromNative(FakeSocketFactory, void *, const LcwsAddress *) { return nullptr; }
void *c4repl_newWithSocket(void *, C4Socket *, FakeReplicatorParameters, LcwsSlice, LcwsError *) noexcept {
    notInTheFake("c4repl_newWithSocket");
}
void c4repl_start(void *, bool) noexcept { notInTheFake("c4repl_start"); }
void c4repl_free(void *) noexcept { notInTheFake("c4repl_free"); }
void *FLMutableArray_New(void) noexcept { return new FakeArray; }
void *FLMutableArray_Append(void *array) noexcept {
    auto *a = static_cast<FakeArray *>(array);
    a->items.emplace_back();
    return &a->items.back();  // valid until the next append
}
void FLSlot_SetString(void *slot, LcwsSlice s) noexcept {
    static_cast<std::string *>(slot)->assign(static_cast<const char *>(s.buf), s.size);
}
uint32_t FLArray_Count(const void *array) noexcept {
    return array ? static_cast<uint32_t>(static_cast<const FakeArray *>(array)->items.size()) : 0;
}
const void *FLArray_Get(const void *array, uint32_t index) noexcept {
    const auto *a = static_cast<const FakeArray *>(array);
    return (a && index < a->items.size()) ? &a->items[index] : nullptr;
}
LcwsSlice FLValue_AsString(const void *value) noexcept {
    LcwsSlice r{nullptr, 0};
    if (value) {
        const auto *s = static_cast<const std::string *>(value);
        r.buf = s->data();
        r.size = s->size();
    }
    return r;
}
void FLValue_Release(const void *value) noexcept { delete static_cast<const FakeArray *>(value); }
}

std::unique_ptr<ServedDatabase> ServedDatabase::open(const std::string &path, std::string *) {
    // The share's name: the file name without ".cblite2", as replicator_litecore.cpp names it.
    std::string name = path;
    while (name.size() > 1 && name.back() == '/') name.pop_back();
    const size_t slash = name.rfind('/');
    if (slash != std::string::npos) name = name.substr(slash + 1);
    const std::string ext = ".cblite2";
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
        name.resize(name.size() - ext.size());
    return std::unique_ptr<ServedDatabase>(new FakeServedDatabase(name));
}

std::string errorMessageOf(const C4Error &) { return std::string(); }

std::unique_ptr<Replicator> Replicator::create(const ReplicatorConfig &config, ReplicatorListener listener,
                                               std::string *error) {
    ExampleUrl url;
    char why[256];
    if (!example_parse_url(config.url.c_str(), &url, why, sizeof why)) {
        *error = config.url + ": " + why;
        return nullptr;
    }
    return std::unique_ptr<Replicator>(new FakeReplicator(config, url, std::move(listener)));
}
