/* Mock of LiteCore's umbrella header C/include/c4.h, for litecore-ws's glue tests only.
   Like the real one it does not include <stdint.h>/<stdbool.h> itself before c4Compat.h. */
#pragma once
#include "c4Collection.h"
#include "c4Database.h"
#include "c4Replicator.h"
#include "c4Socket.h"
