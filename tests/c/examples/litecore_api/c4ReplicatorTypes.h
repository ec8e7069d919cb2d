/* Build and link check only: LiteCore 4.x c4ReplicatorTypes.h, the parts replicate_litecore.c and the
   glue use. */
#pragma once
#include "c4Database.h"
#include "fleece/Fleece.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

typedef C4_ENUM(int32_t, C4ReplicatorMode){kC4Disabled, kC4Passive, kC4OneShot, kC4Continuous};

typedef C4_ENUM(int32_t, C4ReplicatorActivityLevel){kC4Stopped, kC4Offline, kC4Connecting, kC4Idle, kC4Busy,
                                                     kC4Stopping};

struct C4Address {
    C4String scheme;
    C4String hostname;
    uint16_t port;
    C4String path;
};

typedef struct {
    uint64_t unitsCompleted;
    uint64_t unitsTotal;
    uint64_t documentCount;
} C4Progress;

typedef C4_OPTIONS(int32_t, C4ReplicatorStatusFlags){kC4WillRetry = 0x1, kC4HostReachable = 0x2,
                                                     kC4Suspended = 0x4};

typedef C4_ENUM(int32_t, C4ReplicatorProgressLevel){kC4ReplProgressOverall, kC4ReplProgressPerDocument,
                                                     kC4ReplProgressPerAttachment};

typedef struct {
    C4ReplicatorActivityLevel level;
    C4Progress progress;
    C4Error error;
    C4ReplicatorStatusFlags flags;
} C4ReplicatorStatus;

typedef C4_OPTIONS(uint8_t, C4RevisionFlags){kRevDeleted = 0x01};

typedef struct {
    C4CollectionSpec collectionSpec;
    C4HeapString docID;
    C4HeapString revID;
    C4RevisionFlags flags;
    C4SequenceNumber sequence;
    C4Error error;
    bool errorIsTransient;
    void* C4NULLABLE collectionContext;
} C4DocumentEnded;

typedef void (*C4ReplicatorStatusChangedCallback)(C4Replicator*, C4ReplicatorStatus, void* C4NULLABLE context);
typedef void (*C4ReplicatorDocumentsEndedCallback)(C4Replicator*, bool pushing, size_t numDocs,
                                                   const C4DocumentEnded* C4NONNULL docs[C4NONNULL],
                                                   void* C4NULLABLE context);
typedef void* C4ReplicatorBlobProgressCallback; /* (not used here) */
typedef bool (*C4ReplicatorValidationFunction)(C4CollectionSpec collectionSpec, C4String docID, C4String revID,
                                               C4RevisionFlags, FLDict body, void* C4NULLABLE context);
typedef void* C4ReplicatorPropertyEncryptionCallback;
typedef void* C4ReplicatorPropertyDecryptionCallback;

typedef struct C4ReplicationCollection {
    C4CollectionSpec collection;
    C4ReplicatorMode push;
    C4ReplicatorMode pull;
    C4Slice optionsDictFleece;
    C4ReplicatorValidationFunction C4NULLABLE pushFilter;
    C4ReplicatorValidationFunction C4NULLABLE pullFilter;
    void* C4NULLABLE callbackContext;
} C4ReplicationCollection;

typedef struct C4ReplicatorParameters {
    C4Slice optionsDictFleece;
    C4ReplicatorStatusChangedCallback C4NULLABLE onStatusChanged;
    C4ReplicatorDocumentsEndedCallback C4NULLABLE onDocumentsEnded;
    C4ReplicatorBlobProgressCallback C4NULLABLE onBlobProgress;
    C4ReplicatorPropertyEncryptionCallback C4NULLABLE propertyEncryptor;
    C4ReplicatorPropertyDecryptionCallback C4NULLABLE propertyDecryptor;
    void* C4NULLABLE callbackContext;
    const C4SocketFactory* C4NULLABLE socketFactory;
    C4ReplicationCollection* collections;
    size_t collectionCount;
} C4ReplicatorParameters;

#define kC4ReplicatorOptionRootCerts "rootCerts"
#define kC4ReplicatorOptionPinnedServerCert "pinnedCert"
#define kC4ReplicatorOptionCookies "cookies"
#define kC4ReplicatorOptionAuthentication "auth"
#define kC4ReplicatorAuthType "type"
#define kC4ReplicatorAuthUserName "username"
#define kC4ReplicatorAuthPassword "password"
#define kC4ReplicatorAuthToken "token"
#define kC4AuthTypeBasic "Basic"
#define kC4AuthTypeSession "Session"

C4API_END_DECLS
C4_ASSUME_NONNULL_END
