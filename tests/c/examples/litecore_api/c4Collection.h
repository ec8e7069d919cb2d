/* Build and link check only: LiteCore 4.x c4Collection.h (and c4Document.h), what the listener glue
   and p2p_sync use. */
#pragma once
#include "c4ReplicatorTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

typedef struct C4Document C4Document;

typedef C4_ENUM(uint8_t, C4DocContentLevel){kDocGetMetadata, kDocGetCurrentRev, kDocGetAll};

CBL_CORE_API C4Collection* c4db_getDefaultCollection(C4Database* db, C4Error* C4NULLABLE outError) C4API;
CBL_CORE_API C4CollectionSpec c4coll_getSpec(C4Collection*) C4API;
CBL_CORE_API C4Database* c4coll_getDatabase(C4Collection*) C4API;
CBL_CORE_API uint64_t c4coll_getDocumentCount(C4Collection*) C4API;
NODISCARD CBL_CORE_API C4Document* C4NULLABLE c4coll_getDoc(C4Collection* collection, C4String docID, bool mustExist,
                                                            C4DocContentLevel content,
                                                            C4Error* C4NULLABLE outError) C4API;
NODISCARD CBL_CORE_API C4Document* C4NULLABLE c4coll_createDoc(C4Collection* collection, C4String docID, C4Slice body,
                                                               C4RevisionFlags revisionFlags,
                                                               C4Error* C4NULLABLE error) C4API;
CBL_CORE_API void c4doc_release(C4Document* C4NULLABLE) C4API;
CBL_CORE_API FLDict c4doc_getProperties(C4Document*) C4API;

C4API_END_DECLS
C4_ASSUME_NONNULL_END
