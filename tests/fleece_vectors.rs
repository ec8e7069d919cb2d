//! Checks the Fleece reader and encoder against byte strings produced by the
//! real Fleece library (couchbase/fleece 2383b993), copied into
//! `tests/data/fleece/` from the shared `fleece-vectors` (see the README.md
//! there for provenance, the JSON conventions and the call mapping used here).
//!
//! * `encode/` and `headers/`: every NAME.fleece (and its .sorted/.fromjson
//!   variants) must decode to NAME.json, and re-encoding NAME.json with the
//!   same write calls must give NAME.fleece (file key order) and
//!   NAME.sorted.fleece (sorted key order) byte for byte.
//! * `decode-only/`: each file is accepted or rejected as tabled below.
//!
//! Every expected file is listed explicitly, and the directories must contain
//! exactly those files, so a missing or extra vector fails the tests.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use litecore_ws::internals::{decode, encode_headers, Encoder, FleeceError, Value};
use serde_json::Value as Json;

/// Encode cases: (NAME, variants), where variants holds `s` if
/// NAME.sorted.fleece exists and `f` if NAME.fromjson.fleece exists.
const ENCODE_CASES: &[(&str, &str)] = &[
    ("array_2046_nulls", ""),
    ("array_2047_nulls", ""),
    ("array_2048_nulls", ""),
    ("array_3000", "f"),
    ("array_3000_strings_wide", ""),
    ("array_wide_small", ""),
    ("data_len0", ""),
    ("data_len1", ""),
    ("data_len16", ""),
    ("data_len300", ""),
    ("data_len70000", ""),
    ("deep_nesting_20", ""),
    ("dict_2500_keys", ""),
    ("dict_many_keys", "s"),
    ("dict_small", ""),
    ("dict_wide", ""),
    ("dup_data_not_shared", ""),
    ("dup_strings", ""),
    ("dup_strings_far_apart", ""),
    ("empty_array", ""),
    ("empty_dict", ""),
    ("false", ""),
    ("float32_single", ""),
    ("float_0_5", ""),
    ("float_1e100", ""),
    ("float_neg_zero", ""),
    ("floats_mixed", ""),
    ("int64_max", "f"),
    ("int64_min", ""),
    ("int_0", ""),
    ("int_1", ""),
    ("int_2047", ""),
    ("int_2048", "f"),
    ("int_neg1", ""),
    ("int_neg2048", ""),
    ("int_neg2049", ""),
    ("ints_negative_widths", ""),
    ("ints_positive_widths", "f"),
    ("nested_mixed", "s"),
    ("null", ""),
    ("opts_basic_auth", "s"),
    ("opts_certs", "s"),
    ("opts_everything", "s"),
    ("opts_openid_headers", "s"),
    ("opts_proxy", "sf"),
    ("opts_session_auth", "s"),
    ("scalars_in_array", ""),
    ("str_escapes", ""),
    ("str_len0", ""),
    ("str_len1", ""),
    ("str_len127", ""),
    ("str_len128", ""),
    ("str_len14", ""),
    ("str_len15", ""),
    ("str_len16", ""),
    ("str_len16384", ""),
    ("str_len2", ""),
    ("str_len3", ""),
    ("str_utf8", ""),
    ("true", ""),
    ("uint64_max", ""),
    ("uints_above_int64", ""),
];

const HEADER_CASES: &[(&str, &str)] = &[
    ("multi_value_set_cookie", "s"),
    ("thirty_headers", "s"),
    ("unauthorized_401", "s"),
    ("ws_upgrade_101", "s"),
];

fn data_dir(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fleece")
        .join(folder)
}

fn read(folder: &str, file: &str) -> Vec<u8> {
    let path = data_dir(folder).join(file);
    fs::read(&path).unwrap_or_else(|e| panic!("missing test vector {}: {e}", path.display()))
}

fn read_json(folder: &str, name: &str) -> Json {
    let text = read(folder, &format!("{name}.json"));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{folder}/{name}.json: {e}"))
}

/// The files a folder must contain (besides README.md): NAME.json,
/// NAME.fleece and the variants.
fn expected_files(cases: &[(&str, &str)]) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for &(name, variants) in cases {
        files.insert(format!("{name}.json"));
        files.insert(format!("{name}.fleece"));
        if variants.contains('s') {
            files.insert(format!("{name}.sorted.fleece"));
        }
        if variants.contains('f') {
            files.insert(format!("{name}.fromjson.fleece"));
        }
    }
    files
}

fn actual_files(folder: &str) -> BTreeSet<String> {
    let dir = data_dir(folder);
    fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("missing test vector folder {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("readable directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "README.md")
        .collect()
}

// ---------------------------------------------------------------------------
// JSON conventions of the vectors

/// `{"$data_base64": "..."}`: binary data.
fn json_data(j: &Json) -> Option<Vec<u8>> {
    let obj = j.as_object().filter(|o| o.len() == 1)?;
    let text = obj
        .get("$data_base64")?
        .as_str()
        .expect("$data_base64 is a string");
    Some(base64_decode(text))
}

/// `{"$float32": x}`: a genuine single-precision float.
fn json_float32(j: &Json) -> Option<f32> {
    let obj = j.as_object().filter(|o| o.len() == 1)?;
    Some(obj.get("$float32")?.as_f64().expect("$float32 is a number") as f32)
}

/// Standard base64 with padding (all the vectors use); panics on bad input.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits: Vec<u32> = text
        .bytes()
        .filter(|&b| b != b'=')
        .map(|b| ALPHABET.iter().position(|&a| a == b).expect("base64 digit") as u32)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | d << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn sorted_members(obj: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut members: Vec<_> = obj.iter().collect();
    members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    members
}

// ---------------------------------------------------------------------------
// Comparing decoded values with JSON

/// Checks that `v` is the JSON value `j`. With `exact_ints`, integers must
/// also have the representation the explicit write calls produce (`Int` for
/// the int64 range, `UInt` above it); otherwise (ConvertJSON and WriteValue
/// output, which mark non-negative ints unsigned) only the number counts.
fn check(v: &Value<'_>, j: &Json, exact_ints: bool, path: &str) -> Result<(), String> {
    let mismatch = || Err(format!("at {path}: decoded {v:?}, expected {j}"));
    if let Some(bytes) = json_data(j) {
        return if *v == Value::Data(&bytes) {
            Ok(())
        } else {
            mismatch()
        };
    }
    if let Some(f) = json_float32(j) {
        return match v {
            Value::Float(x) if x.to_bits() == f64::from(f).to_bits() => Ok(()),
            _ => mismatch(),
        };
    }
    let ok = match (j, v) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(b), Value::Bool(x)) => b == x,
        (Json::Number(n), _) => {
            if let Some(i) = n.as_i64() {
                match v {
                    Value::Int(x) => *x == i,
                    Value::UInt(x) => !exact_ints && i128::from(*x) == i128::from(i),
                    _ => false,
                }
            } else if let Some(u) = n.as_u64() {
                *v == Value::UInt(u)
            } else {
                let f = n.as_f64().expect("a JSON number is i64, u64 or f64");
                // Bitwise, so that -0.0 must keep its sign.
                matches!(v, Value::Float(x) if x.to_bits() == f.to_bits())
            }
        }
        (Json::String(s), Value::String(x)) => s.as_bytes() == *x,
        (Json::Array(items), Value::Array(xs)) => {
            if items.len() != xs.len() {
                return mismatch();
            }
            for (i, (item, x)) in items.iter().zip(xs).enumerate() {
                check(x, item, exact_ints, &format!("{path}[{i}]"))?;
            }
            true
        }
        (Json::Object(obj), Value::Dict(pairs)) => {
            // Fleece stores dict entries sorted by key bytes.
            let members = sorted_members(obj);
            if members.len() != pairs.len() {
                return mismatch();
            }
            for ((key, item), (k, x)) in members.into_iter().zip(pairs) {
                if key.as_bytes() != *k {
                    return Err(format!(
                        "at {path}: key {:?}, expected {key:?}",
                        String::from_utf8_lossy(k)
                    ));
                }
                check(x, item, exact_ints, &format!("{path}.{key}"))?;
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        mismatch()
    }
}

fn decode_and_check(folder: &str, file: &str, json: &Json, exact_ints: bool) {
    let data = read(folder, file);
    let value = decode(&data).unwrap_or_else(|e| panic!("{folder}/{file}: {e}"));
    if let Err(e) = check(&value, json, exact_ints, "$") {
        panic!("{folder}/{file}: {e}");
    }
}

// ---------------------------------------------------------------------------
// Encoding JSON with the vectors' call mapping

fn write_json(enc: &mut Encoder, j: &Json, sorted: bool) {
    if let Some(bytes) = json_data(j) {
        return enc.write_data(&bytes);
    }
    if let Some(f) = json_float32(j) {
        return enc.write_float(f);
    }
    match j {
        Json::Null => enc.write_null(),
        Json::Bool(b) => enc.write_bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                enc.write_int(i)
            } else if let Some(u) = n.as_u64() {
                enc.write_uint(u)
            } else {
                // A fraction or exponent.
                enc.write_double(n.as_f64().expect("a JSON number is i64, u64 or f64"))
            }
        }
        Json::String(s) => enc.write_string(s.as_bytes()),
        Json::Array(items) => {
            enc.begin_array();
            for item in items {
                write_json(enc, item, sorted);
            }
            enc.end_array();
        }
        Json::Object(obj) => {
            enc.begin_dict();
            // serde_json's `preserve_order` keeps the file's member order.
            let members: Vec<_> = if sorted {
                sorted_members(obj)
            } else {
                obj.iter().collect()
            };
            for (key, item) in members {
                enc.write_key(key.as_bytes());
                write_json(enc, item, sorted);
            }
            enc.end_dict();
        }
    }
}

fn encode_json(j: &Json, sorted: bool) -> Vec<u8> {
    let mut enc = Encoder::new();
    write_json(&mut enc, j, sorted);
    enc.finish().expect("encoding the JSON value")
}

/// Like `assert_eq!` on byte strings, but reports the first difference
/// instead of printing up to 110 KB.
fn assert_same_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual == expected {
        return;
    }
    let at = actual
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(actual.len().min(expected.len()));
    let around = |d: &[u8]| d[at.saturating_sub(4)..(at + 8).min(d.len())].to_vec();
    panic!(
        "{what}: {} bytes, expected {}; first difference at offset {at}: {:02x?} vs expected {:02x?}",
        actual.len(),
        expected.len(),
        around(actual),
        around(expected)
    );
}

/// Runs the decode and re-encode checks on one encode/ or headers/ case;
/// returns how many .fleece files it decoded.
fn check_case(folder: &str, name: &str, variants: &str) -> usize {
    let json = read_json(folder, name);
    let fleece = read(folder, &format!("{name}.fleece"));
    let mut decoded = 1;
    decode_and_check(folder, &format!("{name}.fleece"), &json, true);

    assert_same_bytes(
        &encode_json(&json, false),
        &fleece,
        &format!("{folder}/{name}: encoding in file order"),
    );
    // NAME.sorted.fleece exists only where it differs from NAME.fleece.
    let sorted = if variants.contains('s') {
        decode_and_check(folder, &format!("{name}.sorted.fleece"), &json, true);
        decoded += 1;
        read(folder, &format!("{name}.sorted.fleece"))
    } else {
        fleece.clone()
    };
    assert_same_bytes(
        &encode_json(&json, true),
        &sorted,
        &format!("{folder}/{name}: encoding in sorted order"),
    );

    if variants.contains('f') {
        decode_and_check(folder, &format!("{name}.fromjson.fleece"), &json, false);
        decoded += 1;
    }
    decoded
}

#[test]
fn vector_folders_hold_exactly_the_listed_files() {
    assert_eq!(ENCODE_CASES.len(), 62);
    assert_eq!(HEADER_CASES.len(), 4);
    assert_eq!(DECODE_ONLY.len(), 41);
    assert_eq!(actual_files("encode"), expected_files(ENCODE_CASES));
    assert_eq!(actual_files("headers"), expected_files(HEADER_CASES));
    let mut decode_only: BTreeSet<String> = DECODE_ONLY
        .iter()
        .map(|(name, _)| format!("{name}.fleece"))
        .collect();
    for name in [
        "sharedkeys_basic_auth",
        "valid_writevalue_wide_inline_dict",
        "valid_writevalue_wide_inline_ints",
    ] {
        decode_only.insert(format!("{name}.json"));
    }
    assert_eq!(actual_files("decode-only"), decode_only);
}

#[test]
fn encode_vectors() {
    let decoded: usize = ENCODE_CASES
        .iter()
        .map(|&(name, variants)| check_case("encode", name, variants))
        .sum();
    // 62 cases + 8 sorted + 5 fromjson variants.
    assert_eq!(decoded, 75);
}

#[test]
fn header_vectors() {
    let decoded: usize = HEADER_CASES
        .iter()
        .map(|&(name, variants)| check_case("headers", name, variants))
        .sum();
    assert_eq!(decoded, 8);

    // `encode_headers` must produce the same bytes from the header list as
    // the transport receives it (a repeated header = repeated entries).
    for &(name, variants) in HEADER_CASES {
        let json = read_json("headers", name);
        let obj = json.as_object().expect("a header dict");
        let entries = |members: Vec<(&String, &Json)>| -> Vec<(String, Vec<u8>)> {
            let mut list = Vec::new();
            for (key, value) in members {
                match value {
                    Json::String(s) => list.push((key.clone(), s.clone().into_bytes())),
                    Json::Array(items) => {
                        assert!(
                            items.len() > 1,
                            "{name}: a repeated header has several values"
                        );
                        for item in items {
                            let s = item.as_str().expect("header values are strings");
                            list.push((key.clone(), s.as_bytes().to_vec()));
                        }
                    }
                    other => panic!("{name}: unexpected header value {other}"),
                }
            }
            list
        };
        let as_refs = |list: &[(String, Vec<u8>)]| -> Vec<u8> {
            let refs: Vec<(&str, &[u8])> = list
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            encode_headers(&refs)
        };
        let in_order = entries(obj.iter().collect());
        assert_same_bytes(
            &as_refs(&in_order),
            &read("headers", &format!("{name}.fleece")),
            name,
        );
        assert!(variants.contains('s'));
        let sorted = entries(sorted_members(obj));
        assert_same_bytes(
            &as_refs(&sorted),
            &read("headers", &format!("{name}.sorted.fleece")),
            name,
        );
    }
}

// ---------------------------------------------------------------------------
// decode-only

enum Expect {
    /// Must be rejected, with an error this predicate accepts.
    Reject(fn(&FleeceError) -> bool),
    /// Must decode to a value this predicate accepts.
    Accept(fn(&Value<'_>) -> bool),
    /// Must decode to NAME.json (integers compared by value).
    AcceptJson,
}
use Expect::{Accept, AcceptJson, Reject};

/// One row per file of decode-only/README.md. The README suggests REJECT or
/// ACCEPT for most; for the rows it marks "either" the choice is commented.
const DECODE_ONLY: &[(&str, Expect)] = &[
    ("empty", Reject(|e| *e == FleeceError::TooShort { len: 0 })),
    (
        "single_byte",
        Reject(|e| *e == FleeceError::TooShort { len: 1 }),
    ),
    (
        "odd_length",
        Reject(|e| *e == FleeceError::OddLength { len: 73 }),
    ),
    (
        "odd_length_3",
        Reject(|e| *e == FleeceError::OddLength { len: 3 }),
    ),
    // Cutting a document can leave another valid one (undetectable).
    (
        "truncated_minus2",
        Accept(|v| {
            *v == Value::Dict(vec![
                (b"password", Value::String(b"12345")),
                (b"type", Value::String(b"Basic")),
                (b"username", Value::String(b"user")),
            ])
        }),
    ),
    ("truncated_minus4", Accept(|v| *v == Value::String(b"auth"))),
    (
        "truncated_half",
        Reject(|e| *e == FleeceError::RootWithPrefix { len: 36 }),
    ),
    (
        "truncated_mid_string",
        Reject(|e| *e == FleeceError::RootWithPrefix { len: 64 }),
    ),
    (
        "truncated_no_trailer_wide",
        Reject(|e| *e == FleeceError::RootWithPrefix { len: 40026 }),
    ),
    (
        "root_pointer_before_start",
        Reject(|e| *e == FleeceError::PointerBeforeStart { offset: 2 }),
    ),
    (
        "root_pointer_offset_zero",
        Reject(|e| *e == FleeceError::ZeroOffsetPointer { offset: 2 }),
    ),
    (
        "root_pointer_extern_bit",
        Reject(|e| *e == FleeceError::ExternPointer { offset: 2 }),
    ),
    (
        "all_ff",
        Reject(|e| *e == FleeceError::ExternPointer { offset: 2 }),
    ),
    (
        "array_contains_itself",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 0, .. })),
    ),
    (
        "array_slot_pointer_before_start",
        Reject(|e| *e == FleeceError::PointerBeforeStart { offset: 2 }),
    ),
    (
        "array_count_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 0, .. })),
    ),
    (
        "dict_count_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 0, .. })),
    ),
    (
        "array_long_count_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 0, .. })),
    ),
    // Real Fleece accepts this as an empty array (quirk); strict: reject.
    (
        "array_long_count_varint_unterminated",
        Reject(|e| matches!(e, FleeceError::Malformed { offset: 2, .. })),
    ),
    (
        "string_length_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { .. })),
    ),
    (
        "string_varint_length_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { .. })),
    ),
    // Real Fleece accepts these two as empty strings (quirk); strict: reject.
    (
        "string_varint_unterminated",
        Reject(|e| matches!(e, FleeceError::Malformed { offset: 1, .. })),
    ),
    (
        "string_varint_over_u32",
        Reject(|e| matches!(e, FleeceError::Malformed { offset: 1, .. })),
    ),
    (
        "int_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 1, .. })),
    ),
    (
        "float_overrun",
        Reject(|e| matches!(e, FleeceError::Overrun { offset: 2, .. })),
    ),
    (
        "root_direct_with_prefix",
        Reject(|e| *e == FleeceError::RootWithPrefix { len: 4 }),
    ),
    (
        "narrow_pointer_to_narrow_pointer",
        Reject(|e| *e == FleeceError::PointerOverrun { offset: 2 }),
    ),
    // "either": ACCEPT, as real Fleece does. Overlapping values are harmless
    // to this reader (every byte read is still inside the buffer and before
    // the pointer that led to it), and detecting them would need bookkeeping
    // of every value's extent.
    (
        "string_overlaps_next_value",
        Accept(|v| *v == Value::Array(vec![Value::String(b"abcde\x60\x01")])),
    ),
    // "either": ACCEPT, as real Fleece does: the root is checked against the
    // whole buffer, so a root string may include the trailer bytes.
    (
        "root_string_overlaps_trailer",
        Accept(|v| *v == Value::String(b"a\x80\x01")),
    ),
    (
        "unreferenced_prefix_bytes",
        Accept(|v| *v == Value::Dict(vec![(b"a", Value::Int(1))])),
    ),
    (
        "nonzero_padding_byte",
        Accept(|v| *v == Value::String(b"ab")),
    ),
    ("root_inline_small_int", Accept(|v| *v == Value::Int(5))),
    ("root_inline_undefined", Accept(|v| *v == Value::Undefined)),
    // "either": ACCEPT as null, as real Fleece does; reserved bits of a
    // special value carry no meaning anyone could rely on.
    ("special_reserved_bits", Accept(|v| *v == Value::Null)),
    // Real Fleece accepts these three; a strict reader rejects them.
    (
        "dict_unsorted_keys",
        Reject(|e| *e == FleeceError::UnsortedKeys { offset: 6 }),
    ),
    (
        "dict_duplicate_keys",
        Reject(|e| *e == FleeceError::DuplicateKey { offset: 6 }),
    ),
    (
        "dict_array_key",
        Reject(|e| {
            *e == FleeceError::NonStringKey {
                offset: 2,
                found: "an array",
            }
        }),
    ),
    ("valid_writevalue_wide_inline_ints", AcceptJson),
    ("valid_writevalue_wide_inline_dict", AcceptJson),
    // Integer (shared) keys: valid only with the shared-keys table, which a
    // standalone options/headers blob never has. The outer dict is at 0x20,
    // its first key slot at 0x22.
    (
        "sharedkeys_basic_auth",
        Reject(|e| {
            *e == FleeceError::IntegerKey { offset: 0x22 }
                && e.to_string().contains("shared keys are not supported")
        }),
    ),
    (
        "sharedkeys_state",
        Accept(|v| {
            *v == Value::Array(vec![
                Value::String(b"auth"),
                Value::String(b"type"),
                Value::String(b"username"),
                Value::String(b"password"),
            ])
        }),
    ),
];

#[test]
fn decode_only_vectors() {
    let (mut accepted, mut rejected) = (0, 0);
    for (name, expect) in DECODE_ONLY {
        let data = read("decode-only", &format!("{name}.fleece"));
        let result = decode(&data);
        match (expect, &result) {
            (Reject(is_expected), Err(e)) => {
                assert!(
                    is_expected(e),
                    "{name}: rejected, but with an unexpected error: {e} ({e:?})"
                );
                rejected += 1;
            }
            (Accept(is_expected), Ok(v)) => {
                assert!(is_expected(v), "{name}: accepted, but decoded to {v:?}");
                accepted += 1;
            }
            (AcceptJson, Ok(v)) => {
                let json = read_json("decode-only", name);
                if let Err(e) = check(v, &json, false, "$") {
                    panic!("{name}: {e}");
                }
                accepted += 1;
            }
            (Reject(_), Ok(v)) => panic!("{name}: should be rejected, but decoded to {v:?}"),
            (_, Err(e)) => panic!("{name}: should be accepted, but: {e}"),
        }
    }
    assert_eq!((accepted, rejected), (12, 29));
}
