//! Halt reasons, typed: the kind of halt (zksync_vm_interface's `Halt` variant) apart from its
//! message, so that comparisons name kinds without reading messages.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zksync_vm_interface::Halt;

/// Declares [`HaltKind`] with one variant per `Halt` variant, its name, and the mapping from
/// `Halt` (exhaustive, so a new upstream variant is a compile error here, not a silent "other").
macro_rules! halt_kinds {
    ($($kind:ident $(($field:tt))?),* $(,)?) => {
        /// Which `Halt` variant a transaction or block tip halted with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum HaltKind {
            $($kind),*
        }

        impl HaltKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [HaltKind] = &[$(HaltKind::$kind),*];

            /// The variant's name, as upstream spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $(HaltKind::$kind => stringify!($kind)),*
                }
            }

            /// The kind of `halt`.
            pub fn of(halt: &Halt) -> Self {
                match halt {
                    $(Halt::$kind $(( halt_kinds!(@ignore $field) ))? => HaltKind::$kind),*
                }
            }
        }
    };
    (@ignore $field:tt) => { .. };
}

halt_kinds! {
    ValidationFailed(_),
    PaymasterValidationFailed(_),
    PrePaymasterPreparationFailed(_),
    PayForTxFailed(_),
    FailedToMarkFactoryDependencies(_),
    FailedToChargeFee(_),
    FromIsNotAnAccount,
    InnerTxError,
    Unknown(_),
    UnexpectedVMBehavior(_),
    BootloaderOutOfGas,
    ValidationOutOfGas,
    TooBigGasLimit,
    NotEnoughGasProvided,
    MissingInvocationLimitReached,
    FailedToSetL2Block(_),
    FailedToAppendTransactionToL2Block(_),
    VMPanic,
    TracerCustom(_),
    FailedToPublishCompressedBytecodes,
    FailedBlockTimestampAssertion,
}

impl fmt::Display for HaltKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A halt: its kind and upstream's message (revert data shown in hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaltReason {
    pub kind: HaltKind,
    pub message: String,
}

impl From<&Halt> for HaltReason {
    fn from(halt: &Halt) -> Self {
        Self {
            kind: HaltKind::of(halt),
            message: halt.to_string(),
        }
    }
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// Encoded as the one string `Kind: message`, the form outcomes have always had, so canonical
/// bytes and golden snapshots do not change with the typed representation.
impl Serialize for HaltReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HaltReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let (name, message) = text
            .split_once(": ")
            .ok_or_else(|| de::Error::custom(format!("`{text}` is not `Kind: message`")))?;
        let kind = HaltKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| de::Error::custom(format!("`{name}` is not a halt kind")))?;
        Ok(Self {
            kind,
            message: message.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use zksync_vm_interface::VmRevertReason;

    use super::*;

    #[test]
    fn kinds_are_upstream_variant_names_and_round_trip() {
        let halt = Halt::ValidationFailed(VmRevertReason::General {
            msg: "nope".into(),
            data: vec![],
        });
        let reason = HaltReason::from(&halt);
        assert_eq!(reason.kind, HaltKind::ValidationFailed);
        assert_eq!(
            format!("{:?}", halt).split('(').next(),
            Some("ValidationFailed")
        );
        let bytes = postcard::to_stdvec(&reason).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&reason.to_string()).unwrap());
        assert_eq!(postcard::from_bytes::<HaltReason>(&bytes).unwrap(), reason);
        assert_eq!(HaltReason::from(&Halt::VMPanic).kind.name(), "VMPanic");
    }
}
