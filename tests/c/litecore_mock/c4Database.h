/* Mock of LiteCore's C/include/c4Database.h (nothing the glue needs beyond C4Database), for
   litecore-ws's glue tests only. */
#pragma once
#include "c4Base.h"
