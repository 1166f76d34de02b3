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
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let digits: String = text.split_whitespace().collect();
        let hex = digits
            .strip_prefix("0x")
            .ok_or_else(|| de::Error::custom(format!("`{text}` is not hex bytes: missing 0x")))?;
        hex::decode(hex)
            .map(HexBytes)
            .map_err(|err| de::Error::custom(format!("`{text}` is not hex bytes: {err}")))
    }
}
