/*
 * Mock of LiteCore's C/include/c4Compat.h, for litecore-ws's glue tests only.
 *
 * Written from litecore-ws's LiteCore contract (docs/litecore-socket-contract.md) in the style of
 * the real header: same macro names and the same C/C++ behaviour where it matters for types
 * (`C4API` is `noexcept` in C++, `C4_ENUM` gives a fixed-underlying-type enum in C++ compilers
 * that advertise strong enums — clang — and a plain integer typedef elsewhere).
 *
 * MOCK_LC_VERSION selects the LiteCore version whose API is mocked (280, 300, 330, 341, 410, ...;
 * default 410). It only exists in the mock: real LiteCore has no such macro.
 */
#pragma once

#ifndef MOCK_LC_VERSION
#define MOCK_LC_VERSION 410
#endif

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef __has_attribute
#define __has_attribute(x) 0
#endif
#ifndef __has_extension
#define __has_extension(x) 0
#endif

#define C4INLINE inline
#define C4NONNULL
#define C4NULLABLE
#define C4_ASSUME_NONNULL_BEGIN
#define C4_ASSUME_NONNULL_END

/* As in LiteCore 3.2+: `typedef C4_ENUM(T, N) {...};` declares a real enum with underlying type T
   in C++ compilers that advertise strong enums (clang++), an integer typedef plus an anonymous
   enum elsewhere (gcc, g++, C). */
#if defined(__cplusplus) && __cplusplus >= 201103L && (__has_extension(cxx_strong_enums) || __has_feature(objc_fixed_enum))
#define C4_ENUM(_type, _name) int __C4_ENUM_##_name; enum _name : _type; typedef enum _name _name; enum _name : _type
#define C4_OPTIONS(_type, _name) _type _name; enum : _type
#else
#define C4_ENUM(_type, _name) _type _name; enum
#define C4_OPTIONS(_type, _name) _type _name; enum
#endif

/* Declaration suffix for API functions. */
#ifdef __cplusplus
#define C4API noexcept
#define C4API_BEGIN_DECLS extern "C" {
#define C4API_END_DECLS }
#else
#define C4API
#define C4API_BEGIN_DECLS
#define C4API_END_DECLS
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CBL_CORE_API __attribute__((visibility("default")))
#else
#define CBL_CORE_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define NODISCARD __attribute__((warn_unused_result))
#ifndef __printflike
#define __printflike(fmtarg, firstvararg) __attribute__((__format__(__printf__, fmtarg, firstvararg)))
#endif
#else
#define NODISCARD
#ifndef __printflike
#define __printflike(fmtarg, firstvararg)
#endif
#endif
