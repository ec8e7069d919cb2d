/* Second translation unit for glue_register (see glue_register_tu2.h). Always compiled as C11. */
#include "litecore_ws_c4.h"
#include "glue_register_tu2.h"

bool tu2_register_with_litecore(void) { return lcws_register_with_litecore(); }

C4SocketFactory tu2_c4_factory(C4Database* db) { return lcws_c4_factory(db); }
