//! Terminal output: one colour rule for the CLI and the harness.

use std::io::IsTerminal;

/// Whether to colour output written to `stream`: `NO_COLOR` (non-empty) turns colour off
/// (no-color.org), `CLICOLOR_FORCE` (non-empty, not `0`) turns it on, otherwise only on a
/// terminal. The CLI and the harness (unless libtest's `--color` says) both use it.
pub fn color_enabled(stream: &impl IsTerminal) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    stream.is_terminal()
}
