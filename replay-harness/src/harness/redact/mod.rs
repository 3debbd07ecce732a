//! Redactions for snapshots, applied before insta sees the value: insta's selector syntax
//! on insta's `Content`, without insta's `redactions` feature (which compiles a parser
//! generator into every test build).

#[cfg(test)]
mod conformance;
mod content;
mod selector;

pub(crate) use content::{sort_maps, to_content};
pub(crate) use selector::Selector;
