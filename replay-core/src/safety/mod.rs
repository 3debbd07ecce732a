//! Bench safety: redaction of what is written, declared secrets, and safety limits on
//! what is sent. (The maximum response size lives with the transports that enforce it.)

mod guard;
mod limits;
mod redact;
mod scpi;

pub(crate) use guard::{Guard, check_no_secret};
pub(crate) use limits::check_all;
pub use limits::{Limit, Refusal};
pub use redact::RedactRule;
pub(crate) use redact::{Redactor, check_secret_name};
