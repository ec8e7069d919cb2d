/* Mock of LiteCore's C/include/c4Log.h, for litecore-ws's glue tests only. */
#pragma once
#include "c4Compat.h"
#include "c4Error.h"
#include "fleece/FLSlice.h"
#include <stdarg.h>

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

/** Logging levels. */
typedef C4_ENUM(int8_t, C4LogLevel){kC4LogDebug, kC4LogVerbose, kC4LogInfo, kC4LogWarning, kC4LogError,
                                    kC4LogNone};

/** Reference to a _log domain_. */
typedef struct c4LogDomain* C4LogDomain;

CBL_CORE_API extern const C4LogDomain kC4DefaultLog, kC4DatabaseLog, kC4QueryLog, kC4SyncLog,
        kC4WebSocketLog;

CBL_CORE_API C4LogDomain c4log_getDomain(const char* name, bool create) C4API;
CBL_CORE_API const char* c4log_getDomainName(C4LogDomain) C4API;
CBL_CORE_API bool c4log_willLog(C4LogDomain, C4LogLevel) C4API;

CBL_CORE_API void c4log(C4LogDomain domain, C4LogLevel level, const char* fmt, ...) C4API __printflike(3, 4);
CBL_CORE_API void c4vlog(C4LogDomain domain, C4LogLevel level, const char* fmt, va_list args) C4API
        __printflike(3, 0);

C4API_END_DECLS
C4_ASSUME_NONNULL_END
