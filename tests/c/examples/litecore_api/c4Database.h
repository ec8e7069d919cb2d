/* Build and link check only: the database API replicate_litecore.c uses (LiteCore 4.x). */
#pragma once
#include "c4Base.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

typedef C4_OPTIONS(uint32_t, C4DatabaseFlags){
        kC4DB_Create = 0x01, kC4DB_ReadOnly = 0x02, kC4DB_AutoCompact = 0x04, kC4DB_VersionVectors = 0x08,
        kC4DB_NoUpgrade = 0x20, kC4DB_NonObservable = 0x40};

typedef C4_ENUM(uint32_t, C4EncryptionAlgorithm){kC4EncryptionNone = 0, kC4EncryptionAES256};

typedef struct C4EncryptionKey {
    C4EncryptionAlgorithm algorithm;
    uint8_t bytes[32];
} C4EncryptionKey;

typedef struct C4DatabaseConfig2 {
    C4Slice parentDirectory;
    C4DatabaseFlags flags;
    C4EncryptionKey encryptionKey;
} C4DatabaseConfig2;

#define kC4DefaultScopeID FLSTR("_default")
#define kC4DefaultCollectionName FLSTR("_default")

typedef struct C4CollectionSpec {
    C4String name;
    C4String scope;
} C4CollectionSpec;

/* As in the real header: no compound literal in C++. */
#ifdef __cplusplus
#define kC4DefaultCollectionSpec (C4CollectionSpec{kC4DefaultCollectionName, kC4DefaultScopeID})
#else
#define kC4DefaultCollectionSpec ((C4CollectionSpec){kC4DefaultCollectionName, kC4DefaultScopeID})
#endif

NODISCARD CBL_CORE_API C4Database* c4db_openNamed(C4String name, const C4DatabaseConfig2* config,
                                                  C4Error* C4NULLABLE outError) C4API;
NODISCARD CBL_CORE_API bool c4db_close(C4Database* C4NULLABLE database, C4Error* C4NULLABLE outError) C4API;
CBL_CORE_API bool c4db_exists(C4String name, C4String inDirectory) C4API;
NODISCARD CBL_CORE_API bool c4db_delete(C4Database* database, C4Error* C4NULLABLE outError) C4API;
NODISCARD CBL_CORE_API bool c4db_deleteNamed(C4String dbName, C4String inDirectory, C4Error* C4NULLABLE outError) C4API;
NODISCARD CBL_CORE_API bool c4db_beginTransaction(C4Database* database, C4Error* C4NULLABLE outError) C4API;
NODISCARD CBL_CORE_API bool c4db_endTransaction(C4Database* database, bool commit, C4Error* C4NULLABLE outError) C4API;
/* c4db_release: a C99 inline function of c4Base.h (tests/c/litecore_mock), as in LiteCore 4.x. */
CBL_CORE_API const C4DatabaseConfig2* c4db_getConfig2(C4Database* database) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
