//! The `#[recorded_test]` attribute of replay.
