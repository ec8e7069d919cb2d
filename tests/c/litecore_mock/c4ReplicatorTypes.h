/* Mock of LiteCore's C/include/c4ReplicatorTypes.h (the parts the glue needs), for litecore-ws's
   glue tests only. */
#pragma once
#include "c4Base.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

/** A simple parsed-URL type. */
struct C4Address {
    C4String scheme;
    C4String hostname;
    uint16_t port;
    C4String path;
#ifdef __cplusplus
    bool isValidRemote(C4String withDbName, C4Error* C4NULLABLE = nullptr) const noexcept;
#endif
};

typedef C4_ENUM(int32_t, C4ReplicatorMode){kC4Disabled, kC4Passive, kC4OneShot, kC4Continuous};

/** Parameters describing a replication (abridged: the real struct has more members). */
typedef struct C4ReplicatorParameters {
    C4ReplicatorMode push;
    C4ReplicatorMode pull;
    C4Slice optionsDictFleece;
    void* C4NULLABLE callbackContext;
    const C4SocketFactory* C4NULLABLE socketFactory; ///< Custom C4SocketFactory, if not NULL
} C4ReplicatorParameters;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
