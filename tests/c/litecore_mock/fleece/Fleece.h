/*
 * Mock of Fleece's fleece/Fleece.h umbrella (FLBase.h, FLCollections.h, FLMutable.h, FLValue.h), for
 * litecore-ws's glue tests only: the value types and the few calls the listener glue
 * (lcws_c4listener_getURLs builds a mutable array of strings) and its tests (which read it back)
 * use, with the real headers' names and signatures. These functions exist in every LiteCore
 * release the glue supports.
 */
#pragma once
#ifndef _FLEECE_H
#define _FLEECE_H

#include "fleece/FLSlice.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef const struct _FLValue* FLValue;  /* a value of any type */
typedef const struct _FLArray* FLArray;  /* an array value */
typedef const struct _FLDict* FLDict;    /* a dictionary value */
typedef struct _FLSlot* FLSlot;          /* a mutable array/dict item to store into */
typedef struct _FLArray* FLMutableArray; /* a mutable array */
typedef struct _FLDict* FLMutableDict;   /* a mutable dictionary */

/* FLCollections.h */
FLEECE_PUBLIC uint32_t FLArray_Count(FLArray FL_NULLABLE) FLAPI;
FLEECE_PUBLIC FLValue FL_NULLABLE FLArray_Get(FLArray FL_NULLABLE, uint32_t index) FLAPI;

/* FLValue.h */
FLEECE_PUBLIC FLString FLValue_AsString(FLValue FL_NULLABLE) FLAPI;
FLEECE_PUBLIC void FLValue_Release(FLValue FL_NULLABLE) FLAPI;

/* FLMutable.h */
FLEECE_PUBLIC FLMutableArray FL_NULLABLE FLMutableArray_New(void) FLAPI;
FLEECE_PUBLIC FLSlot FLMutableArray_Append(FLMutableArray) FLAPI;
FLEECE_PUBLIC void FLSlot_SetString(FLSlot, FLString) FLAPI;

#ifdef __cplusplus
}
#endif

#endif /* _FLEECE_H */
