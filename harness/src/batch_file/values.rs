//! Value types of the YAML batch format: numbers and byte strings as people write them.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zksync_types::{u256_to_h256, H256, U256};

/// A 256-bit number: a YAML integer, or a string in decimal or `0x` hex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub U256);

impl Quantity {
    /// As a 32-byte big-endian word (storage keys and values).
    pub fn to_word(self) -> H256 {
        u256_to_h256(self.0)
    }
}

impl From<u64> for Quantity {
    fn from(value: u64) -> Self {
        Self(value.into())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 <= U256::from(u64::MAX) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:#x}", self.0)
        }
    }
}

impl std::str::FromStr for Quantity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim().replace('_', "");
        let parsed = match text.strip_prefix("0x") {
            Some(hex) if !hex.is_empty() && hex.len() <= 64 => U256::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None => U256::from_dec_str(&text).ok(),
        };
        parsed
            .map(Self)
            .ok_or_else(|| format!("`{text}` is not a 256-bit number (decimal, or hex with 0x)"))
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 <= U256::from(u64::MAX) {
            serializer.serialize_u64(self.0.as_u64())
        } else {
            serializer.serialize_str(&format!("{:#x}", self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Quantity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer, or a string in decimal or 0x hex")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Quantity, E> {
                Ok(value.into())
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Quantity, E> {
                u64::try_from(value)
                    .map(Quantity::from)
                    .map_err(|_| E::custom(format!("{value} is negative")))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Quantity, E> {
                value.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
