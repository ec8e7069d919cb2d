//! Fuzzes the strict Fleece reader with arbitrary bytes.
//!
//! Run with `cargo fuzz run fleece_reader` from the repository root (seeds in
//! `fuzz/corpus/fleece_reader/` are vectors from the real library). Besides
//! "never panics", it checks that whatever the reader accepts survives a trip
//! through the encoder unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::{decode, Encoder, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = decode(data) else { return };
    touch_accessors(&value);
    let mut enc = Encoder::new();
    if enc.write_value(&value) {
        let bytes = enc.finish().expect("re-encoding an accepted value");
        let again = decode(&bytes).expect("decoding re-encoded data");
        assert!(
            again.equivalent(&value),
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
