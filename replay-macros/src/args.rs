//! The attribute's arguments: `session = "…"`, `bench = "…"`, `matching = "…"`,
//! `tolerance = …`, `keywords = […]`, `ignore = […]`, `repeatable = […]`, `timing = "…"`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, LitStr, Meta, Token};

use crate::suggest::closest;

/// Every argument `#[recorded_test]` accepts.
pub(crate) const ARGUMENTS: &[&str] = &[
    "session",
    "bench",
    "matching",
    "tolerance",
    "keywords",
    "ignore",
    "repeatable",
    "timing",
];

/// The values `matching` accepts.
const MATCHING: &[&str] = &["exact", "scpi"];
/// The values `timing` accepts.
const TIMING: &[&str] = &["instant", "virtual", "realtime"];

/// The parsed arguments.
#[derive(Default)]
pub(crate) struct Args {
    /// `session = "…"`, relative to the sessions root.
    pub(crate) session: Option<LitStr>,
    /// `bench = "…"`, relative to the package root.
    pub(crate) bench: Option<LitStr>,
    /// `matching = "exact" | "scpi"`.
    pub(crate) matching: Option<LitStr>,
    /// `tolerance = 1e-6`.
    pub(crate) tolerance: Option<f64>,
    /// `keywords = ["CHANnel"]`.
    pub(crate) keywords: Option<Vec<LitStr>>,
    /// `ignore = ["SYST:ERR?"]`.
    pub(crate) ignore: Option<Vec<LitStr>>,
    /// `repeatable = ["*IDN?"]`.
    pub(crate) repeatable: Option<Vec<LitStr>>,
    /// `timing = "instant" | "virtual" | "realtime"`.
    pub(crate) timing: Option<LitStr>,
}

fn example(name: &str) -> &'static str {
    match name {
        "session" => "session = \"psu/ramp.yaml\"",
        "bench" => "bench = \"benches/lab2.yaml\"",
        "matching" => "matching = \"scpi\"",
        "tolerance" => "tolerance = 1e-6",
        "keywords" => "keywords = [\"CHANnel\"]",
        "ignore" => "ignore = [\"SYST:ERR?\"]",
        "repeatable" => "repeatable = [\"*IDN?\"]",
        _ => "timing = \"virtual\"",
    }
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
                    "{e}; `recorded_test` arguments are written `session = \"psu/ramp.yaml\"`, `bench = \"benches/lab2.yaml\"`, `matching = \"scpi\"`, `ignore = [\"SYST:ERR?\"]`"
                ),
            ));
            return args;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let path = meta.path();
        let Some(name) = path.get_ident().map(|i| i.to_string()) else {
            errors.push(unknown(path.span(), &quote::quote!(#path).to_string()));
            continue;
        };
        if !ARGUMENTS.contains(&name.as_str()) {
            errors.push(unknown(path.span(), &name));
            continue;
        }
        if seen.contains(&name) {
            errors.push(syn::Error::new(
                path.span(),
                format!("duplicate `recorded_test` argument `{name}`; remove one of them"),
            ));
            continue;
        }
        seen.push(name.clone());
        if let Err(e) = argument(&mut args, &meta, &name) {
            errors.push(e);
        }
    }
    args
}

fn argument(args: &mut Args, meta: &Meta, name: &str) -> syn::Result<()> {
    match name {
        "session" | "bench" => {
            let value = string_value(meta, name)?;
            let root = if name == "session" {
                "the sessions root"
            } else {
                "the package root"
            };
            check_relative(&value.value(), name, root)
                .map_err(|message| syn::Error::new(value.span(), message))?;
            if name == "session" {
                args.session = Some(value);
            } else {
                args.bench = Some(value);
            }
        }
        "matching" | "timing" => {
            let value = string_value(meta, name)?;
            let valid = if name == "matching" { MATCHING } else { TIMING };
            one_of(&value, name, valid)?;
            if name == "matching" {
                args.matching = Some(value);
            } else {
                args.timing = Some(value);
            }
        }
        "tolerance" => args.tolerance = Some(number_value(meta, name)?),
        _ => {
            let values = list_value(meta, name)?;
            for value in &values {
                check_list_item(value, name)?;
            }
            match name {
                "keywords" => args.keywords = Some(values),
                "ignore" => args.ignore = Some(values),
                _ => args.repeatable = Some(values),
            }
        }
    }
    Ok(())
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

fn one_of(value: &LitStr, name: &str, valid: &[&str]) -> syn::Result<()> {
    let text = value.value();
    if valid.contains(&text.as_str()) {
        return Ok(());
    }
    let expected = valid
        .iter()
        .map(|v| format!("`\"{v}\"`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!("unknown `{name}` value `\"{text}\"`; expected one of {expected}");
    if let Some(suggestion) = closest(&text.to_ascii_lowercase(), valid) {
        message.push_str(&format!("\nhelp: did you mean `\"{suggestion}\"`?"));
    }
    Err(syn::Error::new(value.span(), message))
}

fn name_value<'a>(meta: &'a Meta, name: &str) -> syn::Result<&'a Expr> {
    let example = example(name);
    match meta {
        Meta::NameValue(nv) => Ok(&nv.value),
        Meta::Path(path) => Err(syn::Error::new(
            path.span(),
            format!("`{name}` needs a value, e.g. `{example}`"),
        )),
        Meta::List(list) => {
            let shape = match name {
                "tolerance" => "…",
                "keywords" | "ignore" | "repeatable" => "[\"…\"]",
                _ => "\"…\"",
            };
            Err(syn::Error::new(
                list.delimiter.span().join(),
                format!("expected `{name} = {shape}`, e.g. `{example}`"),
            ))
        }
    }
}

fn string_value(meta: &Meta, name: &str) -> syn::Result<LitStr> {
    let expected = || {
        format!(
            "expected a string literal for `{name}`, e.g. `{}`",
            example(name)
        )
    };
    match name_value(meta, name)? {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Ok(s.clone()),
            other => Err(syn::Error::new(other.span(), expected())),
        },
        other => Err(syn::Error::new(other.span(), expected())),
    }
}

fn number_value(meta: &Meta, name: &str) -> syn::Result<f64> {
    let value = name_value(meta, name)?;
    let number = match value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Float(f) => f.base10_parse::<f64>().ok(),
            Lit::Int(i) => i.base10_parse::<f64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match number {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(syn::Error::new(
            value.span(),
            format!(
                "expected a non-negative number for `{name}`, e.g. `{}`",
                example(name)
            ),
        )),
    }
}

fn list_value(meta: &Meta, name: &str) -> syn::Result<Vec<LitStr>> {
    let expected = || {
        format!(
            "expected a list of string literals for `{name}`, e.g. `{}`",
            example(name)
        )
    };
    let value = name_value(meta, name)?;
    let Expr::Array(array) = value else {
        return Err(syn::Error::new(value.span(), expected()));
    };
    array
        .elems
        .iter()
        .map(|elem| match elem {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Ok(s.clone()),
                other => Err(syn::Error::new(other.span(), expected())),
            },
            other => Err(syn::Error::new(other.span(), expected())),
        })
        .collect()
}

/// What can be checked without the runtime: no empty pattern, keywords in SCPI notation.
/// Regular expressions and SCPI patterns are checked when the test runs.
fn check_list_item(value: &LitStr, name: &str) -> syn::Result<()> {
    let text = value.value();
    if text.trim().is_empty() {
        return Err(syn::Error::new(
            value.span(),
            format!("empty pattern in `{name}`; e.g. `{}`", example(name)),
        ));
    }
    if name == "keywords" {
        let well_formed = text.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return Err(syn::Error::new(
                value.span(),
                format!(
                    "keyword `{text}` is not a SCPI mnemonic; write it with its short form in capitals, e.g. `CHANnel`"
                ),
            ));
        }
    }
    Ok(())
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
