//! Turning what a test body returned into a failure message.
//!
//! The expansion of `#[recorded_test]` calls `(&&&&Describe(&err)).describe()` where the
//! error's concrete type is known, so method resolution picks the best description
//! available ("autoref specialization"): an error with its `caused by:` chain, a boxed
//! error with its chain, a `Display` value, or, for anything else, its `Debug` form.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt::{Debug, Display};

/// What a `#[recorded_test]` function may return: `()` or `Result<(), E>` with `E: Debug`.
#[diagnostic::on_unimplemented(
    message = "`#[recorded_test]` functions must return `()` or `Result<(), E>` where `E: Debug`, not `{Self}`",
    label = "this is what the test returns",
    note = "return `replay_harness::TestResult` to use `?` on any error"
)]
pub trait TestReturn {
    /// The error a failing test carries.
    type Error;
    /// `Ok(())` when the test passed.
    fn into_test_result(self) -> Result<(), Self::Error>;
}

impl TestReturn for () {
    type Error = Infallible;
    fn into_test_result(self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<E: Debug> TestReturn for Result<(), E> {
    type Error = E;
    fn into_test_result(self) -> Result<(), E> {
        self
    }
}

/// A borrowed error waiting to be described; see the module docs.
pub struct Describe<'a, T: ?Sized>(pub &'a T);

/// Best: a `std::error::Error`, printed with `Display` and its `caused by:` chain.
pub trait DescribeError {
    /// The failure message.
    fn describe(&self) -> String;
}

impl<T: StdError + 'static> DescribeError for &&&Describe<'_, T> {
    fn describe(&self) -> String {
        chain(self.0)
    }
}

/// A boxed `dyn Error` (as in `replay_harness::TestResult`), printed with its chain.
pub trait DescribeDynError {
    /// The failure message.
    fn describe(&self) -> String;
}

impl<T: AsDynError> DescribeDynError for &&Describe<'_, T> {
    fn describe(&self) -> String {
        chain(self.0.as_dyn_error())
    }
}

/// A `Display` value that is not an error, printed with `Display`.
pub trait DescribeDisplay {
    /// The failure message.
    fn describe(&self) -> String;
}

impl<T: Display + ?Sized> DescribeDisplay for &Describe<'_, T> {
    fn describe(&self) -> String {
        self.0.to_string()
    }
}

/// Anything else `Debug`, printed with `{:#?}`.
pub trait DescribeDebug {
    /// The failure message.
    fn describe(&self) -> String;
}

impl<T: Debug + ?Sized> DescribeDebug for Describe<'_, T> {
    fn describe(&self) -> String {
        format!("{:#?}", self.0)
    }
}

/// Boxed trait objects of `std::error::Error`, which do not implement `Error` themselves.
pub trait AsDynError {
    /// The error behind the box.
    fn as_dyn_error(&self) -> &(dyn StdError + 'static);
}

impl AsDynError for Box<dyn StdError + Send + Sync> {
    fn as_dyn_error(&self) -> &(dyn StdError + 'static) {
        &**self
    }
}

impl AsDynError for Box<dyn StdError + Send> {
    fn as_dyn_error(&self) -> &(dyn StdError + 'static) {
        &**self
    }
}

impl AsDynError for Box<dyn StdError> {
    fn as_dyn_error(&self) -> &(dyn StdError + 'static) {
        &**self
    }
}

/// `Display`, then every `source()` as a `caused by:` list (the layout of
/// `replay_core::Error`'s `Debug`).
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    replay_support::causes::with_causes(error)
}

/// `1 interaction`, `3 interactions`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A ratio as a percentage without trailing zeros: `0.001` → `0.1%`.
#[cfg(feature = "custom-harness")]
pub(crate) fn percent(ratio: f64) -> String {
    let text = format!("{:.3}", ratio * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
#[expect(
    clippy::needless_borrow,
    reason = "autoref specialization: the references select the description"
)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer failed")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn outer() -> Outer {
        Outer(std::io::Error::other("inner cause"))
    }

    #[test]
    fn error_prints_display_and_chain() {
        let e = outer();
        let text = (&&&&Describe(&e)).describe();
        assert_eq!(text, "outer failed\n\ncaused by:\n  - inner cause");
    }

    #[test]
    fn boxed_error_prints_display_and_chain() {
        let e: Box<dyn StdError + Send + Sync> = Box::new(outer());
        let text = (&&&&Describe(&e)).describe();
        assert_eq!(text, "outer failed\n\ncaused by:\n  - inner cause");
        let e: Box<dyn StdError> = Box::new(outer());
        assert_eq!((&&&&Describe(&e)).describe(), text);
    }

    #[test]
    fn display_value_prints_display() {
        let e = String::from("plain message");
        assert_eq!((&&&&Describe(&e)).describe(), "plain message");
    }

    #[test]
    fn debug_value_prints_pretty_debug() {
        #[derive(Debug)]
        #[expect(dead_code, reason = "read through Debug only")]
        struct Code(u8);
        assert_eq!((&&&&Describe(&Code(7))).describe(), "Code(\n    7,\n)");
    }

    #[test]
    fn unit_and_result_convert() {
        assert!(().into_test_result().is_ok());
        assert_eq!(Err::<(), _>(3).into_test_result(), Err(3));
    }
}
