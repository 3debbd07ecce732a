//! The library side of the `replay` command: the dashboard server of `replay serve`
//! ([`dashboard`]) and the analysis reports of `replay report` ([`analysis`]), so that a
//! program can embed the dashboard with its own routes, and tests can drive both.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod dashboard;

#[cfg(doctest)]
#[doc = include_str!("../../docs/dashboard.md")]
struct DashboardGuideDoctests;
