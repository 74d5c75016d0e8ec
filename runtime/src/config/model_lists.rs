//! Which models are audited: the labels of `AUDIT_MODELS`
//! ([`ModelSelection`]) and `NOT_AUDIT_MODELS` ([`ModelList`]), read from a
//! list or a comma-separated string.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Which models AUDIT_MODELS selects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelSelection {
    /// Every audited model (`"all"`).
    #[default]
    All,
    /// Only these labels (`app.model`, lower case).
    Only(BTreeSet<String>),
}

impl ModelSelection {
    /// The listed labels, `None` for `All`.
    pub fn labels(&self) -> Option<&BTreeSet<String>> {
        match self {
            ModelSelection::All => None,
            ModelSelection::Only(labels) => Some(labels),
        }
    }
}

/// A set of model labels (NOT_AUDIT_MODELS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelList(pub BTreeSet<String>);

impl Serialize for ModelSelection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ModelSelection::All => serializer.serialize_str("all"),
            ModelSelection::Only(labels) => labels.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ModelSelection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LabelsVisitor { allow_all: true })
    }
}

impl Serialize for ModelList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ModelList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(LabelsVisitor { allow_all: false })? {
            ModelSelection::Only(labels) => Ok(ModelList(labels)),
            ModelSelection::All => Ok(ModelList::default()),
        }
    }
}

/// Accepts `"all"`, a comma-separated string, or a list of strings; labels
/// are trimmed and lower-cased.
struct LabelsVisitor {
    allow_all: bool,
}

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = ModelSelection;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow_all {
            f.write_str("\"all\", a list of model labels, or a comma-separated string of them")
        } else {
            f.write_str("a list of model labels, or a comma-separated string of them")
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if self.allow_all && value.trim().eq_ignore_ascii_case("all") {
            return Ok(ModelSelection::All);
        }
        Ok(ModelSelection::Only(
            value
                .split(',')
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .map(str::to_lowercase)
                .collect(),
        ))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(if self.allow_all {
            ModelSelection::All
        } else {
            ModelSelection::Only(BTreeSet::new())
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut labels = BTreeSet::new();
        while let Some(label) = seq.next_element::<String>()? {
            labels.insert(label.trim().to_lowercase());
        }
        Ok(ModelSelection::Only(labels))
    }
}
