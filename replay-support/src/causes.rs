//! The `caused by:` chain that every error of replay prints in its `Debug` (as anyhow does).

use std::error::Error;
use std::fmt;

/// Writes `error`'s `Display`, then its sources as a `caused by:` list.
///
/// Used by the `Debug` impls of replay's error types, so a test that unwraps or returns an
/// error reads as well as one that prints it.
pub fn fmt_with_causes(error: &dyn Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(error, f)?;
    let mut source = error.source();
    if source.is_some() {
        f.write_str("\n\ncaused by:")?;
    }
    while let Some(cause) = source {
        write!(f, "\n  - {cause}")?;
        source = cause.source();
    }
    Ok(())
}

/// `error`'s `Display` and its `caused by:` list as one string (what
/// [`fmt_with_causes`] writes), for a message built from an error that is not ours.
pub fn with_causes(error: &dyn Error) -> String {
    struct Show<'a>(&'a dyn Error);
    impl fmt::Display for Show<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt_with_causes(self.0, f)
        }
    }
    Show(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("failed to read `x`")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    struct Show<'a>(&'a dyn Error);
    impl fmt::Display for Show<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt_with_causes(self.0, f)
        }
    }

    #[test]
    fn lists_every_cause() {
        let err = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(
            Show(&err).to_string(),
            "failed to read `x`\n\ncaused by:\n  - disk on fire"
        );
        assert_eq!(with_causes(&err), Show(&err).to_string());
    }
}
