/* Build and link check only: the Fleece encoder API replicate_litecore.c uses. */
#pragma once
#include "fleece/FLSlice.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef FLSTR
/* A literal C string as an FLSlice (FLSlice.h defines it in the real headers). */
#define FLSTR(STR) ((FLSlice){("" STR), sizeof(("" STR)) - 1})
#endif

typedef struct _FLEncoder* FLEncoder;
typedef const struct _FLValue* FLValue;
typedef const struct _FLArray* FLArray;
typedef const struct _FLDict* FLDict;
typedef struct _FLArray* FLMutableArray;
typedef struct _FLSlot* FLSlot;

typedef enum {
    kFLNoError = 0,
    kFLMemoryError,
    kFLOutOfRange,
    kFLInvalidData,
    kFLEncodeError,
} FLError;

FLEncoder FLEncoder_New(void) FLAPI;
void FLEncoder_Free(FLEncoder FL_NULLABLE) FLAPI;
bool FLEncoder_BeginDict(FLEncoder, size_t reserveCount) FLAPI;
bool FLEncoder_WriteKey(FLEncoder, FLString) FLAPI;
bool FLEncoder_EndDict(FLEncoder) FLAPI;
bool FLEncoder_WriteString(FLEncoder, FLString) FLAPI;
bool FLEncoder_WriteInt(FLEncoder, int64_t) FLAPI;
bool FLEncoder_WriteData(FLEncoder, FLSlice) FLAPI;
FLSliceResult FLEncoder_Finish(FLEncoder, FLError* FL_NULLABLE outError) FLAPI;

/* FLMutable.h / FLValue.h / FLCollections.h: the listener glue's URL list, and reading it. */
FLMutableArray FL_NULLABLE FLMutableArray_New(void) FLAPI;
FLSlot FLMutableArray_Append(FLMutableArray) FLAPI;
void FLSlot_SetString(FLSlot, FLString) FLAPI;
void FLValue_Release(FLValue FL_NULLABLE) FLAPI;
uint32_t FLArray_Count(FLArray FL_NULLABLE) FLAPI;
FLValue FL_NULLABLE FLArray_Get(FLArray FL_NULLABLE, uint32_t index) FLAPI;
FLString FLValue_AsString(FLValue FL_NULLABLE) FLAPI;
FLValue FL_NULLABLE FLDict_Get(FLDict FL_NULLABLE, FLSlice keyString) FLAPI;

#ifdef __cplusplus
}
#endif
