//! Checks that the function fits: `async fn name(bench: &Bench) -> () | Result<(), E>`.

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ItemFn, Type};

/// Whether `attr` is one `#[recorded_test]` rejects (`#[test]`, `#[tokio::test]`,
/// `#[should_panic]`): it is dropped from the function emitted alongside the errors.
pub(crate) fn is_rejected(attr: &Attribute) -> bool {
    let path = attr.path();
    path.segments.last().is_some_and(|s| s.ident == "test") || path.is_ident("should_panic")
}

/// Attributes that `#[recorded_test]` already implies or cannot honour.
pub(crate) fn check_attributes(attrs: &[Attribute], errors: &mut Vec<syn::Error>) {
    for attr in attrs {
        let path = attr.path();
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = segments.last().map(String::as_str).unwrap_or_default();
        if last == "test" {
            let name = segments.join("::");
            errors.push(syn::Error::new_spanned(
                attr,
                format!(
                    "duplicated attribute: `#[recorded_test]` already emits `#[test]` and runs the body on a tokio runtime\nhelp: remove `#[{name}]`"
                ),
            ));
        } else if segments.len() == 1 && last == "should_panic" {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[should_panic]` is not supported with `#[recorded_test]`: a test that panics never writes its cassette\nhelp: check the failure inside the test and return `Ok(())`",
            ));
        }
    }
}

/// Checks the signature, collecting every error into `errors`.
pub(crate) fn check_signature(item: &ItemFn, errors: &mut Vec<syn::Error>) {
    let sig = &item.sig;
    let name = &sig.ident;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "the `async` keyword is missing from the function declaration\nhelp: `#[recorded_test]` functions are async: `async fn {name}(bench: &Bench)`"
            ),
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span(),
            "`#[recorded_test]` functions cannot be `const`\nhelp: remove `const`",
        ));
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.push(syn::Error::new(
            token.span(),
            "`#[recorded_test]` functions cannot be `unsafe`\nhelp: remove `unsafe` and use an `unsafe` block inside the body",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(
            abi.span(),
            "`#[recorded_test]` functions cannot have an `extern` ABI\nhelp: remove it",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "`#[recorded_test]` functions cannot be generic\nhelp: remove the generic parameters; the bench is `&Bench`",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(
            variadic.span(),
            "`#[recorded_test]` functions take exactly one parameter, `bench: &Bench`\nhelp: remove `...`",
        ));
    }

    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        None => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!(
                "missing parameter: `#[recorded_test]` functions take the bench\nhelp: add it: `async fn {name}(bench: &Bench)`"
            ),
        )),
        Some(FnArg::Receiver(receiver)) => errors.push(syn::Error::new_spanned(
            receiver,
            "`#[recorded_test]` cannot be used on methods\nhelp: move the test to a free function `async fn(bench: &Bench)`",
        )),
        Some(FnArg::Typed(pat_type)) => check_bench_type(&pat_type.ty, errors),
    }
    for extra in inputs {
        errors.push(syn::Error::new_spanned(
            extra,
            "unexpected parameter: `#[recorded_test]` functions take only `bench: &Bench`\nhelp: remove this parameter; get instruments from the bench with `bench.instrument(\"alias\")`",
        ));
    }
}

/// The parameter must be `&Bench` (any path ending in `Bench`, any lifetime).
fn check_bench_type(ty: &Type, errors: &mut Vec<syn::Error>) {
    let found = type_to_string(ty);
    match ty {
        Type::Reference(reference) => {
            if reference.mutability.is_some() {
                errors.push(syn::Error::new_spanned(
                    ty,
                    format!(
                        "expected `&Bench`, found `{found}`\nhelp: the bench is shared: take it as `&Bench`"
                    ),
                ));
            } else if !is_bench_path(&reference.elem) {
                errors.push(syn::Error::new_spanned(
                    &reference.elem,
                    format!("expected `&Bench`, found `{found}`\nhelp: the parameter is the bench: `bench: &Bench`"),
                ));
            }
        }
        _ if is_bench_path(ty) => errors.push(syn::Error::new_spanned(
            ty,
            format!("expected `&Bench`, found `{found}`\nhelp: take the bench by reference: `&{found}`"),
        )),
        _ => errors.push(syn::Error::new_spanned(
            ty,
            format!("expected `&Bench`, found `{found}`\nhelp: the parameter is the bench: `bench: &Bench`"),
        )),
    }
}

/// A type as people write it: `&mut Bench`, `&'a Vec<u8>` (not `& mut Bench`).
pub(crate) fn type_to_string(ty: &Type) -> String {
    let spaced = quote::quote!(#ty).to_string();
    let chars: Vec<char> = spaced.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            if prev.is_some_and(word) && next.is_some_and(|n| word(n) || n == '\'') {
                out.push(' ');
            }
        } else {
            out.push(c);
            if c == ',' {
                out.push(' ');
            }
        }
    }
    out
}

fn is_bench_path(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => {
            path.qself.is_none()
                && path.path.segments.last().is_some_and(|s| {
                    s.ident == "Bench" && matches!(s.arguments, syn::PathArguments::None)
                })
        }
        Type::Paren(paren) => is_bench_path(&paren.elem),
        Type::Group(group) => is_bench_path(&group.elem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_as_written() {
        let ty = |s: &str| type_to_string(&syn::parse_str::<Type>(s).unwrap());
        assert_eq!(ty("& mut Bench"), "&mut Bench");
        assert_eq!(ty("&'a replay_harness::Bench"), "&'a replay_harness::Bench");
        assert_eq!(ty("Vec<(u8, String)>"), "Vec<(u8, String)>");
        assert_eq!(ty("&dyn Fn(u8) -> u8"), "&dyn Fn(u8)->u8");
    }
}
