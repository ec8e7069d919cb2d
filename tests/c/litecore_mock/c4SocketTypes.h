/* Mock of LiteCore's C/include/c4SocketTypes.h, for litecore-ws's glue tests only. */
#pragma once
#include "c4Base.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

/** The type of message framing that should be applied to the socket's data. */
typedef C4_ENUM(uint8_t, C4SocketFraming){
        kC4WebSocketClientFraming, ///< Frame as WebSocket client messages (masked)
        kC4NoFraming,              ///< No framing; use messages as-is
        kC4WebSocketServerFraming, ///< Frame as WebSocket server messages (not masked)
};

/** A group of callbacks that define the implementation of sockets. 64 bytes; 72 with `attached`
    (LiteCore 3.4.0, 4.1.0 and later). */
struct C4SocketFactory {
    C4SocketFraming framing;
    void* C4NULLABLE context;
    void (*open)(C4Socket* socket, const C4Address* addr, C4Slice options, void* C4NULLABLE context);
    void (*write)(C4Socket* socket, C4SliceResult allocatedData);
    void (*completedReceive)(C4Socket* socket, size_t byteCount);
    void (*C4NULLABLE close)(C4Socket* socket);
    void (*C4NULLABLE requestClose)(C4Socket* socket, int status, C4String message);
    void (*C4NULLABLE dispose)(C4Socket* socket);
#if MOCK_LC_VERSION >= 340
    void (*C4NULLABLE attached)(C4Socket* socket);
#endif
};

C4API_END_DECLS
C4_ASSUME_NONNULL_END
