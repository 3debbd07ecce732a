//! Any `serde::Serialize` value as insta's [`Content`], built the way insta's own
//! (private) `ContentSerializer` builds it: one `Content` variant per serde data-model
//! call, nothing normalised, so that insta renders our `Content` exactly as it renders the
//! value itself. Checked against insta in `conformance.rs`.

use std::cmp::Ordering;
use std::fmt;

use insta::_macro_support::Content;
use serde::ser::{self, Serialize};

/// Why a value could not be turned into [`Content`]: its `Serialize` impl failed.
#[derive(Debug)]
pub(crate) struct SerializeError(String);

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerializeError {}

impl ser::Error for SerializeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// `value` as insta's [`Content`].
pub(crate) fn to_content<T: Serialize + ?Sized>(value: &T) -> Result<Content> {
    value.serialize(ContentSerializer)
}

/// Sorts every map in `content` by key, as insta does when the bound settings ask for
/// sorted maps (`Settings::set_sort_maps`): scalar keys by kind, then value; other keys by
/// `Content`'s own order.
pub(crate) fn sort_maps(content: &mut Content) {
    content.walk(&mut |content| {
        if let Content::Map(entries) = content {
            entries.sort_by(|a, b| match (MapKey::of(&a.0), MapKey::of(&b.0)) {
                (MapKey::Other, _) | (_, MapKey::Other) => {
                    a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal)
                }
                (a, b) => a.cmp(&b),
            });
        }
        true
    });
}

/// A map key as insta orders it: the variant order is the order of kinds.
#[derive(PartialEq)]
enum MapKey<'a> {
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    U128(u128),
    I128(i128),
    Str(&'a str),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> MapKey<'a> {
    fn of(content: &'a Content) -> Self {
        match *content.resolve_inner() {
            Content::Bool(v) => Self::Bool(v),
            Content::Char(v) => Self::U64(u64::from(v)),
            // insta orders `u8` and `i8` keys with the other kinds (`Other`).
            Content::U16(v) => Self::U64(v.into()),
            Content::U32(v) => Self::U64(v.into()),
            Content::U64(v) => Self::U64(v),
            Content::U128(v) => Self::U128(v),
            Content::I16(v) => Self::I64(v.into()),
            Content::I32(v) => Self::I64(v.into()),
            Content::I64(v) => Self::I64(v),
            Content::I128(v) => Self::I128(v),
            Content::F32(v) => Self::F64(v.into()),
            Content::F64(v) => Self::F64(v),
            Content::String(ref v) => Self::Str(v),
            Content::Bytes(ref v) => Self::Bytes(v),
            _ => Self::Other,
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Self::Bool(_) => 1,
            Self::U64(_) => 2,
            Self::I64(_) => 3,
            Self::F64(_) => 4,
            Self::U128(_) => 5,
            Self::I128(_) => 6,
            Self::Str(_) => 7,
            Self::Bytes(_) => 8,
            Self::Other => 9,
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        self.kind()
            .cmp(&other.kind())
            .then_with(|| match (self, other) {
                (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
                (Self::U64(a), Self::U64(b)) => a.cmp(b),
                (Self::I64(a), Self::I64(b)) => a.cmp(b),
                (Self::F64(a), Self::F64(b)) => a.total_cmp(b),
                (Self::U128(a), Self::U128(b)) => a.cmp(b),
                (Self::I128(a), Self::I128(b)) => a.cmp(b),
                (Self::Str(a), Self::Str(b)) => a.cmp(b),
                (Self::Bytes(a), Self::Bytes(b)) => a.cmp(b),
                _ => Ordering::Equal,
            })
    }
}

struct ContentSerializer;

type Result<T> = std::result::Result<T, SerializeError>;

impl ser::Serializer for ContentSerializer {
    type Ok = Content;
    type Error = SerializeError;
    type SerializeSeq = Elements;
    type SerializeTuple = Elements;
    type SerializeTupleStruct = Elements;
    type SerializeTupleVariant = Elements;
    type SerializeMap = Entries;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    fn serialize_bool(self, v: bool) -> Result<Content> {
        Ok(Content::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Content> {
        Ok(Content::I8(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Content> {
        Ok(Content::I16(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Content> {
        Ok(Content::I32(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Content> {
        Ok(Content::I64(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Content> {
        Ok(Content::I128(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Content> {
        Ok(Content::U8(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Content> {
        Ok(Content::U16(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Content> {
        Ok(Content::U32(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Content> {
        Ok(Content::U64(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Content> {
        Ok(Content::U128(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Content> {
        Ok(Content::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Content> {
        Ok(Content::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Content> {
        Ok(Content::Char(v))
    }
    fn serialize_str(self, v: &str) -> Result<Content> {
        Ok(Content::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Content> {
        Ok(Content::Bytes(v.to_owned()))
    }
    fn serialize_none(self) -> Result<Content> {
        Ok(Content::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Content> {
        Ok(Content::Some(Box::new(to_content(value)?)))
    }
    fn serialize_unit(self) -> Result<Content> {
        Ok(Content::Unit)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Content> {
        Ok(Content::UnitStruct(name))
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Content> {
        Ok(Content::UnitVariant(name, index, variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Content> {
        Ok(Content::NewtypeStruct(name, Box::new(to_content(value)?)))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Content> {
        Ok(Content::NewtypeVariant(
            name,
            index,
            variant,
            Box::new(to_content(value)?),
        ))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Elements> {
        Ok(Elements::new(Shape::Seq, len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements> {
        Ok(Elements::new(Shape::Tuple, len))
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Elements> {
        Ok(Elements::new(Shape::TupleStruct(name), len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Elements> {
        Ok(Elements::new(
            Shape::TupleVariant(name, index, variant),
            len,
        ))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Entries> {
        Ok(Entries {
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Fields> {
        Ok(Fields::new(None, name, len))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Fields> {
        Ok(Fields::new(Some((index, variant)), name, len))
    }
}

/// Which `Content` a list of elements becomes.
enum Shape {
    Seq,
    Tuple,
    TupleStruct(&'static str),
    TupleVariant(&'static str, u32, &'static str),
}

/// The elements of a sequence, tuple, tuple struct or tuple variant.
struct Elements {
    shape: Shape,
    items: Vec<Content>,
}

impl Elements {
    fn new(shape: Shape, len: usize) -> Self {
        Self {
            shape,
            items: Vec::with_capacity(len),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(to_content(value)?);
        Ok(())
    }

    fn finish(self) -> Content {
        match self.shape {
            Shape::Seq => Content::Seq(self.items),
            Shape::Tuple => Content::Tuple(self.items),
            Shape::TupleStruct(name) => Content::TupleStruct(name, self.items),
            Shape::TupleVariant(name, index, variant) => {
                Content::TupleVariant(name, index, variant, self.items)
            }
        }
    }
}

/// The serde traits whose calls all push one element (`$method`) onto [`Elements`].
macro_rules! impl_elements {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Elements {
            type Ok = Content;
            type Error = SerializeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.push(value)
            }
            fn end(self) -> Result<Content> {
                Ok(self.finish())
            }
        }
    )*};
}

impl_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The entries of a map, keys in the order they were serialized.
struct Entries {
    entries: Vec<(Content, Content)>,
    key: Option<Content>,
}

impl ser::SerializeMap for Entries {
    type Ok = Content;
    type Error = SerializeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(to_content(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(|| {
            SerializeError("a map value was serialized before its key".to_owned())
        })?;
        self.entries.push((key, to_content(value)?));
        Ok(())
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<()> {
        self.entries.push((to_content(key)?, to_content(value)?));
        Ok(())
    }
    fn end(self) -> Result<Content> {
        Ok(Content::Map(self.entries))
    }
}

/// The fields of a struct or struct variant (`variant`: its index and name).
struct Fields {
    variant: Option<(u32, &'static str)>,
    name: &'static str,
    fields: Vec<(&'static str, Content)>,
}

impl Fields {
    fn new(variant: Option<(u32, &'static str)>, name: &'static str, len: usize) -> Self {
        Self {
            variant,
            name,
            fields: Vec::with_capacity(len),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.fields.push((key, to_content(value)?));
        Ok(())
    }

    fn finish(self) -> Content {
        match self.variant {
            None => Content::Struct(self.name, self.fields),
            Some((index, variant)) => {
                Content::StructVariant(self.name, index, variant, self.fields)
            }
        }
    }
}

/// The serde traits whose calls all push one named field onto [`Fields`].
macro_rules! impl_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Fields {
            type Ok = Content;
            type Error = SerializeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<()> {
                self.push(key, value)
            }
            fn end(self) -> Result<Content> {
                Ok(self.finish())
            }
        }
    )*};
}

impl_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(serde::Serialize)]
    enum Kind {
        Unit,
        Newtype(u8),
        Tuple(i8, char),
        Struct { a: u16 },
    }

    #[test]
    fn every_data_model_call_has_its_own_variant() {
        let value = (
            Some(1u32),
            None::<u8>,
            vec![
                Kind::Unit,
                Kind::Newtype(2),
                Kind::Tuple(-3, 'x'),
                Kind::Struct { a: 4 },
            ],
            BTreeMap::from([(1i64, "one")]),
        );
        let Content::Tuple(items) = to_content(&value).unwrap() else {
            panic!("a tuple must become Content::Tuple");
        };
        assert_eq!(items[0], Content::Some(Box::new(Content::U32(1))));
        assert_eq!(items[1], Content::None);
        assert_eq!(
            items[2],
            Content::Seq(vec![
                Content::UnitVariant("Kind", 0, "Unit"),
                Content::NewtypeVariant("Kind", 1, "Newtype", Box::new(Content::U8(2))),
                Content::TupleVariant(
                    "Kind",
                    2,
                    "Tuple",
                    vec![Content::I8(-3), Content::Char('x')]
                ),
                Content::StructVariant("Kind", 3, "Struct", vec![("a", Content::U16(4))]),
            ])
        );
        assert_eq!(
            items[3],
            Content::Map(vec![(Content::I64(1), Content::String("one".into()))])
        );
    }

    struct Failing;

    impl Serialize for Failing {
        fn serialize<S: ser::Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
            Err(ser::Error::custom("the probe is not calibrated"))
        }
    }

    #[test]
    fn a_failing_serialize_impl_is_an_error_not_a_panic() {
        let err = to_content(&vec![Failing]).unwrap_err();
        assert_eq!(err.to_string(), "the probe is not calibrated");
    }

    #[test]
    fn sort_maps_orders_kinds_then_values() {
        let mut content = Content::Map(vec![
            (Content::String("b".into()), Content::Unit),
            (Content::U64(2), Content::Unit),
            (Content::String("a".into()), Content::Unit),
            (Content::Bool(true), Content::Unit),
            (Content::U64(1), Content::Unit),
        ]);
        sort_maps(&mut content);
        let Content::Map(entries) = content else {
            unreachable!()
        };
        let keys: Vec<Content> = entries.into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                Content::Bool(true),
                Content::U64(1),
                Content::U64(2),
                Content::String("a".into()),
                Content::String("b".into()),
            ]
        );
    }
}
