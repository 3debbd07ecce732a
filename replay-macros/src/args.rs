//! The attribute's arguments: `session = "…"`, `bench = "…"`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, LitStr, Meta, Token};

use crate::suggest::closest;

/// Every argument `#[recorded_test]` accepts.
pub(crate) const ARGUMENTS: &[&str] = &["session", "bench"];

/// The parsed arguments.
#[derive(Default)]
pub(crate) struct Args {
    /// `session = "…"`, relative to the sessions root.
    pub(crate) session: Option<LitStr>,
    /// `bench = "…"`, relative to the package root.
    pub(crate) bench: Option<LitStr>,
}

/// Parses the arguments, collecting every error into `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Vec<syn::Error>) -> Args {
    let mut args = Args::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(e) => {
            errors.push(syn::Error::new(
                e.span(),
                format!(
                    "{e}; `recorded_test` arguments are written `session = \"psu/ramp.yaml\"`, `bench = \"benches/lab2.yaml\"`"
                ),
            ));
            return args;
        }
    };
    for meta in metas {
        let path = meta.path();
        let Some(name) = path.get_ident().map(|i| i.to_string()) else {
            errors.push(unknown(path.span(), &quote::quote!(#path).to_string()));
            continue;
        };
        let slot = match name.as_str() {
            "session" => &mut args.session,
            "bench" => &mut args.bench,
            other => {
                errors.push(unknown(path.span(), other));
                continue;
            }
        };
        let value = match string_value(&meta, &name) {
            Ok(value) => value,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if slot.is_some() {
            errors.push(syn::Error::new(
                path.span(),
                format!("duplicate `recorded_test` argument `{name}`; remove one of them"),
            ));
            continue;
        }
        let root = if name == "session" {
            "the sessions root"
        } else {
            "the package root"
        };
        if let Err(message) = check_relative(&value.value(), &name, root) {
            errors.push(syn::Error::new(value.span(), message));
            continue;
        }
        *slot = Some(value);
    }
    args
}

fn unknown(span: Span, name: &str) -> syn::Error {
    let expected = ARGUMENTS
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message =
        format!("unknown `recorded_test` argument `{name}`; expected one of {expected}");
    if let Some(suggestion) = closest(name, ARGUMENTS) {
        message.push_str(&format!("\nhelp: did you mean `{suggestion}`?"));
    }
    syn::Error::new(span, message)
}

fn string_value(meta: &Meta, name: &str) -> syn::Result<LitStr> {
    let example = if name == "session" {
        "session = \"psu/ramp.yaml\""
    } else {
        "bench = \"benches/lab2.yaml\""
    };
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Ok(s.clone()),
                other => Err(syn::Error::new(
                    other.span(),
                    format!("expected a string literal for `{name}`, e.g. `{example}`"),
                )),
            },
            other => Err(syn::Error::new(
                other.span(),
                format!("expected a string literal for `{name}`, e.g. `{example}`"),
            )),
        },
        Meta::Path(path) => Err(syn::Error::new(
            path.span(),
            format!("`{name}` needs a value, e.g. `{example}`"),
        )),
        Meta::List(list) => Err(syn::Error::new(
            list.delimiter.span().join(),
            format!("expected `{name} = \"…\"`, e.g. `{example}`"),
        )),
    }
}

/// The compile-time half of the runtime's path check: relative, no `..`, not empty.
pub(crate) fn check_relative(path: &str, name: &str, root: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(format!(
            "`{name}` is empty; give a file path relative to {root}"
        ));
    }
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err(format!(
            "`{name} = \"{path}\"` is absolute; use a path relative to {root}"
        ));
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return Err(format!(
            "`{name} = \"{path}\"` leaves {root} with `..`; use a path inside it"
        ));
    }
    Ok(())
}
