/* Mock of LiteCore's C/include/c4Error.h, for litecore-ws's glue tests only. */
#pragma once
#include "c4Compat.h"
#include "fleece/FLSlice.h"
#include <stdarg.h>
#include <stdint.h>

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#if MOCK_LC_VERSION >= 300
/* LiteCore 3.0+: a uint8_t enum, three padding bytes follow in C4Error. */
typedef C4_ENUM(uint8_t, C4ErrorDomain){
        LiteCoreDomain = 1, POSIXDomain, SQLiteDomain, FleeceDomain, NetworkDomain, WebSocketDomain,
        MbedTLSDomain, kC4MaxErrorDomainPlus1};
#else
/* LiteCore 2.8: a uint32_t enum. */
typedef C4_ENUM(uint32_t, C4ErrorDomain){
        LiteCoreDomain = 1, POSIXDomain, SQLiteDomain, FleeceDomain, NetworkDomain, WebSocketDomain,
        MbedTLSDomain, kC4MaxErrorDomainPlus1};
#endif

typedef C4_ENUM(int32_t, C4ErrorCode){
        kC4ErrorAssertionFailed = 1, kC4ErrorUnimplemented = 2, kC4ErrorNotFound = 7,
        kC4ErrorInvalidParameter = 9, kC4ErrorUnexpectedError = 10, kC4ErrorMemoryError = 13,
        kC4ErrorUnsupported = 19, kC4ErrorRemoteError = 26};

/** An error value. */
typedef struct C4Error {
    C4ErrorDomain domain;  // Domain of error (LiteCore, POSIX, SQLite, ...)
    int code;              // Error code. Domain-specific, except 0 is ALWAYS "none".
    unsigned internal_info; // No user-serviceable parts inside. Do not touch.
#ifdef __cplusplus
    /* Like the real header: member functions make C4Error a non-aggregate-looking class in
       C++ (still standard-layout and trivially copyable). Declared only, never defined. */
    bool mayBeTransient() const noexcept;
    explicit operator bool() const { return code != 0; }
#endif
} C4Error;

CBL_CORE_API FLStringResult c4error_getMessage(C4Error error) C4API;

/** Creates a C4Error struct with the given domain and code, and associates the message with it. */
NODISCARD CBL_CORE_API C4Error c4error_make(C4ErrorDomain domain, int code, FLString message) C4API;

CBL_CORE_API void c4error_return(C4ErrorDomain domain, int code, FLString message,
                                 C4Error* C4NULLABLE outError) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
