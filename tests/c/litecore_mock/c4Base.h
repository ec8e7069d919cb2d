/* Mock of LiteCore's C/include/c4Base.h, for litecore-ws's glue tests only. */
#pragma once
#include "c4Compat.h"
#include "c4Error.h"
#include "c4Log.h"
#include "fleece/FLSlice.h"
#include <stdarg.h>

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#define LITECORE_VERSION (MOCK_LC_VERSION * 100)

typedef FLSlice C4Slice;
typedef FLHeapSlice C4HeapSlice;
typedef FLSliceResult C4SliceResult;
typedef C4Slice C4String;
typedef C4HeapSlice C4HeapString;
typedef C4SliceResult C4StringResult;

static C4INLINE C4Slice c4str(const char* C4NULLABLE str) { return FLStr(str); }

typedef uint64_t C4SequenceNumber;
typedef int64_t C4Timestamp;

/** A simple parsed-URL struct (defined in c4ReplicatorTypes.h). */
typedef struct C4Address C4Address;
typedef struct C4Database C4Database;
#if MOCK_LC_VERSION >= 310
typedef struct C4Collection C4Collection;
#endif
typedef struct C4Replicator C4Replicator;
/** Represents an open bidirectional stream of bytes or messages (typically a TCP socket.) */
typedef struct C4Socket C4Socket;
/** A group of callbacks that define the implementation of sockets. */
typedef struct C4SocketFactory C4SocketFactory;

#if MOCK_LC_VERSION < 300
/* LiteCore 2.8: C4Socket is a public struct with one field. */
struct C4Socket {
    void* C4NULLABLE nativeHandle;
};
#endif

CBL_CORE_API void* c4base_retain(void* C4NULLABLE obj) C4API;
CBL_CORE_API void c4base_release(void* C4NULLABLE obj) C4API;

/* As in LiteCore 4.x: plain C99 `inline`, no exported definition (see fleece/FLSlice.h). */
inline C4Database* C4NULLABLE c4db_retain(C4Database* C4NULLABLE r) C4API { return (C4Database*)c4base_retain(r); }
inline void c4db_release(C4Database* C4NULLABLE r) C4API { c4base_release(r); }
inline void c4slice_free(C4SliceResult s) { FLSliceResult_Release(s); }

CBL_CORE_API C4Socket* C4NULLABLE c4socket_retain(C4Socket* C4NULLABLE) C4API;
CBL_CORE_API void c4socket_release(C4Socket* C4NULLABLE) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
