/* A second translation unit including litecore_ws_c4.h (glue_register_tu2.c), so glue_register
   can check that registration stays once-per-process across translation units. */
#ifndef GLUE_REGISTER_TU2_H
#define GLUE_REGISTER_TU2_H

#include <stdbool.h>
#include "c4.h"

#ifdef __cplusplus
extern "C" {
#endif

/** lcws_register_with_litecore() from the second translation unit. */
bool tu2_register_with_litecore(void);

/** lcws_c4_factory(db) from the second translation unit. */
C4SocketFactory tu2_c4_factory(C4Database* db);

#ifdef __cplusplus
}
#endif

#endif
