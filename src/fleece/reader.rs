//! Strict Fleece reader for untrusted input.
//!
//! The checks follow what `FLValue_FromData(data, kFLUntrusted)` does (format
//! notes, sections 7 and 10), plus the stricter rules listed in the module
//! docs. The reader walks the document once and builds an owned tree of
//! [`Value`]s that borrow string and data bytes from the input.
//!
//! Resource limits, so that hostile input cannot hurt the process:
//! * recursion only happens for collections and stops at [`MAX_DEPTH`];
//! * pointer chains are followed iteratively, and every hop moves strictly
//!   backwards, so chains always end;
//! * the decoded tree may hold at most one value (or extra pointer hop) per two
//!   bytes of input. A document written by an encoder is a tree in which every
//!   value but the root owns a slot of at least 2 bytes, so this never rejects
//!   real data, but it stops documents whose collections are shared through
//!   pointers from expanding exponentially. The allowance for a collection is
//!   taken *before* its `Vec` is allocated, so allocations are bounded by the
//!   input size too.

use std::cmp::Ordering;
use std::fmt;

/// The deepest nesting of arrays/dicts [`decode`] accepts. The root
/// collection is level 1.
pub const MAX_DEPTH: usize = 64;

/// Width in bytes of a narrow slot or pointer.
const NARROW: usize = 2;
/// Width in bytes of a wide slot or pointer.
const WIDE: usize = 4;
/// Value of the 11-bit count field meaning "a varint with the rest follows".
const LONG_COUNT: usize = 0x7FF;
/// Fleece never reads more varint bytes than this.
const MAX_VARINT_LEN: usize = 10;

/// A decoded Fleece value. Strings and data borrow from the input buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    /// Fleece's `undefined` (`3c 00`); in a dict it marks a deleted entry.
    Undefined,
    Bool(bool),
    /// Signed long ints and small ints.
    Int(i64),
    /// Long ints with the unsigned flag (may also be <= `i64::MAX`).
    UInt(u64),
    /// 32- and 64-bit floats, widened.
    Float(f64),
    /// Raw bytes: Fleece does not validate UTF-8.
    String(&'a [u8]),
    Data(&'a [u8]),
    Array(Vec<Value<'a>>),
    /// Keys in stored order, which [`decode`] guarantees is strictly ascending
    /// byte order.
    Dict(Vec<(&'a [u8], Value<'a>)>),
}

impl<'a> Value<'a> {
    /// Equality up to the integer representation: Fleece may hold a small number as an
    /// unsigned int (`UInt`) that an encoder writes back as a signed one, so a value and its
    /// re-encoding compare equal here.
    pub fn equivalent(&self, other: &Value<'_>) -> bool {
        let as_int = |v: &Value<'_>| match v {
            Value::Int(i) => Some(i128::from(*i)),
            Value::UInt(u) => Some(i128::from(*u)),
            _ => None,
        };
        match (self, other) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| x.equivalent(y))
            }
            (Value::Dict(x), Value::Dict(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, x), (ky, y))| kx == ky && x.equivalent(y))
            }
            _ => match (as_int(self), as_int(other)) {
                (Some(x), Some(y)) => x == y,
                _ => self == other,
            },
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Undefined => "undefined",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Data(_) => "data",
            Value::Array(_) => "array",
            Value::Dict(_) => "dict",
        }
    }

    /// The string, if this is a string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::String(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean (no truthiness conversion of numbers).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is an `Int`, or a `UInt` that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The key/value pairs, if this is a dict.
    pub fn as_dict(&self) -> Option<&[(&'a [u8], Value<'a>)]> {
        match self {
            Value::Dict(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// Looks `key` up in a dict. `None` if this is not a dict or the key is
    /// absent. Like `FLDict_Get`, an entry whose value is `Undefined` (Fleece's
    /// "deleted" marker) counts as absent. The search is linear so that it is
    /// also correct for hand-built (unsorted) dicts; option dicts are small.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| v)
            .filter(|v| !matches!(v, Value::Undefined))
    }
}

/// Why Fleece data was rejected (reader) or could not be produced (encoder).
/// Offsets are byte offsets from the start of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleeceError {
    /// Fewer than 2 bytes.
    TooShort { len: usize },
    /// Fleece data always has an even length.
    OddLength { len: usize },
    /// The last 2 bytes are not a pointer, yet the data is longer than 2 bytes.
    RootWithPrefix { len: usize },
    /// A pointer with the extern bit set (a pointer into another document).
    ExternPointer { offset: usize },
    /// A pointer with offset 0 (pointing at itself).
    ZeroOffsetPointer { offset: usize },
    /// A pointer whose target lies before the start of the data.
    PointerBeforeStart { offset: usize },
    /// A pointer reached through another pointer is read as 4 bytes; here those
    /// 4 bytes do not fit before the pointer that led to it.
    PointerOverrun { offset: usize },
    /// A value (or part of one, named by `what`) extends past `end`, the limit
    /// it must stay within.
    Overrun {
        offset: usize,
        what: &'static str,
        end: usize,
    },
    /// Some other structural problem, such as a bad varint.
    Malformed { offset: usize, reason: &'static str },
    /// Collections nested deeper than [`MAX_DEPTH`].
    TooDeep { offset: usize },
    /// The document would expand to more values than one per 2 input bytes.
    TooManyValues { offset: usize },
    /// An integer dict key, i.e. a shared key (needs a shared-keys table).
    IntegerKey { offset: usize },
    /// The "magic parent" key of a dict inheriting from another dict.
    ParentKey { offset: usize },
    /// A dict key that is neither a string nor an integer.
    NonStringKey { offset: usize, found: &'static str },
    /// A dict key not greater than the previous key.
    UnsortedKeys { offset: usize },
    /// A dict key equal to the previous key.
    DuplicateKey { offset: usize },
    /// The [`Encoder`](super::Encoder) calls were not balanced or ordered
    /// correctly.
    EncoderMisuse { reason: &'static str },
    /// NaN was passed to the encoder (Fleece cannot represent it).
    NotANumber,
    /// The encoded document would exceed the 2 GiB that pointers can span.
    TooLarge,
}

impl fmt::Display for FleeceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FleeceError::*;
        match self {
            TooShort { len } => {
                write!(
                    f,
                    "Fleece: data is too short ({len} bytes, at least 2 are needed)"
                )
            }
            OddLength { len } => write!(
                f,
                "Fleece: data length {len} is odd (Fleece data always has an even length)"
            ),
            RootWithPrefix { len } => write!(
                f,
                "Fleece: the last 2 of {len} bytes are not a pointer to the root \
                 (only a 2-byte document may hold its root directly)"
            ),
            ExternPointer { offset } => write!(
                f,
                "Fleece: pointer at offset {offset} has the extern bit set \
                 (pointers into another document are not supported)"
            ),
            ZeroOffsetPointer { offset } => {
                write!(
                    f,
                    "Fleece: pointer at offset {offset} has offset 0 (points at itself)"
                )
            }
            PointerBeforeStart { offset } => write!(
                f,
                "Fleece: pointer at offset {offset} points before the start of the data"
            ),
            PointerOverrun { offset } => write!(
                f,
                "Fleece: pointer at offset {offset}, reached through another pointer and so read \
                 as 4 bytes, overlaps the pointer that led to it"
            ),
            Overrun { offset, what, end } => write!(
                f,
                "Fleece: {what} at offset {offset} extends past offset {end}, \
                 the end of the space it may use"
            ),
            Malformed { offset, reason } => write!(f, "Fleece: {reason} at offset {offset}"),
            TooDeep { offset } => write!(
                f,
                "Fleece: collection at offset {offset} is nested more than {MAX_DEPTH} levels deep"
            ),
            TooManyValues { offset } => write!(
                f,
                "Fleece: at offset {offset} the document expands to more values than its size \
                 allows (collections shared through pointers?)"
            ),
            IntegerKey { offset } => write!(
                f,
                "Fleece: dict key at offset {offset} is an integer \
                 (shared keys are not supported in transport options)"
            ),
            ParentKey { offset } => write!(
                f,
                "Fleece: dict key at offset {offset} is the magic parent key \
                 (dict inheritance is not supported)"
            ),
            NonStringKey { offset, found } => {
                write!(
                    f,
                    "Fleece: dict key at offset {offset} is {found}, not a string"
                )
            }
            UnsortedKeys { offset } => write!(
                f,
                "Fleece: dict key at offset {offset} is out of order (keys must be sorted)"
            ),
            DuplicateKey { offset } => {
                write!(
                    f,
                    "Fleece: dict key at offset {offset} repeats the previous key"
                )
            }
            EncoderMisuse { reason } => write!(f, "Fleece encoder: {reason}"),
            NotANumber => write!(f, "Fleece encoder: NaN cannot be encoded"),
            TooLarge => write!(f, "Fleece encoder: encoded data too large (over 2 GiB)"),
        }
    }
}

impl std::error::Error for FleeceError {}

/// Decodes a complete Fleece document (strictly, see the module docs).
pub fn decode(data: &[u8]) -> Result<Value<'_>, FleeceError> {
    let len = data.len();
    if len < 2 {
        return Err(FleeceError::TooShort { len });
    }
    if len % 2 != 0 {
        return Err(FleeceError::OddLength { len });
    }
    let mut reader = Reader {
        data,
        budget: len / 2,
    };
    reader.charge(1, 0)?; // the root itself

    // Section 7: the last two bytes are either the whole (2-byte) document or
    // a narrow pointer to the root.
    let trailer = len - 2;
    let root = if data[trailer] & 0x80 == 0 {
        if len != 2 {
            return Err(FleeceError::RootWithPrefix { len });
        }
        0
    } else {
        reader.follow(trailer, false)?.0
    };
    // Like real Fleece, the root is checked against the whole buffer rather
    // than against the trailer position (see `root_string_overlaps_trailer`).
    reader.value(root, len, 0)
}

fn is_pointer(byte: u8) -> bool {
    byte & 0x80 != 0
}

/// Human name for a type tag (high nibble), used in key errors.
fn tag_name(tag: u8) -> &'static str {
    match tag {
        0 | 1 => "an integer",
        2 => "a float",
        3 => "a special value (null/boolean/undefined)",
        4 => "a string",
        5 => "binary data",
        6 => "an array",
        7 => "a dict",
        _ => "a pointer",
    }
}

struct Reader<'a> {
    data: &'a [u8],
    /// How many more values (slots) and pointer hops may be produced.
    budget: usize,
}

impl<'a> Reader<'a> {
    fn charge(&mut self, n: usize, offset: usize) -> Result<(), FleeceError> {
        self.budget = self
            .budget
            .checked_sub(n)
            .ok_or(FleeceError::TooManyValues { offset })?;
        Ok(())
    }

    /// `n` bytes at `pos`, which must end at or before `end`.
    fn bytes(
        &self,
        pos: usize,
        n: usize,
        end: usize,
        what: &'static str,
    ) -> Result<&'a [u8], FleeceError> {
        pos.checked_add(n)
            .filter(|&stop| stop <= end)
            .and_then(|stop| self.data.get(pos..stop))
            .ok_or(FleeceError::Overrun {
                offset: pos,
                what,
                end,
            })
    }

    fn byte(&self, pos: usize, end: usize, what: &'static str) -> Result<u8, FleeceError> {
        Ok(self.bytes(pos, 1, end, what)?[0])
    }

    /// Follows the pointer at `pos` (narrow or wide) and any pointers it leads
    /// to. Returns the position of the value finally reached, and the end limit
    /// for that value: the position of the last pointer.
    fn follow(&mut self, mut pos: usize, mut wide: bool) -> Result<(usize, usize), FleeceError> {
        loop {
            let (raw_offset, is_extern) = if wide {
                let b = self.bytes(pos, WIDE, self.data.len(), "pointer")?;
                let raw = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                (raw & 0x3FFF_FFFF, raw & 0x4000_0000 != 0)
            } else {
                let b = self.bytes(pos, NARROW, self.data.len(), "pointer")?;
                let raw = u16::from_be_bytes([b[0], b[1]]);
                (u32::from(raw & 0x3FFF), raw & 0x4000 != 0)
            };
            if is_extern {
                return Err(FleeceError::ExternPointer { offset: pos });
            }
            // The stored offset counts 2-byte units; it is at most 2^30 - 1,
            // so doubling it cannot overflow even a 32-bit usize.
            let offset = raw_offset as usize * 2;
            if offset == 0 {
                return Err(FleeceError::ZeroOffsetPointer { offset: pos });
            }
            let target = pos
                .checked_sub(offset)
                .ok_or(FleeceError::PointerBeforeStart { offset: pos })?;
            if !is_pointer(self.byte(target, pos, "pointer target")?) {
                return Ok((target, pos));
            }
            // A pointer to a pointer: the second one is always read as wide
            //, and must lie entirely before the first.
            if target + WIDE > pos {
                return Err(FleeceError::PointerOverrun { offset: target });
            }
            self.charge(1, target)?;
            pos = target;
            wide = true;
        }
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes, all before `end`,
    /// whose value fits in 32 bits. Returns (value, byte length).
    fn varint(&self, pos: usize, end: usize) -> Result<(usize, usize), FleeceError> {
        let mut value: u64 = 0;
        for i in 0..MAX_VARINT_LEN {
            let b = self.byte(pos + i, end, "varint")?;
            let group = u64::from(b & 0x7F);
            // Groups from the 6th on (bit 35 and up) must be zero; the 5th may
            // still overflow 32 bits, which the check below catches.
            if i >= 5 && group != 0 {
                return Err(FleeceError::Malformed {
                    offset: pos,
                    reason: "varint larger than 2^32-1",
                });
            }
            if i < 5 {
                value |= group << (7 * i);
            }
            if b & 0x80 == 0 {
                let value = u32::try_from(value)
                    .ok()
                    .and_then(|v| usize::try_from(v).ok())
                    .ok_or(FleeceError::Malformed {
                        offset: pos,
                        reason: "varint larger than 2^32-1",
                    })?;
                return Ok((value, i + 1));
            }
        }
        Err(FleeceError::Malformed {
            offset: pos,
            reason: "varint not terminated within 10 bytes",
        })
    }

    /// The bytes of the string or data value at `pos`.
    fn payload(&self, pos: usize, end: usize) -> Result<&'a [u8], FleeceError> {
        let nibble = usize::from(self.byte(pos, end, "string")? & 0x0F);
        let (start, len) = if nibble < 0x0F {
            (pos + 1, nibble)
        } else {
            let (len, varint_len) = self.varint(pos + 1, end)?;
            (pos + 1 + varint_len, len)
        };
        self.bytes(start, len, end, "string or data")
    }

    /// Decodes the slot at `pos`: an inline value or a pointer.
    fn slot(&mut self, pos: usize, width: usize, depth: usize) -> Result<Value<'a>, FleeceError> {
        if is_pointer(self.byte(pos, pos + width, "slot")?) {
            let (target, end) = self.follow(pos, width == WIDE)?;
            self.value(target, end, depth)
        } else {
            // An inline value must fit inside its slot.
            self.value(pos, pos + width, depth)
        }
    }

    /// Decodes the (non-pointer) value at `pos`, which must end by `end`.
    /// `depth` is the number of enclosing collections.
    fn value(&mut self, pos: usize, end: usize, depth: usize) -> Result<Value<'a>, FleeceError> {
        let head = self.bytes(pos, 2, end, "value")?;
        let (b0, b1) = (head[0], head[1]);
        Ok(match b0 >> 4 {
            0 => {
                // 12-bit two's complement, big-endian across the two bytes:
                // shift it to the top of an i16 and back to sign-extend.
                let raw = (u16::from(b0 & 0x0F) << 8) | u16::from(b1);
                Value::Int(i64::from(((raw << 4) as i16) >> 4))
            }
            1 => {
                let n = usize::from(b0 & 0x07) + 1;
                let payload = self.bytes(pos + 1, n, end, "integer")?;
                let mut buf = [0u8; 8];
                buf[..n].copy_from_slice(payload);
                if b0 & 0x08 != 0 {
                    Value::UInt(u64::from_le_bytes(buf))
                } else {
                    // Sign-extend from the top payload byte.
                    let shift = 64 - 8 * n as u32;
                    Value::Int((i64::from_le_bytes(buf) << shift) >> shift)
                }
            }
            2 => {
                if b0 & 0x08 != 0 {
                    let b = self.bytes(pos + 2, 8, end, "64-bit float")?;
                    let mut buf = [0u8; 8];
                    buf.copy_from_slice(b);
                    Value::Float(f64::from_le_bytes(buf))
                } else {
                    let b = self.bytes(pos + 2, 4, end, "32-bit float")?;
                    Value::Float(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                }
            }
            // Reserved low-nibble values read as null, as in real Fleece.
            3 => match b0 & 0x0F {
                0x04 => Value::Bool(false),
                0x08 => Value::Bool(true),
                0x0C => Value::Undefined,
                _ => Value::Null,
            },
            4 => Value::String(self.payload(pos, end)?),
            5 => Value::Data(self.payload(pos, end)?),
            6 | 7 => self.collection(pos, end, depth, b0, b1)?,
            // Callers resolve pointers before calling `value`.
            _ => {
                return Err(FleeceError::Malformed {
                    offset: pos,
                    reason: "unexpected pointer",
                })
            }
        })
    }

    /// Decodes an array or dict whose 2-byte header `b0 b1` is at `pos`.
    fn collection(
        &mut self,
        pos: usize,
        end: usize,
        depth: usize,
        b0: u8,
        b1: u8,
    ) -> Result<Value<'a>, FleeceError> {
        if depth >= MAX_DEPTH {
            return Err(FleeceError::TooDeep { offset: pos });
        }
        let is_dict = b0 >> 4 == 7;
        let what = if is_dict { "dict slots" } else { "array slots" };
        let width = if b0 & 0x08 != 0 { WIDE } else { NARROW };
        let mut count = (usize::from(b0 & 0x07) << 8) | usize::from(b1);
        let mut slots = pos + 2;
        if count == LONG_COUNT {
            let (extra, varint_len) = self.varint(slots, end)?;
            count = LONG_COUNT.checked_add(extra).ok_or(FleeceError::Overrun {
                offset: pos,
                what,
                end,
            })?;
            // An odd-length varint is followed by a pad byte.
            slots += varint_len + (varint_len & 1);
        }
        // All slots must fit before `end`; this also bounds `count` by the
        // input size before anything is allocated.
        let slot_count = (if is_dict {
            count.checked_mul(2)
        } else {
            Some(count)
        })
        .filter(|n| {
            n.checked_mul(width)
                .and_then(|size| slots.checked_add(size))
                .is_some_and(|slots_end| slots_end <= end)
        })
        .ok_or(FleeceError::Overrun {
            offset: pos,
            what,
            end,
        })?;
        self.charge(slot_count, pos)?;

        if !is_dict {
            let mut items = Vec::with_capacity(count);
            for i in 0..count {
                items.push(self.slot(slots + i * width, width, depth + 1)?);
            }
            return Ok(Value::Array(items));
        }

        let mut pairs: Vec<(&'a [u8], Value<'a>)> = Vec::with_capacity(count);
        for i in 0..count {
            let key_pos = slots + 2 * i * width;
            let key = self.key(key_pos, width, i == 0)?;
            if let Some((prev, _)) = pairs.last() {
                match (*prev).cmp(key) {
                    Ordering::Less => {}
                    Ordering::Equal => return Err(FleeceError::DuplicateKey { offset: key_pos }),
                    Ordering::Greater => return Err(FleeceError::UnsortedKeys { offset: key_pos }),
                }
            }
            let value = self.slot(key_pos + width, width, depth + 1)?;
            pairs.push((key, value));
        }
        Ok(Value::Dict(pairs))
    }

    /// Decodes the dict key slot at `pos`, which must hold a string.
    fn key(&mut self, pos: usize, width: usize, first: bool) -> Result<&'a [u8], FleeceError> {
        let (key_pos, end) = if is_pointer(self.byte(pos, pos + width, "dict key")?) {
            self.follow(pos, width == WIDE)?
        } else {
            (pos, pos + width)
        };
        let head = self.bytes(key_pos, 2, end, "dict key")?;
        match head[0] >> 4 {
            4 => self.payload(key_pos, end),
            // -2048 (`08 00`) as the first key is Dict::kMagicParentKey.
            0 if first && head == [0x08, 0x00] => Err(FleeceError::ParentKey { offset: pos }),
            0 | 1 => Err(FleeceError::IntegerKey { offset: pos }),
            tag => Err(FleeceError::NonStringKey {
                offset: pos,
                found: tag_name(tag),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleece::Encoder;

    /// A narrow pointer with the given byte offset.
    fn narrow_ptr(offset: usize) -> [u8; 2] {
        (0x8000 | u16::try_from(offset / 2).unwrap()).to_be_bytes()
    }

    fn err(data: &[u8]) -> FleeceError {
        match decode(data) {
            Ok(v) => panic!("expected an error for {data:02x?}, got {v:?}"),
            Err(e) => e,
        }
    }

    fn ok(data: &[u8]) -> Value<'_> {
        decode(data).unwrap_or_else(|e| panic!("decode of {data:02x?} failed: {e}"))
    }

    #[test]
    fn scalars() {
        assert_eq!(ok(&[0x00, 0x05]), Value::Int(5));
        assert_eq!(ok(&[0x0f, 0xff]), Value::Int(-1));
        assert_eq!(ok(&[0x08, 0x00]), Value::Int(-2048));
        assert_eq!(ok(&[0x07, 0xff]), Value::Int(2047));
        assert_eq!(ok(&[0x30, 0x00]), Value::Null);
        assert_eq!(ok(&[0x34, 0x00]), Value::Bool(false));
        assert_eq!(ok(&[0x38, 0x00]), Value::Bool(true));
        assert_eq!(ok(&[0x3c, 0x00]), Value::Undefined);
        assert_eq!(ok(&[0x40, 0x00]), Value::String(b""));
        assert_eq!(ok(&[0x41, 0x59]), Value::String(b"Y"));
        assert_eq!(ok(&[0x51, 0x22]), Value::Data(b"\x22"));
        assert_eq!(ok(&[0x60, 0x00]), Value::Array(vec![]));
        assert_eq!(ok(&[0x70, 0x00]), Value::Dict(vec![]));
        // A 1-byte long int is legal even though encoders never write it.
        assert_eq!(ok(&[0x10, 0xfe, 0x80, 0x01]), Value::Int(-2));
        assert_eq!(ok(&[0x18, 0xfe, 0x80, 0x01]), Value::UInt(254));
        assert_eq!(
            ok(&[0x12, 0xff, 0x7f, 0xff, 0x80, 0x02]),
            Value::Int(-32769)
        );
        assert_eq!(
            ok(&[0x24, 0x00, 0, 0, 0, 0x3f, 0x80, 0x03]),
            Value::Float(0.5)
        );
    }

    #[test]
    fn accessors() {
        let data = [
            0x70, 0x02, 0x41, 0x61, 0x3c, 0x00, 0x41, 0x62, 0x38, 0x00, 0x80, 0x05,
        ];
        let v = ok(&data);
        assert_eq!(v.type_name(), "dict");
        // "a" maps to undefined, which counts as deleted.
        assert_eq!(v.get("a"), None);
        assert_eq!(v.get("b").and_then(Value::as_bool), Some(true));
        assert_eq!(v.get("c"), None);
        assert_eq!(v.as_dict().map(<[_]>::len), Some(2));
        assert_eq!(Value::UInt(u64::MAX).as_i64(), None);
        assert_eq!(Value::UInt(7).as_i64(), Some(7));
        assert_eq!(Value::String(b"\xff").as_str(), None);
        assert_eq!(Value::Int(1).get("a"), None);
    }

    #[test]
    fn root_out_of_bounds() {
        assert_eq!(err(&[]), FleeceError::TooShort { len: 0 });
        assert_eq!(err(&[0x00]), FleeceError::TooShort { len: 1 });
        assert_eq!(err(&[0x00, 0x01, 0x00]), FleeceError::OddLength { len: 3 });
        assert_eq!(
            err(&[0x00, 0x01, 0x00, 0x02]),
            FleeceError::RootWithPrefix { len: 4 }
        );
        assert_eq!(
            err(&[0x00, 0x01, 0x80, 0x02]),
            FleeceError::PointerBeforeStart { offset: 2 }
        );
        assert_eq!(
            err(&[0x00, 0x01, 0x80, 0x00]),
            FleeceError::ZeroOffsetPointer { offset: 2 }
        );
        assert_eq!(
            err(&[0x00, 0x01, 0xc0, 0x01]),
            FleeceError::ExternPointer { offset: 2 }
        );
        // A 2-byte document that is a pointer has nothing to point to.
        assert_eq!(
            err(&[0x80, 0x01]),
            FleeceError::PointerBeforeStart { offset: 0 }
        );
        // Pointer to pointer: the second is read wide and must fit before the first.
        assert_eq!(
            err(&[0x00, 0x05, 0x80, 0x01, 0x80, 0x01]),
            FleeceError::PointerOverrun { offset: 2 }
        );
        // ... a valid chain: value, wide pointer, narrow trailer.
        assert_eq!(
            ok(&[0x00, 0x05, 0x80, 0x00, 0x00, 0x01, 0x80, 0x02]),
            Value::Int(5)
        );
        // ... a wide pointer with the extern bit.
        assert_eq!(
            err(&[0x00, 0x05, 0xc0, 0x00, 0x00, 0x01, 0x80, 0x02]),
            FleeceError::ExternPointer { offset: 2 }
        );
        // ... a wide pointer before the start.
        assert_eq!(
            err(&[0x00, 0x05, 0x80, 0x00, 0x00, 0x02, 0x80, 0x02]),
            FleeceError::PointerBeforeStart { offset: 2 }
        );
    }

    #[test]
    fn scalar_payload_out_of_bounds() {
        let overrun = |data: &[u8]| {
            assert!(
                matches!(err(data), FleeceError::Overrun { .. }),
                "{data:02x?}"
            )
        };
        overrun(&[0x17, 0xff, 0xff, 0xff, 0x80, 0x02]); // 8-byte int, 3 bytes present
        overrun(&[0x11, 0x00]); // 2-byte long int as a whole 2-byte document
        overrun(&[0x28, 0x00, 0x00, 0x00, 0x80, 0x02]); // 64-bit float
        overrun(&[0x20, 0x00, 0x80, 0x01]); // 32-bit float
        overrun(&[0x4e, 0x61, 0x62, 0x63, 0x80, 0x02]); // string nibble length
        overrun(&[0x5e, 0x61, 0x62, 0x63, 0x80, 0x02]); // data nibble length
        overrun(&[0x4f, 0xe8, 0x07, 0x61, 0x62, 0x63, 0x80, 0x03]); // string varint length
                                                                    // Varint running into its limit: slot -> wide pointer (at 4) -> string
                                                                    // at 0, whose limit is therefore 4.
        overrun(&[
            0x4f, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x02, 0x60, 0x01, 0x80, 0x03, 0x80, 0x02,
        ]);
        overrun(&[0x42, 0x61]); // 2-byte string as a whole document
                                // Root values may extend up to the end of the buffer, over the trailer.
        assert_eq!(ok(&[0x43, 0x61, 0x80, 0x01]), Value::String(b"a\x80\x01"));
    }

    #[test]
    fn bad_varints() {
        let malformed = |data: &[u8]| {
            assert!(
                matches!(err(data), FleeceError::Malformed { .. }),
                "{data:02x?}"
            )
        };
        malformed(&[
            0x4f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x06,
        ]);
        malformed(&[0x4f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x80, 0x03]); // 2^35 - 1
        malformed(&[0x4f, 0x80, 0x80, 0x80, 0x80, 0x10, 0x80, 0x03]); // exactly 2^32
        malformed(&[0x4f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00, 0x80, 0x04]); // bit 35
        malformed(&[
            0x67, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x06,
        ]);
        // A non-minimal but terminated varint is fine: length 2.
        assert_eq!(
            ok(&[0x4f, 0x82, 0x00, 0x61, 0x62, 0x00, 0x80, 0x03]),
            Value::String(b"ab")
        );
    }

    #[test]
    fn collections_out_of_bounds() {
        let overrun = |data: &[u8]| {
            assert!(
                matches!(err(data), FleeceError::Overrun { .. }),
                "{data:02x?}"
            )
        };
        overrun(&[0x60, 0x05, 0x00, 0x01, 0x80, 0x02]); // array count
        overrun(&[0x70, 0x02, 0x41, 0x61, 0x00, 0x01, 0x80, 0x03]); // dict count
        overrun(&[0x68, 0x02, 0x00, 0x01, 0x80, 0x02]); // wide array, no room
        overrun(&[0x67, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x80, 0x03]); // long count
        overrun(&[0x67, 0xff, 0x00, 0x00, 0x80, 0x02]); // long count 2047, no slots
        overrun(&[0x67, 0xff]); // long count varint missing entirely
        overrun(&[0x61, 0x00]); // collection as the whole document with a count
                                // Cycle: the slot points back at its own array, whose slots then end
                                // past the slot position (the limit for the target).
        overrun(&[0x60, 0x01, 0x80, 0x01, 0x80, 0x02]);
        // Slot pointers: before the start, zero, extern (narrow and wide).
        assert_eq!(
            err(&[0x60, 0x01, 0x80, 0x10, 0x80, 0x02]),
            FleeceError::PointerBeforeStart { offset: 2 }
        );
        assert_eq!(
            err(&[0x60, 0x01, 0x80, 0x00, 0x80, 0x02]),
            FleeceError::ZeroOffsetPointer { offset: 2 }
        );
        assert_eq!(
            err(&[0x60, 0x01, 0xc0, 0x01, 0x80, 0x02]),
            FleeceError::ExternPointer { offset: 2 }
        );
        assert_eq!(
            err(&[0x68, 0x01, 0xc0, 0x00, 0x00, 0x01, 0x80, 0x03]),
            FleeceError::ExternPointer { offset: 2 }
        );
        // A slot target is limited by the slot position: the string at 0 claims
        // 6 bytes, running over the array header at 4 into its slot at 6.
        overrun(&[0x46, 0x61, 0x62, 0x63, 0x60, 0x01, 0x80, 0x03, 0x80, 0x02]);
        // An inline value must fit in its slot: a 4-byte int in a narrow slot.
        overrun(&[0x60, 0x01, 0x12, 0x00, 0x00, 0x01, 0x80, 0x03]);
        // ... but in a wide slot it is fine (FLEncoder_WriteValue does this).
        assert_eq!(
            ok(&[0x68, 0x01, 0x12, 0x90, 0xee, 0xfe, 0x80, 0x03]),
            Value::Array(vec![Value::Int(-70000)])
        );
        // Long count 2047 + 1 with its pad byte, all null slots: checks the
        // pad after a 1-byte varint.
        let mut long = vec![0x67, 0xff, 0x01, 0x00];
        long.extend([0x30, 0x00].repeat(2048));
        let trailer = long.len();
        long.extend(narrow_ptr(trailer)); // the array is at offset 0
        assert_eq!(ok(&long), Value::Array(vec![Value::Null; 2048]));
    }

    #[test]
    fn dict_keys() {
        assert_eq!(
            err(&[0x70, 0x01, 0x00, 0x01, 0x41, 0x61, 0x80, 0x03]),
            FleeceError::IntegerKey { offset: 2 }
        );
        assert_eq!(
            err(&[0x70, 0x01, 0x08, 0x00, 0x41, 0x61, 0x80, 0x03]),
            FleeceError::ParentKey { offset: 2 }
        );
        assert_eq!(
            err(&[0x70, 0x01, 0x60, 0x00, 0x00, 0x01, 0x80, 0x03]),
            FleeceError::NonStringKey {
                offset: 2,
                found: "an array"
            }
        );
        assert_eq!(
            err(&[0x70, 0x02, 0x41, 0x62, 0x00, 0x01, 0x41, 0x61, 0x00, 0x02, 0x80, 0x05]),
            FleeceError::UnsortedKeys { offset: 6 }
        );
        assert_eq!(
            err(&[0x70, 0x02, 0x41, 0x61, 0x00, 0x01, 0x41, 0x61, 0x00, 0x02, 0x80, 0x05]),
            FleeceError::DuplicateKey { offset: 6 }
        );
        // Pointer to an integer key.
        assert_eq!(
            err(&[0x11, 0x00, 0x08, 0x00, 0x70, 0x01, 0x80, 0x03, 0x41, 0x61, 0x80, 0x03]),
            FleeceError::IntegerKey { offset: 6 }
        );
        let msg = FleeceError::IntegerKey { offset: 6 }.to_string();
        assert!(
            msg.contains("offset 6") && msg.contains("shared keys"),
            "{msg}"
        );
        // The empty key sorts first; prefixes sort before longer keys.
        let v = ok(&[
            0x70, 0x02, 0x40, 0x00, 0x00, 0x01, 0x41, 0x61, 0x00, 0x02, 0x80, 0x05,
        ]);
        assert_eq!(v.get(""), Some(&Value::Int(1)));
        assert_eq!(v.get("a"), Some(&Value::Int(2)));
    }

    /// `levels` nested arrays, the innermost holding `1`.
    fn nested_arrays(levels: usize) -> Vec<u8> {
        let mut enc = Encoder::new();
        for _ in 0..levels {
            enc.begin_array();
        }
        enc.write_int(1);
        for _ in 0..levels {
            enc.end_array();
        }
        enc.finish().unwrap()
    }

    #[test]
    fn depth_limit() {
        let deepest_allowed = nested_arrays(MAX_DEPTH);
        let mut value = ok(&deepest_allowed);
        for _ in 0..MAX_DEPTH {
            value = match value {
                Value::Array(mut items) if items.len() == 1 => items.pop().unwrap(),
                other => panic!("unexpected {other:?}"),
            };
        }
        assert_eq!(value, Value::Int(1));
        assert!(matches!(
            err(&nested_arrays(MAX_DEPTH + 1)),
            FleeceError::TooDeep { .. }
        ));
        // Far deeper input must fail the same way, without a stack overflow.
        assert!(matches!(
            err(&nested_arrays(100_000)),
            FleeceError::TooDeep { .. }
        ));
    }

    #[test]
    fn shared_collections_cannot_explode() {
        // Each array has two slots pointing at the previous array: 2^40 leaves
        // in 248 bytes. The expansion budget stops it long before.
        let mut data = vec![0x60, 0x02, 0x00, 0x01, 0x00, 0x01];
        let mut prev = 0;
        for _ in 0..40 {
            let header = data.len();
            data.extend([0x60, 0x02]);
            for slot in [header + 2, header + 4] {
                data.extend(narrow_ptr(slot - prev));
            }
            prev = header;
        }
        let trailer = data.len();
        data.extend(narrow_ptr(trailer - prev));
        assert!(matches!(err(&data), FleeceError::TooManyValues { .. }));
    }

    #[test]
    fn every_error_has_a_message() {
        let all = [
            FleeceError::TooShort { len: 1 },
            FleeceError::OddLength { len: 3 },
            FleeceError::RootWithPrefix { len: 4 },
            FleeceError::ExternPointer { offset: 1 },
            FleeceError::ZeroOffsetPointer { offset: 1 },
            FleeceError::PointerBeforeStart { offset: 12 },
            FleeceError::PointerOverrun { offset: 1 },
            FleeceError::Overrun {
                offset: 1,
                what: "string",
                end: 2,
            },
            FleeceError::Malformed {
                offset: 1,
                reason: "x",
            },
            FleeceError::TooDeep { offset: 1 },
            FleeceError::TooManyValues { offset: 1 },
            FleeceError::IntegerKey { offset: 1 },
            FleeceError::ParentKey { offset: 1 },
            FleeceError::NonStringKey {
                offset: 1,
                found: "an array",
            },
            FleeceError::UnsortedKeys { offset: 1 },
            FleeceError::DuplicateKey { offset: 1 },
            FleeceError::EncoderMisuse { reason: "x" },
            FleeceError::NotANumber,
            FleeceError::TooLarge,
        ];
        for e in all {
            assert!(e.to_string().starts_with("Fleece"), "{e}");
        }
        assert_eq!(
            FleeceError::PointerBeforeStart { offset: 12 }.to_string(),
            "Fleece: pointer at offset 12 points before the start of the data"
        );
    }

    /// xorshift64*: a tiny deterministic PRNG, good enough for fuzzing.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        /// Mostly bytes that mean something in Fleece, sometimes anything.
        fn byte(&mut self) -> u8 {
            const INTERESTING: [u8; 24] = [
                0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x0f, 0x30, 0x38, 0x41, 0x42, 0x4f,
                0x60, 0x61, 0x67, 0x68, 0x70, 0x71, 0x78, 0x80, 0xc0, 0xff,
            ];
            if self.next() & 1 == 0 {
                INTERESTING[self.below(INTERESTING.len())]
            } else {
                self.next() as u8
            }
        }
    }

    /// Some valid documents to mutate.
    fn seeds() -> Vec<Vec<u8>> {
        let mut seeds = vec![nested_arrays(3)];
        let mut enc = Encoder::new();
        enc.begin_dict();
        enc.write_key(b"auth");
        enc.begin_dict();
        enc.write_key(b"type");
        enc.write_string(b"Basic");
        enc.write_key(b"username");
        enc.write_string(b"user");
        enc.write_key(b"port");
        enc.write_int(3128);
        enc.write_key(b"n");
        enc.write_double(0.1);
        enc.write_key(b"d");
        enc.write_data(b"\x01\x02\x03");
        enc.end_dict();
        enc.write_key(b"list");
        enc.begin_array();
        for s in ["a", "bb", "bb", "", "ccccccccccccccccccccc"] {
            enc.write_string(s.as_bytes());
        }
        enc.write_uint(u64::MAX);
        enc.write_bool(true);
        enc.write_null();
        enc.write_float(1.5);
        enc.end_array();
        enc.end_dict();
        seeds.push(enc.finish().unwrap());
        seeds.push(vec![
            0x68, 0x02, 0x12, 0x90, 0xee, 0xfe, 0x80, 0x00, 0x00, 0x01, 0x80, 0x05,
        ]);
        seeds
    }

    #[test]
    fn random_bytes_never_panic() {
        let seeds = seeds();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut round_trips) = (0usize, 0usize);
        for i in 0..200_000 {
            let data: Vec<u8> = if i % 2 == 0 {
                let len = 2 * (1 + rng.below(24));
                (0..len).map(|_| rng.byte()).collect()
            } else {
                let mut d = seeds[rng.below(seeds.len())].clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(d.len());
                    match rng.below(4) {
                        0 => d[at] ^= 1 << rng.below(8),
                        1 => d[at] = rng.byte(),
                        2 => d.truncate(at & !1),
                        _ => d.extend([rng.byte(), rng.byte()]),
                    }
                    if d.is_empty() {
                        break;
                    }
                }
                d
            };
            let Ok(value) = decode(&data) else { continue };
            accepted += 1;
            // Whatever the reader accepts must survive a trip through the
            // encoder unchanged (keys are sorted and unique, so this holds).
            let mut enc = Encoder::new();
            if enc.write_value(&value) {
                let bytes = enc.finish().unwrap_or_else(|e| panic!("{value:?}: {e}"));
                let again = decode(&bytes).unwrap_or_else(|e| panic!("{value:?}: {e}"));
                assert!(
                    again.equivalent(&value),
                    "round trip of {data:02x?}: {again:?}"
                );
                round_trips += 1;
            }
        }
        // Make sure the loop exercised the accepting paths too.
        assert!(
            accepted > 5_000 && round_trips > 5_000,
            "{accepted} {round_trips}"
        );
    }
}
