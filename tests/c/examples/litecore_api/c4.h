/* Build and link check only (see README.md): LiteCore's umbrella header. */
#pragma once
#include "c4Collection.h"
#include "c4Database.h"
#include "c4Replicator.h"
#include "c4Socket.h"
