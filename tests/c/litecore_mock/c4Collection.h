/* Mock of LiteCore's C/include/c4Collection.h (LiteCore 3.1+; what the listener glue needs), for
   litecore-ws's glue tests only. */
#pragma once
#include "c4DatabaseTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#if MOCK_LC_VERSION >= 310
/** The collection's name and scope. */
CBL_CORE_API C4CollectionSpec c4coll_getSpec(C4Collection*) C4API;
/** The collection's database (NULL once it was deleted or the database closed). */
CBL_CORE_API C4Database* c4coll_getDatabase(C4Collection*) C4API;
#endif

C4API_END_DECLS
C4_ASSUME_NONNULL_END
