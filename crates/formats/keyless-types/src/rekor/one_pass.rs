//! [`EntryBody::parse`]'s fast path: a body whose `apiVersion` and `kind`
//! come before its `spec`, read in one pass instead of reading the header
//! and then the whole body again.

use serde::Deserialize;

use super::{DsseV002Spec, EntryBody, HashedRekordV002Spec};

/// A body read in one pass, its spec parsed as the kind and version read
/// before it. Any other shape (spec first, a repeated key, an unsupported
/// kind, anything that does not parse) is an error, and
/// [`EntryBody::parse`] then reads the body the two-pass way, so this
/// only ever answers where that would give the same body.
pub(super) struct OnePass(pub(super) EntryBody);

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    ApiVersion,
    Kind,
    Spec,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for OnePass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OnePassVisitor)
    }
}

struct OnePassVisitor;

impl<'de> serde::de::Visitor<'de> for OnePassVisitor {
    type Value = OnePass;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an entry body with apiVersion and kind before spec")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OnePass, A::Error> {
        use serde::de::Error;
        let (mut version, mut kind, mut body) = (None::<String>, None::<String>, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::ApiVersion if version.is_none() => version = Some(map.next_value()?),
                Key::Kind if kind.is_none() => kind = Some(map.next_value()?),
                Key::Spec if body.is_none() => {
                    body = Some(match (kind.as_deref(), version.as_deref()) {
                        (Some("hashedrekord"), Some("0.0.1")) => {
                            EntryBody::HashedRekordV001(map.next_value()?)
                        }
                        (Some("hashedrekord"), Some("0.0.2")) => EntryBody::HashedRekordV002(
                            map.next_value::<HashedRekordV002Spec>()?.hashed_rekord_v002,
                        ),
                        (Some("dsse"), Some("0.0.1")) => EntryBody::DsseV001(map.next_value()?),
                        (Some("dsse"), Some("0.0.2")) => {
                            EntryBody::DsseV002(map.next_value::<DsseV002Spec>()?.dsse_v002)
                        }
                        (Some("intoto"), Some("0.0.2")) => EntryBody::IntotoV002(map.next_value()?),
                        _ => return Err(A::Error::custom("not in one pass")),
                    })
                }
                Key::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                _ => return Err(A::Error::custom("repeated key")),
            }
        }
        match (version, kind, body) {
            (Some(_), Some(_), Some(body)) => Ok(OnePass(body)),
            _ => Err(A::Error::custom("incomplete")),
        }
    }
}
