//! `#[recorded_test]` on `proc_macro2`: parse, check, expand.
//!
//! ```text
//! #[recorded_test] async fn psu_ramp(bench: &Bench) -> R { body }
//! ```
//! becomes
//! ```text
//! async fn __recorded_test_psu_ramp(bench: &Bench) -> R { body }      // the private body
//! #[test] fn psu_ramp() { run_as_libtest(&__RECORDED_TEST_PSU_RAMP) }  // for cargo test
//! #[distributed_slice(TESTS)] static __RECORDED_TEST_PSU_RAMP: TestDef = …;  // for the harness
//! ```

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ItemFn, Lit, Meta};

use crate::args;
use crate::check::{check_attributes, check_signature, is_rejected};

/// The whole attribute: on any error, the compile errors plus the function unchanged (so
/// IDEs keep resolving it).
pub(crate) fn recorded_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let args = args::parse(args, &mut errors);
    let item_fn = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(e) => {
            errors.push(syn::Error::new(
                e.span(),
                format!("{e}\nhelp: `#[recorded_test]` goes on an `async fn name(bench: &Bench)`"),
            ));
            return with_errors(errors, item);
        }
    };
    check_attributes(&item_fn.attrs, &mut errors);
    check_signature(&item_fn, &mut errors);
    if !errors.is_empty() {
        // Keep the function for the IDE, without the attributes that caused errors.
        let mut item_fn = item_fn;
        item_fn.attrs.retain(|attr| !is_rejected(attr));
        return with_errors(errors, quote!(#[allow(dead_code)] #item_fn));
    }
    expand(&args, item_fn)
}

fn with_errors(errors: Vec<syn::Error>, item: TokenStream) -> TokenStream {
    let mut iter = errors.into_iter();
    let Some(mut combined) = iter.next() else {
        return item;
    };
    for e in iter {
        combined.combine(e);
    }
    let errors = combined.into_compile_error();
    quote!(#errors #item)
}

/// Where each of the user's attributes goes.
struct SortedAttrs {
    /// `#[cfg]` and `#[cfg_attr]`: on every generated item.
    cfg: Vec<Attribute>,
    /// Doc comments: on the `#[test]` function.
    doc: Vec<Attribute>,
    /// `#[ignore]` / `#[ignore = "reason"]`: on the `#[test]` function, and registered.
    ignore: Option<Attribute>,
    /// Everything else (`#[allow]`, `#[expect]`, …): on the body.
    body: Vec<Attribute>,
}

fn sort_attrs(attrs: Vec<Attribute>) -> SortedAttrs {
    let mut sorted = SortedAttrs {
        cfg: Vec::new(),
        doc: Vec::new(),
        ignore: None,
        body: Vec::new(),
    };
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("cfg") || path.is_ident("cfg_attr") {
            sorted.cfg.push(attr);
        } else if path.is_ident("doc") {
            sorted.doc.push(attr);
        } else if path.is_ident("ignore") {
            sorted.ignore = Some(attr);
        } else {
            sorted.body.push(attr);
        }
    }
    sorted
}

fn ignore_reason(attr: &Attribute) -> Option<String> {
    match &attr.meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Some(s.value()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn option_str(value: Option<String>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// The `TestRules` literal of the matching and timing arguments.
fn rules(args: &args::Args) -> TokenStream {
    let krate = quote!(::replay_harness::__private);
    let matching = option_str(args.matching.as_ref().map(|s| s.value()));
    let timing = option_str(args.timing.as_ref().map(|s| s.value()));
    let tolerance = match args.tolerance {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };
    let list = |values: &Option<Vec<syn::LitStr>>| {
        let values = values.iter().flatten().map(|v| v.value());
        quote!(&[#(#values),*])
    };
    let keywords = list(&args.keywords);
    let ignore = list(&args.ignore);
    let repeatable = list(&args.repeatable);
    quote! {
        #krate::TestRules {
            matching: #matching,
            tolerance: #tolerance,
            keywords: #keywords,
            ignore: #ignore,
            repeatable: #repeatable,
            timing: #timing,
        }
    }
}

fn expand(args: &args::Args, mut item_fn: ItemFn) -> TokenStream {
    let attrs = sort_attrs(std::mem::take(&mut item_fn.attrs));
    let name = item_fn.sig.ident.clone();
    // `r#match` registers as `match` (as libtest names it) and derives `__recorded_test_match`.
    let name_str = name.unraw().to_string();
    let body_ident = format_ident!("__recorded_test_{}", name_str, span = name.span());
    let def_ident = format_ident!(
        "__RECORDED_TEST_{}",
        name_str.to_uppercase(),
        span = name.span()
    );
    item_fn.sig.ident = body_ident.clone();
    item_fn.vis = syn::Visibility::Inherited;

    let SortedAttrs {
        cfg,
        doc,
        ignore,
        body,
    } = attrs;
    let ignored = ignore.is_some();
    let reason = option_str(ignore.as_ref().and_then(ignore_reason));
    let session = option_str(args.session.as_ref().map(|s| s.value()));
    let bench = option_str(args.bench.as_ref().map(|s| s.value()));
    let rules = rules(args);
    let krate = quote!(::replay_harness::__private);
    // A return type that is not `()`/`Result<(), E>` is reported on the return type.
    let return_span = match &item_fn.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => name.span(),
    };
    let into_result = quote_spanned!(return_span=>
        #krate::TestReturn::into_test_result(#body_ident(bench).await)
    );

    quote! {
        #(#cfg)*
        #(#body)*
        #[doc(hidden)]
        #item_fn

        #(#cfg)*
        #(#doc)*
        #[::core::prelude::v1::test]
        #ignore
        fn #name() {
            #krate::run_as_libtest(&#def_ident)
        }

        #(#cfg)*
        #krate::recorded_test_def! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #def_ident: #krate::TestDef = #krate::TestDef {
            name: #name_str,
            module_path: ::core::module_path!(),
            session: #session,
            bench: #bench,
            manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
            package: ::core::env!("CARGO_PKG_NAME"),
            crate_name: ::core::env!("CARGO_CRATE_NAME"),
            file: ::core::file!(),
            line: ::core::line!(),
            ignored: #ignored,
            ignore_reason: #reason,
            rules: #rules,
            body: {
                fn run(bench: &::replay_harness::Bench) -> #krate::BodyFuture<'_> {
                    ::std::boxed::Box::pin(async move {
                        #[allow(unused_imports)]
                        use #krate::{
                            DescribeDebug as _, DescribeDisplay as _, DescribeDynError as _,
                            DescribeError as _,
                        };
                        match #into_result {
                            ::core::result::Result::Ok(()) => ::core::result::Result::Ok(()),
                            ::core::result::Result::Err(error) => ::core::result::Result::Err(
                                (&&&&#krate::Describe(&error)).describe(),
                            ),
                        }
                    })
                }
                run
            },
        };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(args: &str, item: &str) -> String {
        recorded_test(args.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    fn errors_of(args: &str, item: &str) -> Vec<String> {
        let out = expand_str(args, item);
        out.split("compile_error ! {")
            .skip(1)
            .map(|rest| {
                let end = rest.find("\" }").unwrap() + 1;
                let lit: syn::LitStr = syn::parse_str(rest[..end].trim()).unwrap();
                lit.value()
            })
            .collect()
    }

    const GOOD: &str = "async fn psu_ramp(bench: &Bench) -> replay_harness::TestResult { Ok(()) }";

    #[test]
    fn expands_body_test_and_registration() {
        let out = expand_str("", GOOD);
        assert!(
            out.contains("async fn __recorded_test_psu_ramp (bench : & Bench)"),
            "{out}"
        );
        assert!(
            out.contains("# [:: core :: prelude :: v1 :: test] fn psu_ramp ()"),
            "{out}"
        );
        assert!(out.contains("static __RECORDED_TEST_PSU_RAMP"), "{out}");
        assert!(
            out.contains(":: replay_harness :: __private :: recorded_test_def ! {"),
            "{out}"
        );
        assert!(
            out.contains("session : :: core :: option :: Option :: None"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn raw_identifier_names() {
        let out = expand_str("", "async fn r#match(bench: &Bench) {}");
        assert!(out.contains("async fn __recorded_test_match"), "{out}");
        assert!(out.contains("fn r#match ()"), "{out}");
        assert!(out.contains("static __RECORDED_TEST_MATCH"), "{out}");
        assert!(out.contains("name : \"match\""), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn arguments_are_registered() {
        let out = expand_str(
            "session = \"psu/ramp.yaml\", bench = \"benches/lab2.yaml\"",
            GOOD,
        );
        assert!(
            out.contains("session : :: core :: option :: Option :: Some (\"psu/ramp.yaml\")"),
            "{out}"
        );
        assert!(
            out.contains("bench : :: core :: option :: Option :: Some (\"benches/lab2.yaml\")"),
            "{out}"
        );
    }

    #[test]
    fn attributes_are_routed() {
        let item = "#[cfg(unix)] #[ignore = \"needs the lab\"] /// docs\n #[allow(unused)] async fn t(bench: &Bench) {}";
        let out = expand_str("", item);
        assert_eq!(out.matches("# [cfg (unix)]").count(), 3, "{out}");
        assert!(out.contains("ignored : true"), "{out}");
        assert!(
            out.contains("ignore_reason : :: core :: option :: Option :: Some (\"needs the lab\")"),
            "{out}"
        );
        // `#[allow]` stays on the body, the ignore on the #[test]
        let body_at = out.find("async fn __recorded_test_t").unwrap();
        assert!(out[..body_at].contains("# [allow (unused)]"), "{out}");
        let test_at = out.find("fn t ()").unwrap();
        assert!(
            out[body_at..test_at].contains("# [ignore = \"needs the lab\"]"),
            "{out}"
        );
    }

    #[test]
    fn sync_fn() {
        let errors = errors_of("", "fn t(bench: &Bench) {}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("the `async` keyword is missing"),
            "{errors:?}"
        );
    }

    #[test]
    fn errors_are_collected_and_the_fn_is_kept() {
        let out = expand_str(
            "sesion = \"x.yaml\", bench = 3",
            "#[test] fn t(a: u8, b: u8) {}",
        );
        let errors = errors_of(
            "sesion = \"x.yaml\", bench = 3",
            "#[test] fn t(a: u8, b: u8) {}",
        );
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(
            errors[0].starts_with(
                "unknown `recorded_test` argument `sesion`; expected one of `session`, `bench`"
            ),
            "{errors:?}"
        );
        assert!(errors[0].contains("did you mean `session`?"), "{errors:?}");
        assert!(
            errors[1].starts_with("expected a string literal for `bench`"),
            "{errors:?}"
        );
        assert!(errors[2].starts_with("duplicated attribute"), "{errors:?}");
        assert!(
            errors[3].starts_with("the `async` keyword is missing"),
            "{errors:?}"
        );
        assert!(
            errors[4].starts_with("expected `&Bench`, found `u8`"),
            "{errors:?}"
        );
        assert!(errors[5].starts_with("unexpected parameter"), "{errors:?}");
        assert!(out.contains("fn t (a : u8 , b : u8)"), "{out}");
        assert!(!out.contains("__RECORDED_TEST"), "{out}");
    }

    #[test]
    fn parameter_errors() {
        assert!(errors_of("", "async fn t() {}")[0].starts_with("missing parameter"));
        assert!(
            errors_of("", "async fn t(bench: Bench) {}")[0]
                .contains("take the bench by reference: `&Bench`")
        );
        assert!(
            errors_of("", "async fn t(bench: &mut Bench) {}")[0]
                .starts_with("expected `&Bench`, found `&mut Bench`")
        );
        assert!(errors_of("", "async fn t(bench: &'a replay_harness::Bench) {}").is_empty());
        assert!(errors_of("", "async fn t<T>(bench: &Bench) {}")[0].contains("cannot be generic"));
    }

    #[test]
    fn argument_errors() {
        assert!(errors_of("session", GOOD)[0].starts_with("`session` needs a value"));
        assert!(errors_of("session(\"a\")", GOOD)[0].starts_with("expected `session = \"…\"`"));
        assert!(
            errors_of("session = \"a\", session = \"b\"", GOOD)[0]
                .starts_with("duplicate `recorded_test` argument `session`")
        );
        assert!(
            errors_of("session = \"../x.yaml\"", GOOD)[0]
                .contains("leaves the sessions root with `..`")
        );
        assert!(errors_of("bench = \"/etc/bench.yaml\"", GOOD)[0].contains("is absolute"));
        assert!(errors_of("timeout = 3", GOOD)[0].contains(
            "expected one of `session`, `bench`, `matching`, `tolerance`, `keywords`, `ignore`, `repeatable`, `timing`"
        ));
        assert!(errors_of("ignor = []", GOOD)[0].ends_with("did you mean `ignore`?"));
        assert!(errors_of("session = \"a\" bench", GOOD)[0].contains("arguments are written"));
    }

    /// The fields of the registered `TestRules`, each printed as tokens.
    fn registered_rules(args: &str) -> Vec<(String, String)> {
        let file: syn::File = syn::parse_str(&expand_str(args, GOOD)).unwrap();
        let def: syn::ItemStatic = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Macro(m) => Some(m.mac.parse_body().expect("a static item")),
                _ => None,
            })
            .expect("the registration");
        let syn::Expr::Struct(def) = &*def.expr else {
            panic!("a TestDef literal")
        };
        let rules = def
            .fields
            .iter()
            .find(|f| matches!(&f.member, syn::Member::Named(name) if name == "rules"))
            .expect("a `rules` field");
        let syn::Expr::Struct(rules) = &rules.expr else {
            panic!("a TestRules literal")
        };
        rules
            .fields
            .iter()
            .map(|f| {
                let (member, expr) = (&f.member, &f.expr);
                (quote!(#member).to_string(), quote!(#expr).to_string())
            })
            .collect()
    }

    #[test]
    fn matching_and_timing_are_registered() {
        let rules = registered_rules(
            "matching = \"scpi\", tolerance = 1e-6, keywords = [\"CHANnel\"], ignore = [\"SYST:ERR?\", \"/^DIAG/\"], repeatable = [\"*IDN?\"], timing = \"virtual\"",
        );
        let some = |v: TokenStream| quote!(::core::option::Option::Some(#v)).to_string();
        let expected = vec![
            ("matching".to_owned(), some(quote!("scpi"))),
            ("tolerance".to_owned(), some(quote!(0.000001f64))),
            ("keywords".to_owned(), quote!(&["CHANnel"]).to_string()),
            (
                "ignore".to_owned(),
                quote!(&["SYST:ERR?", "/^DIAG/"]).to_string(),
            ),
            ("repeatable".to_owned(), quote!(&["*IDN?"]).to_string()),
            ("timing".to_owned(), some(quote!("virtual"))),
        ];
        assert_eq!(rules, expected);
        let none = quote!(::core::option::Option::None).to_string();
        let empty = quote!(&[]).to_string();
        assert_eq!(
            registered_rules(""),
            vec![
                ("matching".to_owned(), none.clone()),
                ("tolerance".to_owned(), none.clone()),
                ("keywords".to_owned(), empty.clone()),
                ("ignore".to_owned(), empty.clone()),
                ("repeatable".to_owned(), empty),
                ("timing".to_owned(), none),
            ]
        );
    }

    #[test]
    fn matching_and_timing_errors() {
        let e = errors_of("matching = \"SCPI\"", GOOD);
        assert_eq!(
            e[0],
            "unknown `matching` value `\"SCPI\"`; expected one of `\"exact\"`, `\"scpi\"`\nhelp: did you mean `\"scpi\"`?"
        );
        let e = errors_of("timing = \"paused\"", GOOD);
        assert!(e[0].starts_with("unknown `timing` value `\"paused\"`; expected one of `\"instant\"`, `\"virtual\"`, `\"realtime\"`"), "{e:?}");
        assert!(
            errors_of("ignore = \"SYST:ERR?\"", GOOD)[0]
                .starts_with("expected a list of string literals for `ignore`")
        );
        assert!(errors_of("ignore = [\"\"]", GOOD)[0].starts_with("empty pattern in `ignore`"));
        assert!(errors_of("keywords = [\"chan\"]", GOOD)[0].contains("e.g. `CHANnel`"));
        assert!(
            errors_of("tolerance = -1.0", GOOD)[0]
                .starts_with("expected a non-negative number for `tolerance`")
        );
        assert!(
            errors_of("tolerance = \"1e-6\"", GOOD)[0]
                .starts_with("expected a non-negative number")
        );
        assert!(errors_of("matching", GOOD)[0].starts_with("`matching` needs a value"));
        assert_eq!(
            errors_of("timing = \"virtual\", timing = \"instant\"", GOOD).len(),
            1
        );
    }

    #[test]
    fn not_a_function() {
        let out = expand_str("", "struct S;");
        assert!(out.contains("goes on an `async fn"), "{out}");
        assert!(out.contains("struct S ;"), "{out}");
    }
}
