//! Fleece encoder producing the same bytes as the real library's
//! `FLEncoder_New()` (string de-duplication on, no shared keys, trailer on).
//!
//! Layout rules: values are written bottom-up.
//! Each open collection keeps a list of pending slots; a value that encodes in
//! at most 2 bytes goes into its slot, anything bigger is appended to the
//! output at once and the slot remembers its position. When a collection ends,
//! its header and slots are appended, and pointers become relative offsets.

use std::collections::HashMap;

use super::reader::FleeceError;

/// Largest offset a narrow (2-byte) pointer can hold.
const MAX_NARROW_OFFSET: usize = 0x7FFE;
/// Largest offset a wide (4-byte) pointer can hold (30 bits of 2-byte units).
const MAX_WIDE_OFFSET: usize = 0x3FFF_FFFF * 2;
/// An earlier copy of a string is reused only if it is at most this far back
/// (the real encoder keeps 32 bytes of slack below `MAX_NARROW_OFFSET`).
const MAX_SHARED_STRING_DISTANCE: usize = MAX_NARROW_OFFSET - 32;
/// Strings of these lengths are de-duplicated (shorter ones are inline).
const SHARED_STRING_LENGTHS: std::ops::RangeInclusive<usize> = 2..=15;
/// Count field value announcing a varint with the rest of the count.
const LONG_COUNT: usize = 0x7FF;

const TAG_INT: u8 = 0x1;
const TAG_FLOAT: u8 = 0x2;
const TAG_SPECIAL: u8 = 0x3;
const TAG_STRING: u8 = 0x4;
const TAG_DATA: u8 = 0x5;
const TAG_ARRAY: u8 = 0x6;
const TAG_DICT: u8 = 0x7;

/// A pending slot of an open collection.
#[derive(Clone, Copy)]
enum Slot {
    /// A complete 2-byte value.
    Inline([u8; 2]),
    /// Absolute output position of an out-of-line value.
    Pointer(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The implicit outermost "collection", which holds the root.
    Top,
    Array,
    Dict,
}

struct Frame {
    kind: Kind,
    /// Pending slots; for a dict, key and value slots alternate.
    slots: Vec<Slot>,
    /// Dict only: the bytes of each key, for sorting at `end_dict`.
    keys: Vec<Vec<u8>>,
    /// Dict only: a key has been written and its value is due.
    awaiting_value: bool,
    /// Set by the real encoder when a value of 3-4 bytes is stored inline
    /// (only `FLEncoder_WriteValue` does that), which makes the collection
    /// wide and lets string de-duplication ignore the distance limit. The
    /// `write_*` calls here never inline such values, so it stays false; it is
    /// kept so the rules below read like the real ones.
    wide: bool,
}

impl Frame {
    fn new(kind: Kind) -> Self {
        Frame {
            kind,
            slots: Vec::new(),
            keys: Vec::new(),
            awaiting_value: false,
            wide: false,
        }
    }
}

/// Builds a Fleece document from a sequence of write calls, like `FLEncoder`.
///
/// Misuse (unbalanced begin/end, a dict value without a key, NaN, more than
/// one top-level value...) never panics: the first error is recorded, later
/// calls are ignored, and [`finish`](Encoder::finish) returns the error.
pub struct Encoder {
    out: Vec<u8>,
    /// Open collections; `stack[0]` is the top level and is never popped.
    stack: Vec<Frame>,
    /// Position of the latest copy of each 2..15-byte string written.
    strings: HashMap<Vec<u8>, usize>,
    error: Option<FleeceError>,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Encoder {
            out: Vec::new(),
            stack: vec![Frame::new(Kind::Top)],
            strings: HashMap::new(),
            error: None,
        }
    }

    pub fn write_null(&mut self) {
        self.add_inline([TAG_SPECIAL << 4, 0x00]);
    }

    pub fn write_bool(&mut self, v: bool) {
        self.add_inline([TAG_SPECIAL << 4 | if v { 0x08 } else { 0x04 }, 0x00]);
    }

    pub fn write_int(&mut self, v: i64) {
        if (-2048..=2047).contains(&v) {
            self.add_inline(small_int(v as u16));
        } else {
            self.add_long_int(v as u64, false);
        }
    }

    pub fn write_uint(&mut self, v: u64) {
        if v < 2048 {
            self.add_inline(small_int(v as u16));
        } else {
            self.add_long_int(v, true);
        }
    }

    /// Stored as a 32-bit float (flagged as a double) when that is exact,
    /// otherwise as a 64-bit double. NaN is an error.
    pub fn write_double(&mut self, v: f64) {
        if v.is_nan() {
            return self.fail(FleeceError::NotANumber);
        }
        if v.abs() <= f64::from(f32::MAX) && f64::from(v as f32) == v {
            self.add_float32(v as f32, 0x04);
        } else if self.begin_value() {
            let mut bytes = vec![TAG_FLOAT << 4 | 0x08, 0x00];
            bytes.extend_from_slice(&v.to_le_bytes());
            self.add_out_of_line(&bytes);
        }
    }

    /// A genuine single-precision value (tag byte `20`). NaN is an error.
    pub fn write_float(&mut self, v: f32) {
        if v.is_nan() {
            return self.fail(FleeceError::NotANumber);
        }
        self.add_float32(v, 0x00);
    }

    pub fn write_string(&mut self, s: &[u8]) {
        if self.begin_value() {
            let slot = self.string_slot(s);
            self.push_slot(slot);
        }
    }

    /// Binary data; unlike strings it is never de-duplicated.
    pub fn write_data(&mut self, d: &[u8]) {
        if !self.begin_value() {
            return;
        }
        let slot = match d {
            [] => Slot::Inline([TAG_DATA << 4, 0x00]),
            [b] => Slot::Inline([TAG_DATA << 4 | 1, *b]),
            _ => Slot::Pointer(self.write_blob(TAG_DATA, d)),
        };
        self.push_slot(slot);
    }

    pub fn begin_array(&mut self) {
        if self.begin_value() {
            self.stack.push(Frame::new(Kind::Array));
        }
    }

    pub fn end_array(&mut self) {
        if self.error.is_some() {
            return;
        }
        if self.current().kind != Kind::Array {
            return self.misuse("end_array without a matching begin_array");
        }
        self.end_collection();
    }

    pub fn begin_dict(&mut self) {
        if self.begin_value() {
            self.stack.push(Frame::new(Kind::Dict));
        }
    }

    /// Writes the key of the next dict member. Keys are strings, de-duplicated
    /// like string values.
    pub fn write_key(&mut self, k: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let frame = self.current();
        if frame.kind != Kind::Dict {
            return self.misuse("write_key outside a dict");
        }
        if frame.awaiting_value {
            return self.misuse("write_key while the previous key still needs a value");
        }
        let slot = self.string_slot(k);
        let frame = self.current_mut();
        frame.slots.push(slot);
        frame.keys.push(k.to_vec());
        frame.awaiting_value = true;
    }

    pub fn end_dict(&mut self) {
        if self.error.is_some() {
            return;
        }
        let frame = self.current();
        if frame.kind != Kind::Dict {
            return self.misuse("end_dict without a matching begin_dict");
        }
        if frame.awaiting_value {
            return self.misuse("end_dict right after a key (the key needs a value)");
        }
        self.end_collection();
    }

    /// Writes a decoded value (and everything inside it), e.g. to re-encode what [`decode`]
    /// accepted. Returns false, writing nothing usable, for what Fleece cannot hold as written
    /// data: `undefined` and NaN.
    ///
    /// [`decode`]: super::decode
    pub fn write_value(&mut self, value: &super::Value<'_>) -> bool {
        use super::Value;
        match value {
            Value::Null => self.write_null(),
            Value::Undefined => return false,
            Value::Bool(b) => self.write_bool(*b),
            Value::Int(i) => self.write_int(*i),
            Value::UInt(u) => self.write_uint(*u),
            Value::Float(f) if f.is_nan() => return false,
            Value::Float(f) => self.write_double(*f),
            Value::String(s) => self.write_string(s),
            Value::Data(d) => self.write_data(d),
            Value::Array(items) => {
                self.begin_array();
                if !items.iter().all(|item| self.write_value(item)) {
                    return false;
                }
                self.end_array();
            }
            Value::Dict(pairs) => {
                self.begin_dict();
                for (key, item) in pairs {
                    self.write_key(key);
                    if !self.write_value(item) {
                        return false;
                    }
                }
                self.end_dict();
            }
        }
        true
    }

    /// Ends encoding and returns the document: the root value itself when it
    /// fits in 2 bytes, otherwise everything written followed by a trailer
    /// pointing at the root.
    pub fn finish(mut self) -> Result<Vec<u8>, FleeceError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.stack.len() > 1 {
            return Err(misuse("finish with an unclosed array or dict"));
        }
        let root = match self.stack[0].slots.first() {
            Some(slot) => *slot,
            None => return Err(misuse("finish without any value written")),
        };
        match root {
            Slot::Inline(bytes) => self.out.extend_from_slice(&bytes),
            Slot::Pointer(target) => {
                let pos = self.out.len();
                let offset = pos - target;
                if offset <= MAX_NARROW_OFFSET {
                    self.out.extend_from_slice(&narrow_pointer(offset));
                } else {
                    // Too far for the 2-byte trailer: a wide pointer to the
                    // root, then a trailer pointing 4 bytes back at it.
                    self.out.extend_from_slice(&wide_pointer(offset)?);
                    self.out.extend_from_slice(&narrow_pointer(4));
                }
            }
        }
        Ok(self.out)
    }

    // ---- internals ----

    fn current(&self) -> &Frame {
        // `stack[0]` is never popped, so the stack is never empty.
        &self.stack[self.stack.len() - 1]
    }

    fn current_mut(&mut self) -> &mut Frame {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn fail(&mut self, e: FleeceError) {
        self.error.get_or_insert(e);
    }

    fn misuse(&mut self, reason: &'static str) {
        self.fail(misuse(reason));
    }

    /// Checks that a value may be written now (no earlier error, a key given
    /// in a dict, a single top-level value). Records the error if not.
    fn begin_value(&mut self) -> bool {
        if self.error.is_some() {
            return false;
        }
        let frame = self.current();
        let problem = match frame.kind {
            Kind::Top if !frame.slots.is_empty() => Some("more than one top-level value"),
            Kind::Dict if !frame.awaiting_value => Some("dict value written without a key"),
            _ => None,
        };
        match problem {
            Some(reason) => {
                self.misuse(reason);
                false
            }
            None => true,
        }
    }

    /// Adds a slot for a value already checked with `begin_value`.
    fn push_slot(&mut self, slot: Slot) {
        let frame = self.current_mut();
        frame.slots.push(slot);
        frame.awaiting_value = false;
    }

    fn add_inline(&mut self, bytes: [u8; 2]) {
        if self.begin_value() {
            self.push_slot(Slot::Inline(bytes));
        }
    }

    /// Appends a complete value (longer than 2 bytes) and points the pending
    /// slot at it. The output is kept at an even length.
    fn add_out_of_line(&mut self, bytes: &[u8]) {
        let pos = self.append(bytes);
        self.push_slot(Slot::Pointer(pos));
    }

    /// Appends `bytes` plus a pad byte if needed; returns where they start.
    fn append(&mut self, bytes: &[u8]) -> usize {
        let pos = self.out.len();
        self.out.extend_from_slice(bytes);
        if self.out.len() % 2 != 0 {
            self.out.push(0);
        }
        pos
    }

    /// Long int with the fewest payload bytes.
    fn add_long_int(&mut self, v: u64, unsigned: bool) {
        if !self.begin_value() {
            return;
        }
        let len = if unsigned {
            unsigned_len(v)
        } else {
            signed_len(v as i64)
        };
        let mut bytes = vec![TAG_INT << 4 | if unsigned { 0x08 } else { 0 } | (len as u8 - 1)];
        bytes.extend_from_slice(&v.to_le_bytes()[..len]);
        self.add_out_of_line(&bytes);
    }

    fn add_float32(&mut self, v: f32, flags: u8) {
        if self.begin_value() {
            let mut bytes = vec![TAG_FLOAT << 4 | flags, 0x00];
            bytes.extend_from_slice(&v.to_le_bytes());
            self.add_out_of_line(&bytes);
        }
    }

    /// Writes a string header and bytes (tag 4 or 5), returning its position.
    fn write_blob(&mut self, tag: u8, bytes: &[u8]) -> usize {
        let mut header = vec![tag << 4 | bytes.len().min(0x0F) as u8];
        if bytes.len() >= 0x0F {
            put_varint(&mut header, bytes.len() as u64);
        }
        let pos = self.out.len();
        self.out.extend_from_slice(&header);
        self.append(bytes);
        pos
    }

    /// The slot for string `s`, written out (or reused) as needed.
    fn string_slot(&mut self, s: &[u8]) -> Slot {
        match s {
            [] => return Slot::Inline([TAG_STRING << 4, 0x00]),
            [b] => return Slot::Inline([TAG_STRING << 4 | 1, *b]),
            _ => {}
        }
        if !SHARED_STRING_LENGTHS.contains(&s.len()) {
            return Slot::Pointer(self.write_blob(TAG_STRING, s));
        }
        if let Some(&earlier) = self.strings.get(s) {
            if self.current().wide || self.out.len() - earlier <= MAX_SHARED_STRING_DISTANCE {
                return Slot::Pointer(earlier);
            }
        }
        // New, or the earlier copy is too far back: write it again and make
        // later uses refer to this nearer copy.
        let pos = self.write_blob(TAG_STRING, s);
        self.strings.insert(s.to_vec(), pos);
        Slot::Pointer(pos)
    }

    /// Pops the current array/dict, writes it, and adds it to its parent.
    fn end_collection(&mut self) {
        let Some(mut frame) = self.stack.pop() else {
            return;
        };
        let tag = if frame.kind == Kind::Dict {
            TAG_DICT
        } else {
            TAG_ARRAY
        };
        let count = if frame.kind == Kind::Dict {
            frame.slots.len() / 2
        } else {
            frame.slots.len()
        };
        if count == 0 {
            // An empty collection is just its inline header.
            return self.push_slot(Slot::Inline([tag << 4, 0x00]));
        }
        if frame.kind == Kind::Dict {
            sort_pairs(&mut frame);
        }

        let header_pos = self.out.len();
        let mut header = vec![
            tag << 4 | (count.min(LONG_COUNT) >> 8) as u8,
            count.min(LONG_COUNT) as u8,
        ];
        if count >= LONG_COUNT {
            put_varint(&mut header, (count - LONG_COUNT) as u64);
            if header.len() % 2 != 0 {
                header.push(0);
            }
        }
        // Wide if any pointer would be too far for a narrow slot (9.4.4).
        let first_slot = header_pos + header.len();
        let wide = frame.wide
            || frame.slots.iter().enumerate().any(|(i, slot)| match slot {
                Slot::Pointer(target) => first_slot + 2 * i - target > MAX_NARROW_OFFSET,
                Slot::Inline(_) => false,
            });
        if wide {
            header[0] |= 0x08;
        }
        self.out.extend_from_slice(&header);

        for slot in &frame.slots {
            match (slot, wide) {
                (Slot::Inline(bytes), false) => self.out.extend_from_slice(bytes),
                (Slot::Inline(bytes), true) => {
                    self.out.extend_from_slice(&[bytes[0], bytes[1], 0, 0])
                }
                (Slot::Pointer(target), false) => {
                    let offset = self.out.len() - target;
                    self.out.extend_from_slice(&narrow_pointer(offset));
                }
                (Slot::Pointer(target), true) => {
                    let offset = self.out.len() - target;
                    match wide_pointer(offset) {
                        Ok(bytes) => self.out.extend_from_slice(&bytes),
                        Err(e) => return self.fail(e),
                    }
                }
            }
        }
        self.push_slot(Slot::Pointer(header_pos));
    }
}

fn misuse(reason: &'static str) -> FleeceError {
    FleeceError::EncoderMisuse { reason }
}

/// The 2-byte small int (tag 0) holding the low 12 bits of `v`.
fn small_int(v: u16) -> [u8; 2] {
    [((v >> 8) & 0x0F) as u8, v as u8]
}

/// Bytes needed for `v` in two's complement (1..=8).
fn signed_len(v: i64) -> usize {
    (1..8)
        .find(|&n| {
            let bits = 8 * n as u32;
            let min = -(1i64 << (bits - 1));
            (min..-min).contains(&v)
        })
        .unwrap_or(8)
}

/// Bytes needed for `v` unsigned (1..=8).
fn unsigned_len(v: u64) -> usize {
    (8 - v.leading_zeros() as usize / 8).max(1)
}

/// Appends `v` as an unsigned LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Narrow pointer; callers guarantee `offset <= MAX_NARROW_OFFSET`.
fn narrow_pointer(offset: usize) -> [u8; 2] {
    debug_assert!(offset <= MAX_NARROW_OFFSET && offset % 2 == 0);
    (0x8000 | (offset / 2) as u16).to_be_bytes()
}

fn wide_pointer(offset: usize) -> Result<[u8; 4], FleeceError> {
    if offset > MAX_WIDE_OFFSET {
        return Err(FleeceError::TooLarge);
    }
    Ok((0x8000_0000 | (offset / 2) as u32).to_be_bytes())
}

/// Sorts a dict's (key, value) slot pairs by key bytes. Only slots move; the
/// key strings stay where they were written. The sort is stable, so repeated
/// keys keep their write order (as the real encoder does for small dicts).
fn sort_pairs(frame: &mut Frame) {
    let mut pairs: Vec<(Vec<u8>, Slot, Slot)> = std::mem::take(&mut frame.keys)
        .into_iter()
        .zip(frame.slots.chunks_exact(2).map(|kv| (kv[0], kv[1])))
        .map(|(key, (k, v))| (key, k, v))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    frame.slots = pairs.into_iter().flat_map(|(_, k, v)| [k, v]).collect();
}

/// Encodes HTTP response headers as LiteCore expects them in
/// `c4socket_gotHTTPResponse`: a dict name -> string, or name -> array of
/// strings when the header occurs more than once.
///
/// `headers` is in the order received; names that are equal (ASCII
/// case-insensitively) are grouped under the first spelling seen, values kept
/// in order. Keys are written in first-seen order (the encoder sorts slots
/// itself).
pub fn encode_headers(headers: &[(&str, &[u8])]) -> Vec<u8> {
    let mut groups: Vec<(&str, Vec<&[u8]>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for &(name, value) in headers {
        match index.get(&name.to_ascii_lowercase()) {
            Some(&i) => groups[i].1.push(value),
            None => {
                index.insert(name.to_ascii_lowercase(), groups.len());
                groups.push((name, vec![value]));
            }
        }
    }

    let mut enc = Encoder::new();
    enc.begin_dict();
    for (name, values) in &groups {
        enc.write_key(name.as_bytes());
        if let [value] = values.as_slice() {
            enc.write_string(value);
        } else {
            enc.begin_array();
            for value in values {
                enc.write_string(value);
            }
            enc.end_array();
        }
    }
    enc.end_dict();
    // The calls above are balanced and write no numbers, so the only possible
    // failure is output over 2 GiB; fall back to an empty dict rather than
    // panic.
    enc.finish().unwrap_or_else(|_| vec![TAG_DICT << 4, 0x00])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleece::{decode, Value};

    fn encode(f: impl FnOnce(&mut Encoder)) -> Result<Vec<u8>, FleeceError> {
        let mut enc = Encoder::new();
        f(&mut enc);
        enc.finish()
    }

    fn bytes(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        encode(f).expect("encoding failed")
    }

    fn misuse_of(f: impl FnOnce(&mut Encoder)) -> &'static str {
        match encode(f) {
            Err(FleeceError::EncoderMisuse { reason }) => reason,
            other => panic!("expected misuse, got {other:?}"),
        }
    }

    #[test]
    fn small_values_are_the_whole_document() {
        assert_eq!(bytes(|e| e.write_null()), [0x30, 0x00]);
        assert_eq!(bytes(|e| e.write_bool(true)), [0x38, 0x00]);
        assert_eq!(bytes(|e| e.write_bool(false)), [0x34, 0x00]);
        assert_eq!(bytes(|e| e.write_int(-1)), [0x0f, 0xff]);
        assert_eq!(bytes(|e| e.write_int(-2048)), [0x08, 0x00]);
        assert_eq!(bytes(|e| e.write_uint(2047)), [0x07, 0xff]);
        assert_eq!(bytes(|e| e.write_string(b"Y")), [0x41, 0x59]);
        assert_eq!(bytes(|e| e.write_data(b"")), [0x50, 0x00]);
        assert_eq!(
            bytes(|e| {
                e.begin_dict();
                e.end_dict()
            }),
            [0x70, 0x00]
        );
        assert_eq!(
            bytes(|e| {
                e.begin_array();
                e.end_array()
            }),
            [0x60, 0x00]
        );
    }

    #[test]
    fn integers_use_minimal_widths() {
        assert_eq!(
            bytes(|e| e.write_int(2048)),
            [0x11, 0x00, 0x08, 0x00, 0x80, 0x02]
        );
        assert_eq!(
            bytes(|e| e.write_uint(2048)),
            [0x19, 0x00, 0x08, 0x00, 0x80, 0x02]
        );
        assert_eq!(bytes(|e| e.write_int(32767))[..4], [0x11, 0xff, 0x7f, 0x00]);
        assert_eq!(bytes(|e| e.write_int(32768))[..4], [0x12, 0x00, 0x80, 0x00]);
        assert_eq!(
            bytes(|e| e.write_uint(32768))[..4],
            [0x19, 0x00, 0x80, 0x00]
        );
        assert_eq!(bytes(|e| e.write_int(-2049))[..4], [0x11, 0xff, 0xf7, 0x00]);
        assert_eq!(
            bytes(|e| e.write_int(-32769))[..4],
            [0x12, 0xff, 0x7f, 0xff]
        );
        assert_eq!(
            bytes(|e| e.write_int(i64::MIN)),
            [0x17, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x80, 0x05]
        );
        assert_eq!(
            bytes(|e| e.write_uint(u64::MAX))[..10],
            [0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]
        );
        for v in [i64::MIN, -1 << 40, -70000, -2049, 2048, 1 << 31, i64::MAX] {
            let data = bytes(|e| e.write_int(v));
            assert_eq!(decode(&data), Ok(Value::Int(v)));
        }
        for v in [2048, 1 << 40, u64::MAX] {
            let data = bytes(|e| e.write_uint(v));
            assert_eq!(decode(&data), Ok(Value::UInt(v)));
        }
    }

    #[test]
    fn floats() {
        assert_eq!(
            bytes(|e| e.write_double(0.5))[..6],
            [0x24, 0x00, 0x00, 0x00, 0x00, 0x3f]
        );
        assert_eq!(
            bytes(|e| e.write_double(-0.0))[..6],
            [0x24, 0x00, 0x00, 0x00, 0x00, 0x80]
        );
        assert_eq!(bytes(|e| e.write_double(1.0))[..2], [0x24, 0x00]);
        assert_eq!(bytes(|e| e.write_double(0.1))[..2], [0x28, 0x00]);
        assert_eq!(bytes(|e| e.write_double(f64::INFINITY))[..2], [0x28, 0x00]);
        assert_eq!(
            bytes(|e| e.write_float(0.1))[..6],
            [0x20, 0x00, 0xcd, 0xcc, 0xcc, 0x3d]
        );
        assert_eq!(
            encode(|e| e.write_double(f64::NAN)),
            Err(FleeceError::NotANumber)
        );
        assert_eq!(
            encode(|e| e.write_float(f32::NAN)),
            Err(FleeceError::NotANumber)
        );
    }

    #[test]
    fn strings_and_dedup() {
        assert_eq!(
            bytes(|e| e.write_string(b"HM")),
            [0x42, 0x48, 0x4d, 0x00, 0x80, 0x02]
        );
        let s15 = bytes(|e| e.write_string(&[b'x'; 15]));
        assert_eq!(s15[..2], [0x4f, 0x0f]);
        assert_eq!(s15.len(), 20);
        let s128 = bytes(|e| e.write_string(&[b'x'; 128]));
        assert_eq!(s128[..3], [0x4f, 0x80, 0x01]);

        // 2..15-byte strings are stored once; longer strings and data are not.
        let count = |data: &[u8], needle: &[u8]| {
            data.windows(needle.len()).filter(|w| *w == needle).count()
        };
        let data = bytes(|e| {
            e.begin_array();
            for _ in 0..3 {
                e.write_string(b"hello");
                e.write_string(&[b'L'; 16]);
                e.write_data(b"abc");
            }
            e.end_array();
        });
        assert_eq!(count(&data, b"\x45hello"), 1);
        assert_eq!(count(&data, &[b'L'; 16]), 3);
        assert_eq!(count(&data, b"\x53abc"), 3);
    }

    /// "ab" at 0, then data of `n` bytes, then "ab" again: returns how many
    /// copies of "ab" were written.
    fn copies_of_ab_after(n: usize) -> usize {
        let data = bytes(|e| {
            e.begin_array();
            e.write_string(b"ab");
            e.write_data(&vec![0x11; n]);
            e.write_string(b"ab");
            e.end_array();
        });
        data.windows(4)
            .filter(|w| *w == [0x42, b'a', b'b', 0x00])
            .count()
    }

    #[test]
    fn dedup_distance_limit() {
        // Data of 32726 bytes takes 4 + 32726 bytes, so the second "ab" is
        // considered at output length 32734 (reused), with 2 more at 32736
        // (written again).
        assert_eq!(copies_of_ab_after(32726), 1);
        assert_eq!(copies_of_ab_after(32728), 2);
    }

    #[test]
    fn dict_sorting_and_duplicates() {
        // Checked against the real library.
        let data = bytes(|e| {
            e.begin_dict();
            e.write_key(b"a");
            e.write_int(1);
            e.write_key(b"a");
            e.write_int(2);
            e.end_dict();
        });
        assert_eq!(
            data,
            [0x70, 0x02, 0x41, 0x61, 0x00, 0x01, 0x41, 0x61, 0x00, 0x02, 0x80, 0x05]
        );
        let data = bytes(|e| {
            e.begin_dict();
            for k in ["b", "", "ab", "a"] {
                e.write_key(k.as_bytes());
                e.write_null();
            }
            e.end_dict();
        });
        let keys: Vec<&[u8]> = decode(&data)
            .unwrap()
            .as_dict()
            .unwrap()
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(keys, [&b""[..], b"a", b"ab", b"b"]);
    }

    #[test]
    fn long_counts_and_wide_collections() {
        let array_of_nulls = |n: usize| {
            bytes(|e| {
                e.begin_array();
                (0..n).for_each(|_| e.write_null());
                e.end_array();
            })
        };
        assert_eq!(array_of_nulls(2046)[..2], [0x67, 0xfe]);
        assert_eq!(array_of_nulls(2047)[..4], [0x67, 0xff, 0x00, 0x00]);
        assert_eq!(array_of_nulls(2048)[..4], [0x67, 0xff, 0x01, 0x00]);
        assert_eq!(array_of_nulls(3000)[..4], [0x67, 0xff, 0xb9, 0x07]);

        // A pointer more than 32766 bytes back forces 4-byte slots.
        let data = bytes(|e| {
            e.begin_array();
            e.write_data(&[7; 40000]);
            e.write_int(1);
            e.end_array();
        });
        assert_eq!(
            data[40004..],
            [0x68, 0x02, 0x80, 0x00, 0x4e, 0x23, 0x00, 0x01, 0x00, 0x00, 0x80, 0x05]
        );
        // The width test measures from after the long-count varint and pad:
        // here slot 0 is 32766 bytes after the header start + 2 but 32768
        // after the real first slot, so the array must be wide.
        let data = bytes(|e| {
            e.begin_array();
            e.write_data(&[7; 32760]); // 1 + 3 + 32760 = 32764 bytes
            (0..2046).for_each(|_| e.write_null());
            e.end_array();
        });
        assert_eq!(data[32764..32768], [0x6f, 0xff, 0x00, 0x00]);
        assert!(matches!(decode(&data), Ok(Value::Array(items)) if items.len() == 2047));
        // A root more than 32766 bytes back gets a wide pointer + `80 02`.
        let data = bytes(|e| e.write_data(&[7; 70000]));
        assert_eq!(data[70004..], [0x80, 0x00, 0x88, 0xba, 0x80, 0x02]);
        assert!(matches!(decode(&data), Ok(Value::Data(d)) if d.len() == 70000));
    }

    #[test]
    fn misuse_is_reported_not_panicked() {
        assert_eq!(misuse_of(|_| {}), "finish without any value written");
        assert_eq!(
            misuse_of(|e| e.begin_array()),
            "finish with an unclosed array or dict"
        );
        assert_eq!(
            misuse_of(|e| e.end_array()),
            "end_array without a matching begin_array"
        );
        assert_eq!(
            misuse_of(|e| e.end_dict()),
            "end_dict without a matching begin_dict"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_array();
                e.end_dict()
            }),
            "end_dict without a matching begin_dict"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_dict();
                e.end_array()
            }),
            "end_array without a matching begin_array"
        );
        assert_eq!(
            misuse_of(|e| {
                e.write_null();
                e.write_null()
            }),
            "more than one top-level value"
        );
        assert_eq!(misuse_of(|e| e.write_key(b"k")), "write_key outside a dict");
        assert_eq!(
            misuse_of(|e| {
                e.begin_array();
                e.write_key(b"k")
            }),
            "write_key outside a dict"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_dict();
                e.write_int(1)
            }),
            "dict value written without a key"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_dict();
                e.begin_array()
            }),
            "dict value written without a key"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_dict();
                e.write_key(b"a");
                e.write_key(b"b")
            }),
            "write_key while the previous key still needs a value"
        );
        assert_eq!(
            misuse_of(|e| {
                e.begin_dict();
                e.write_key(b"a");
                e.end_dict()
            }),
            "end_dict right after a key (the key needs a value)"
        );
        // The first error wins; later calls are ignored.
        let result = encode(|e| {
            e.write_double(f64::NAN);
            e.end_array();
            e.write_int(1);
        });
        assert_eq!(result, Err(FleeceError::NotANumber));
    }

    #[test]
    fn headers_group_case_insensitively() {
        let headers: [(&str, &[u8]); 4] = [
            ("Set-Cookie", b"a=1"),
            ("Content-Length", b"0"),
            ("set-cookie", b"b=2"),
            ("SET-COOKIE", b"c=3"),
        ];
        let data = encode_headers(&headers);
        let value = decode(&data).unwrap();
        assert_eq!(
            value.get("Content-Length").and_then(Value::as_str),
            Some("0")
        );
        assert_eq!(
            value.get("Set-Cookie"),
            Some(&Value::Array(vec![
                Value::String(b"a=1"),
                Value::String(b"b=2"),
                Value::String(b"c=3")
            ]))
        );
        assert_eq!(value.as_dict().map(<[_]>::len), Some(2));
        assert_eq!(encode_headers(&[]), [0x70, 0x00]);
    }
}
