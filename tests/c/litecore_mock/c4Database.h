/* Mock of LiteCore's C/include/c4Database.h (what the glue needs: the database's flags), for
   litecore-ws's glue tests only. */
#pragma once
#include "c4DatabaseTypes.h"

C4_ASSUME_NONNULL_BEGIN
C4API_BEGIN_DECLS

#if MOCK_LC_VERSION >= 300
/** The database's configuration (the listener glue reads kC4DB_VersionVectors from its flags). */
CBL_CORE_API const C4DatabaseConfig2* c4db_getConfig2(C4Database* database) C4API;
#endif

C4API_END_DECLS
C4_ASSUME_NONNULL_END
