/* Mock of LiteCore's C/include/c4ReplicatorTypes.h (the parts the glue needs), for litecore-ws's
   glue tests only.
   - 3.0: the modes and filters are members of C4ReplicatorParameters (no collections);
   - 3.1+: C4ReplicationCollection, and C4ReplicatorParameters with `collections` (the 4.1 layout,
     which the listener glue fills for its passive replicators). */
#pragma once
#include "c4DatabaseTypes.h"
#include "fleece/Fleece.h"

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

typedef C4_ENUM(int32_t, C4ReplicatorActivityLevel){kC4Stopped, kC4Offline, kC4Connecting, kC4Idle, kC4Busy,
                                                     kC4Stopping};

typedef struct {
    uint64_t unitsCompleted;
    uint64_t unitsTotal;
    uint64_t documentCount;
} C4Progress;

typedef C4_OPTIONS(int32_t, C4ReplicatorStatusFlags){kC4WillRetry = 0x1, kC4HostReachable = 0x2,
                                                     kC4Suspended = 0x4};

/** Current status of replication. Passed to `C4ReplicatorStatusChangedCallback`. */
typedef struct {
    C4ReplicatorActivityLevel level;
    C4Progress progress;
    C4Error error;
    C4ReplicatorStatusFlags flags;
} C4ReplicatorStatus;

typedef void (*C4ReplicatorStatusChangedCallback)(C4Replicator*, C4ReplicatorStatus, void* C4NULLABLE context);
/* (The other callbacks' exact types do not matter to the glue.) */
typedef void* C4ReplicatorDocumentsEndedCallback;
typedef void* C4ReplicatorBlobProgressCallback;
typedef void* C4ReplicatorValidationFunction;
typedef void* C4ReplicatorPropertyEncryptionCallback;
typedef void* C4ReplicatorPropertyDecryptionCallback;

#if MOCK_LC_VERSION >= 310
/** One collection to replicate, with its modes. */
typedef struct C4ReplicationCollection {
    C4CollectionSpec collection;
    C4ReplicatorMode push;
    C4ReplicatorMode pull;
    C4Slice optionsDictFleece;
    C4ReplicatorValidationFunction C4NULLABLE pushFilter;
    C4ReplicatorValidationFunction C4NULLABLE pullFilter;
    void* C4NULLABLE callbackContext;
} C4ReplicationCollection;

/** Parameters describing a replication (LiteCore 3.1+ / 4.x layout, Community Edition). */
typedef struct C4ReplicatorParameters {
    C4Slice optionsDictFleece;
    C4ReplicatorStatusChangedCallback C4NULLABLE onStatusChanged;
    C4ReplicatorDocumentsEndedCallback C4NULLABLE onDocumentsEnded;
    C4ReplicatorBlobProgressCallback C4NULLABLE onBlobProgress;
    C4ReplicatorPropertyEncryptionCallback C4NULLABLE propertyEncryptor;
    C4ReplicatorPropertyDecryptionCallback C4NULLABLE propertyDecryptor;
    void* C4NULLABLE callbackContext;
    const C4SocketFactory* C4NULLABLE socketFactory; ///< Custom C4SocketFactory, if not NULL
    C4ReplicationCollection* collections;
    size_t collectionCount;
} C4ReplicatorParameters;
#else
/** Parameters describing a replication (LiteCore 3.0 and 2.8: one implicit collection). */
typedef struct C4ReplicatorParameters {
    C4ReplicatorMode push;
    C4ReplicatorMode pull;
    C4Slice optionsDictFleece;
    C4ReplicatorValidationFunction C4NULLABLE pushFilter;
    C4ReplicatorValidationFunction C4NULLABLE validationFunc;
    C4ReplicatorStatusChangedCallback C4NULLABLE onStatusChanged;
    C4ReplicatorDocumentsEndedCallback C4NULLABLE onDocumentsEnded;
    C4ReplicatorBlobProgressCallback C4NULLABLE onBlobProgress;
    C4ReplicatorPropertyEncryptionCallback C4NULLABLE propertyEncryptor;
    C4ReplicatorPropertyDecryptionCallback C4NULLABLE propertyDecryptor;
    void* C4NULLABLE callbackContext;
    const C4SocketFactory* C4NULLABLE socketFactory; ///< Custom C4SocketFactory, if not NULL
} C4ReplicatorParameters;
#endif

C4API_END_DECLS
C4_ASSUME_NONNULL_END
