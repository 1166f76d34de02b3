//! Deterministic test keys: key `n` is the secp256k1 secret whose 32-byte big-endian value is `n`.
//! Public knowledge, so never use them outside tests.

use zksync_types::{Address, K256PrivateKey, H256};

/// Secret key number `index` (1-based; zero is not a valid secp256k1 secret).
pub fn test_key(index: u32) -> Option<K256PrivateKey> {
    if index == 0 {
        return None;
    }
    K256PrivateKey::from_bytes(H256::from_low_u64_be(index.into())).ok()
}

/// Address of test key `index`.
pub fn test_key_address(index: u32) -> Option<Address> {
    test_key(index).map(|key| key.address())
}
