//! Byte strings as `0x` hex, in batch files, outcomes and reports.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Bytes written as a `0x` hex string (`0x` alone is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexBytes(pub Vec<u8>);

impl fmt::Display for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    /// From a string, with a visitor, so that an error is raised while the field is read and the
    /// YAML error names the field's path.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = HexBytes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("hex bytes: a string of 0x and hex digits")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<HexBytes, E> {
                let digits: String = text.split_whitespace().collect();
                let hex = digits
                    .strip_prefix("0x")
                    .ok_or_else(|| E::custom(format!("`{text}` is not hex bytes: missing 0x")))?;
                hex::decode(hex)
                    .map(HexBytes)
                    .map_err(|err| E::custom(format!("`{text}` is not hex bytes: {err}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
