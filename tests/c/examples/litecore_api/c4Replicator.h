/* Build and link check only: LiteCore 4.x c4Replicator.h, the functions replicate_litecore.c and the
   glue call. */
#pragma once
#include "c4ReplicatorTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

NODISCARD CBL_CORE_API bool c4address_fromURL(C4String url, C4Address* address, C4String* C4NULLABLE dbName) C4API;
NODISCARD CBL_CORE_API C4Replicator* c4repl_new(C4Database* db, C4Address remoteAddress, C4String remoteDatabaseName,
                                                C4ReplicatorParameters params, C4String logPrefix,
                                                C4Error* C4NULLABLE outError) C4API;
/* The passive replicator of an incoming socket (LiteCore 3.2+: with a logPrefix). */
NODISCARD CBL_CORE_API C4Replicator* c4repl_newWithSocket(C4Database* db, C4Socket* openSocket,
                                                          C4ReplicatorParameters params, C4String logPrefix,
                                                          C4Error* C4NULLABLE outError) C4API;
CBL_CORE_API void c4repl_start(C4Replicator* repl, bool reset) C4API;
CBL_CORE_API void c4repl_stop(C4Replicator* repl) C4API;
CBL_CORE_API C4ReplicatorStatus c4repl_getStatus(C4Replicator* repl) C4API;
NODISCARD CBL_CORE_API bool c4repl_setProgressLevel(C4Replicator* repl, C4ReplicatorProgressLevel level,
                                                    C4Error* C4NULLABLE outErr) C4API;
CBL_CORE_API void c4repl_free(C4Replicator* C4NULLABLE repl) C4API;

NODISCARD CBL_CORE_API bool c4db_setCookie(C4Database* db, C4String setCookieHeader, C4String fromHost,
                                           C4String fromPath, bool acceptParentDomain,
                                           C4Error* C4NULLABLE outError) C4API;
CBL_CORE_API C4StringResult c4db_getCookies(C4Database* db, C4Address request, C4Error* C4NULLABLE error) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
