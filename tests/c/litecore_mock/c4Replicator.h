/* Mock of LiteCore's C/include/c4Replicator.h (cookies; the passive replicator of an incoming
   socket), for litecore-ws's glue tests only. */
#pragma once
#include "c4ReplicatorTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#if MOCK_LC_VERSION >= 320
/** A replicator on an already-open socket (a listener's). LiteCore 3.2+: with `logPrefix`. */
NODISCARD CBL_CORE_API C4Replicator* c4repl_newWithSocket(C4Database* db, C4Socket* openSocket,
                                                          C4ReplicatorParameters params, C4String logPrefix,
                                                          C4Error* C4NULLABLE outError) C4API;
#else
/** A replicator on an already-open socket (a listener's). LiteCore 2.8-3.1: no `logPrefix`. */
NODISCARD CBL_CORE_API C4Replicator* c4repl_newWithSocket(C4Database* db, C4Socket* openSocket,
                                                          C4ReplicatorParameters params,
                                                          C4Error* C4NULLABLE outError) C4API;
#endif
#if MOCK_LC_VERSION >= 300
CBL_CORE_API void c4repl_start(C4Replicator* repl, bool reset) C4API;
CBL_CORE_API void c4repl_stop(C4Replicator* repl) C4API;
CBL_CORE_API void c4repl_free(C4Replicator* C4NULLABLE repl) C4API;
#endif

#if MOCK_LC_VERSION >= 310
/** Newer LiteCore: with `acceptParentDomain`. */
CBL_CORE_API bool c4db_setCookie(C4Database* db, C4String setCookieHeader, C4String fromHost, C4String fromPath,
                                 bool acceptParentDomain, C4Error* C4NULLABLE outError) C4API;
#else
/** Older LiteCore: without `acceptParentDomain`. */
CBL_CORE_API bool c4db_setCookie(C4Database* db, C4String setCookieHeader, C4String fromHost, C4String fromPath,
                                 C4Error* C4NULLABLE outError) C4API;
#endif

/** Locates any saved HTTP cookies relevant to the given request, and returns them as a string
    that can be used as the value of a "Cookie:" header. */
CBL_CORE_API C4StringResult c4db_getCookies(C4Database* db, C4Address request,
                                            C4Error* C4NULLABLE outError) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
