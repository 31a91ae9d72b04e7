//! A field of a document someone wrote (a request, a campaign's tags, the
//! stack's variables): the error that names it and the rule it breaks, and
//! the reading of a JSON object field by field that collects every such
//! error instead of stopping at the first.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::value::Error as NoValue;
use serde::de::{DeserializeOwned, Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// The model's `TagKey`/`TagValue` pattern, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`:
/// letters, separators (white space) and numbers by Unicode general category,
/// and eight ASCII symbols. The categories are those of Unicode 18.0
/// (unicode-properties 0.1.5, pinned by Cargo.lock); the service validates
/// with its own, possibly older, tables, so a character new in Unicode 17 or
/// 18 may pass here and still be refused by CreateCampaign.
pub fn is_tag_text(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
            || matches!(
                c.general_category_group(),
                GeneralCategoryGroup::Letter
                    | GeneralCategoryGroup::Separator
                    | GeneralCategoryGroup::Number
            )
    })
}

/// One thing wrong with a request: the field (a JSON path such as
/// `tags[2].tagKey`) and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Reads a JSON object field by field, collecting every structural error
/// (a missing field, a wrong JSON type, an unknown field).
#[derive(Default)]
pub(crate) struct Reader {
    pub errors: Vec<FieldError>,
}

impl Reader {
    /// A member that must be there (`null` counts as missing).
    pub fn required<T: DeserializeOwned>(
        &mut self,
        parent: &str,
        obj: &Map<String, Value>,
        name: &str,
        expected: &str,
    ) -> Option<T> {
        if obj.get(name).is_none_or(Value::is_null) {
            self.errors
                .push(FieldError::new(join(parent, name), "is required"));
            return None;
        }
        self.optional(parent, obj, name, expected)
    }

    /// A member that may be left out (or `null`).
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        parent: &str,
        obj: &Map<String, Value>,
        name: &str,
        expected: &str,
    ) -> Option<T> {
        let value = obj.get(name).filter(|v| !v.is_null())?;
        match T::deserialize(value) {
            Ok(v) => Some(v),
            Err(_) => {
                self.wrong_type(&join(parent, name), expected, value);
                None
            }
        }
    }

    pub fn wrong_type(&mut self, path: &str, expected: &str, value: &Value) {
        self.errors.push(FieldError::new(
            path,
            format!("must be {expected}, not {}", json_kind(value)),
        ));
    }

    /// Every member of `obj` not in `known`, named.
    pub fn unknown_fields(&mut self, parent: &str, obj: &Map<String, Value>, known: &[&str]) {
        let unknown: BTreeSet<&String> = obj
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        for key in unknown {
            self.errors.push(FieldError::new(
                member_path(parent, key),
                format!("is not a known field; allowed: {}", known.join(", ")),
            ));
        }
    }
}

/// The names of a struct's fields as its derived `Deserialize` knows them
/// (renames applied): so that the fields a reader accepts are the struct's
/// own, not a list written next to it.
pub(crate) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The derived impl hands its fields to `deserialize_struct`, which keeps
    // them and reads nothing.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = NoValue;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, NoValue> {
        Err(NoValue::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, NoValue> {
        *self.0 = fields;
        Err(NoValue::custom("only its fields are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// `parent.name` (`name` at the top).
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// What a JSON value is, for a message: `the string "x"`, `an array`, ...
pub(crate) fn json_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", quote(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A value quoted for a message, cut after 80 characters.
pub(crate) fn quote(s: &str) -> String {
    const SHOWN: usize = 80;
    if s.chars().count() > SHOWN {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head:?}…")
    } else {
        format!("{s:?}")
    }
}

/// The path of a member named by user data (an unknown field, a map key): the
/// key itself when it is short and plain, otherwise quoted and cut, so that a
/// path never carries a huge or unprintable key.
pub(crate) fn member_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().count() <= 64
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '$'));
    let member = if plain {
        key.to_string()
    } else {
        format!("[{}]", quote(key))
    };
    match (parent.is_empty(), plain) {
        (true, _) => member,
        (false, true) => format!("{parent}.{member}"),
        (false, false) => format!("{parent}{member}"),
    }
}
