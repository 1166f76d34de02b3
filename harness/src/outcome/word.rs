//! A 32-byte word: hex in human-readable formats (YAML, JSON), raw bytes in the canonical
//! encoding.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zksync_types::{u256_to_h256, H256, U256};

#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Word(pub [u8; 32]);

impl From<H256> for Word {
    fn from(value: H256) -> Self {
        Self(value.0)
    }
}

impl From<U256> for Word {
    fn from(value: U256) -> Self {
        Self(u256_to_h256(value).0)
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Word {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_string())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            let digits = text
                .strip_prefix("0x")
                .ok_or_else(|| de::Error::custom("a word is 0x followed by 64 hex digits"))?;
            let mut bytes = [0; 32];
            hex::decode_to_slice(digits, &mut bytes)
                .map_err(|err| de::Error::custom(format!("bad word `{text}`: {err}")))?;
            Ok(Self(bytes))
        } else {
            <[u8; 32]>::deserialize(deserializer).map(Self)
        }
    }
}
