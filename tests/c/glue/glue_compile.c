/* Compile-only test of include/litecore_ws_c4.h as C11 (see glue_compile_body.h). */
#include "glue_compile_body.h"
