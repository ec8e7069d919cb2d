/* Build and link check only: LiteCore's c4Socket.h (as tests/c/litecore_mock's, but with this
   directory's full C4Address / replicator types). */
#pragma once
#include "c4SocketTypes.h"
#include "c4ReplicatorTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

CBL_CORE_API void c4socket_registerFactory(C4SocketFactory factory) C4API;
CBL_CORE_API void c4Socket_setNativeHandle(C4Socket*, void* C4NULLABLE) C4API;
CBL_CORE_API void* C4NULLABLE c4Socket_getNativeHandle(C4Socket*) C4API;
CBL_CORE_API bool c4socket_gotPeerCertificate(C4Socket* socket, C4Slice certData, C4String hostname) C4API;
CBL_CORE_API void c4socket_gotHTTPResponse(C4Socket* socket, int httpStatus, C4Slice responseHeadersFleece) C4API;
CBL_CORE_API void c4socket_opened(C4Socket* socket) C4API;
CBL_CORE_API void c4socket_closed(C4Socket* socket, C4Error errorIfAny) C4API;
CBL_CORE_API void c4socket_closeRequested(C4Socket* socket, int status, C4String message) C4API;
CBL_CORE_API void c4socket_completedWrite(C4Socket* socket, size_t byteCount) C4API;
CBL_CORE_API void c4socket_received(C4Socket* socket, C4Slice data) C4API;
/* The listener glue: an accepted connection becomes a C4Socket. */
NODISCARD CBL_CORE_API C4Socket* c4socket_fromNative(C4SocketFactory factory, void* nativeHandle,
                                                     const C4Address* address) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
