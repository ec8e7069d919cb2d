/* Mock of LiteCore's C/include/c4DatabaseTypes.h (the parts the glue needs), for litecore-ws's glue
   tests only. C4DatabaseConfig2 exists from LiteCore 3.0; collections (C4CollectionSpec and the
   kC4DefaultCollectionSpec macro the listener glue is keyed on) from 3.1. */
#pragma once
#include "c4Base.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#if MOCK_LC_VERSION >= 300
typedef C4_OPTIONS(uint32_t, C4DatabaseFlags){
        kC4DB_Create = 0x01, kC4DB_ReadOnly = 0x02, kC4DB_AutoCompact = 0x04, kC4DB_VersionVectors = 0x08,
        kC4DB_NoUpgrade = 0x20, kC4DB_NonObservable = 0x40};

typedef C4_ENUM(uint32_t, C4EncryptionAlgorithm){kC4EncryptionNone = 0, kC4EncryptionAES256};

typedef struct C4EncryptionKey {
    C4EncryptionAlgorithm algorithm;
    uint8_t bytes[32];
} C4EncryptionKey;

/** Main database configuration struct (version 2) for use with c4db_openNamed etc. */
typedef struct C4DatabaseConfig2 {
    C4Slice parentDirectory;
    C4DatabaseFlags flags;
    C4EncryptionKey encryptionKey;
} C4DatabaseConfig2;
#endif

#if MOCK_LC_VERSION >= 310
#define kC4DefaultScopeID FLSTR("_default")
#define kC4DefaultCollectionName FLSTR("_default")

/** Full identifier of a collection in a database, including its scope. */
typedef struct C4CollectionSpec {
    C4String name;
    C4String scope;
} C4CollectionSpec;

/* As in the real header: a macro, spelled without a compound literal in C++. */
#ifdef __cplusplus
#define kC4DefaultCollectionSpec (C4CollectionSpec{kC4DefaultCollectionName, kC4DefaultScopeID})
#else
#define kC4DefaultCollectionSpec ((C4CollectionSpec){kC4DefaultCollectionName, kC4DefaultScopeID})
#endif
#endif

C4API_END_DECLS
C4_ASSUME_NONNULL_END
