//! Fuzzes the strict Fleece reader with arbitrary bytes.
//!
//! Run with `cargo fuzz run fleece_reader` from the repository root (seeds in
//! `fuzz/corpus/fleece_reader/` are vectors from the real library). Besides
//! "never panics", it checks that whatever the reader accepts survives a trip
//! through the encoder unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use litecore_ws::fleece::{decode, Encoder, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = decode(data) else { return };
    touch_accessors(&value);
    let mut enc = Encoder::new();
    if write(&mut enc, &value) {
        let bytes = enc.finish().expect("re-encoding an accepted value");
        let again = decode(&bytes).expect("decoding re-encoded data");
        assert!(
            equivalent(&again, &value),
            "round trip changed {value:?} into {again:?}"
        );
    }
});

fn touch_accessors(v: &Value<'_>) {
    let _ = (
        v.type_name(),
        v.as_str(),
        v.as_bool(),
        v.as_i64(),
        v.get("auth"),
    );
    if let Some(pairs) = v.as_dict() {
        for (key, item) in pairs {
            if let Ok(key) = std::str::from_utf8(key) {
                assert!(v.get(key).is_some() || matches!(item, Value::Undefined));
            }
        }
    }
}

/// Writes `v` with the encoder; false if it holds something the encoder
/// cannot write (undefined, NaN).
fn write(enc: &mut Encoder, v: &Value<'_>) -> bool {
    match v {
        Value::Null => enc.write_null(),
        Value::Undefined => return false,
        Value::Bool(b) => enc.write_bool(*b),
        Value::Int(i) => enc.write_int(*i),
        Value::UInt(u) => enc.write_uint(*u),
        Value::Float(f) if f.is_nan() => return false,
        Value::Float(f) => enc.write_double(*f),
        Value::String(s) => enc.write_string(s),
        Value::Data(d) => enc.write_data(d),
        Value::Array(items) => {
            enc.begin_array();
            if !items.iter().all(|item| write(enc, item)) {
                return false;
            }
            enc.end_array();
        }
        Value::Dict(pairs) => {
            enc.begin_dict();
            for (key, item) in pairs {
                enc.write_key(key);
                if !write(enc, item) {
                    return false;
                }
            }
            enc.end_dict();
        }
    }
    true
}

/// Equality, except that a `UInt` that fits in an `i64` may come back as an
/// `Int` (the encoder writes small unsigned values as small ints).
fn equivalent(a: &Value<'_>, b: &Value<'_>) -> bool {
    let as_int = |v: &Value<'_>| match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        _ => None,
    };
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equivalent(x, y))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, x), (ky, y))| kx == ky && equivalent(x, y))
        }
        _ => match (as_int(a), as_int(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}
