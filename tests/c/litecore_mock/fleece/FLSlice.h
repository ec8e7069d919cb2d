/*
 * Mock of Fleece's fleece/FLSlice.h (as shipped in LiteCore's include tree), for litecore-ws's
 * glue tests only. Layouts as in the real header: { const void* buf; size_t size; }.
 */
#pragma once
#ifndef _FLSLICE_H
#define _FLSLICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
#define FLAPI noexcept
#else
#define FLAPI
#endif

#define FL_NULLABLE
#define FLEECE_PUBLIC

#ifdef __cplusplus
extern "C" {
#endif

/** A simple reference to a block of memory. Does not imply ownership. */
typedef struct FLSlice {
    const void* FL_NULLABLE buf;
    size_t size;
#ifdef __cplusplus
    explicit operator bool() const noexcept { return buf != nullptr; }
#endif
} FLSlice;

/** A heap-allocated block of memory returned from an API call; the caller takes ownership and
    must release it with FLSliceResult_Release. */
typedef struct FLSliceResult {
    const void* FL_NULLABLE buf;
    size_t size;
#ifdef __cplusplus
    explicit operator bool() const noexcept { return buf != nullptr; }
    explicit operator FLSlice() const noexcept {
        FLSlice s;
        s.buf = buf;
        s.size = size;
        return s;
    }
#endif
} FLSliceResult;

typedef FLSlice FLHeapSlice;
typedef FLSlice FLString;
typedef FLSliceResult FLStringResult;

#define kFLSliceNull ((FLSlice){NULL, 0})

/* A literal C string as an FLSlice, as the real header spells it (C++: no compound literal). */
#ifdef __cplusplus
#define FLSTR(STR) (FLSlice{("" STR), sizeof(("" STR)) - 1})
#else
#define FLSTR(STR) ((FLSlice){("" STR), sizeof(("" STR)) - 1})
#endif

FLEECE_PUBLIC void _FLBuf_Retain(const void* FL_NULLABLE) FLAPI;  // internal; do not call
FLEECE_PUBLIC void _FLBuf_Release(const void* FL_NULLABLE) FLAPI; // internal; do not call

/* As in the real header (Fleece of LiteCore 4.x): plain C99 `inline`, and the library exports
   no definition of them, so a C program that calls them must emit the external definition in
   one translation unit (`extern inline`; examples-c/common/litecore_inline.c) or it does not link
   at -O0. LiteCore 3.x's headers had `static inline`. */

/** Increments the ref-count of a FLSliceResult. */
inline FLSliceResult FLSliceResult_Retain(FLSliceResult s) FLAPI {
    _FLBuf_Retain(s.buf);
    return s;
}

/** Decrements the ref-count of a FLSliceResult, freeing its memory if it reached zero. */
inline void FLSliceResult_Release(FLSliceResult s) FLAPI { _FLBuf_Release(s.buf); }

/** A slice pointing to the contents of a C string (NULL gives an empty slice). */
inline FLSlice FLStr(const char* FL_NULLABLE str) FLAPI {
    FLSlice s;
    s.buf = str;
    s.size = str ? strlen(str) : 0;
    return s;
}

#ifdef __cplusplus
}
#endif

#endif /* _FLSLICE_H */
