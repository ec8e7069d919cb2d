/* The external definitions of the LiteCore header functions the C examples call, for C.
 *
 * LiteCore 4.x's C headers define some small functions with plain C99 `inline` (FLStr and
 * FLSliceResult_Release in fleece/FLSlice.h, c4db_release in c4Base.h) and libLiteCore exports
 * no definition of them. In C such a definition is only an *inline definition*: the compiler may
 * inline it or call the external definition instead, which must come from exactly one translation
 * unit of the program. At -O0 it always calls it, so without this file the examples fail to link
 * ("undefined reference to `FLStr'"); with optimisation they may happen to link, but that is luck,
 * not C. An `extern inline` declaration in one file, after the header's definition, makes that
 * file emit the external definition. (C++ needs nothing: its inline functions are emitted where
 * they are used; the Qt example is C++.)
 *
 * LiteCore 3.x defines the same functions `static inline`. An `extern` declaration after a
 * `static` one keeps the internal linkage (C11 6.2.2p4), so this file compiles there too and then
 * adds nothing.
 *
 * An app that calls other such functions (c4db_retain, c4slice_free, FLSliceResult_Retain, ...)
 * from C declares them here the same way; one file per program, not one per library. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "c4.h"

extern inline FLSlice FLStr(const char *str);                /* fleece/FLSlice.h */
extern inline void FLSliceResult_Release(FLSliceResult s);   /* fleece/FLSlice.h */
extern inline void c4db_release(C4Database *db);             /* c4Base.h */
