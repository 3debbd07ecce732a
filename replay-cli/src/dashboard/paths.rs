//! Files served only from the configured directories: no `..`, no absolute paths, no
//! symlinks that lead out, no hidden (being written) files.

use std::path::{Component, Path, PathBuf};

use super::errors::{ApiError, ApiResult};

/// Resolves `relative` (already percent-decoded by the router) inside `root`.
///
/// `..`, absolute paths, backslashes, NUL and empty components are a 400; a file that does
/// not exist, is hidden (a dot file: temp files of an atomic write), is not a regular file,
/// or resolves (through symlinks) outside `root` is a 404. `allow_dirs` permits `a/b.yaml`.
pub fn resolve_in(root: &Path, relative: &str, allow_dirs: bool, what: &str) -> ApiResult<PathBuf> {
    if relative.is_empty()
        || relative.contains('\0')
        || relative.contains('\\')
        || relative.starts_with('/')
    {
        return Err(refused(relative, what));
    }
    let rel = Path::new(relative);
    let mut parts = 0;
    for component in rel.components() {
        match component {
            Component::Normal(part) => {
                if part.to_string_lossy().starts_with('.') {
                    return Err(missing(relative, what));
                }
                parts += 1;
            }
            _ => return Err(refused(relative, what)),
        }
    }
    if parts == 0 || (!allow_dirs && parts > 1) {
        return Err(refused(relative, what));
    }
    let root = root.canonicalize().map_err(|_| {
        ApiError::not_found(format!(
            "the {what} directory `{}` does not exist; start the server with an existing directory",
            root.display()
        ))
    })?;
    let full = root
        .join(rel)
        .canonicalize()
        .map_err(|_| missing(relative, what))?;
    if !full.starts_with(&root) || !full.is_file() {
        return Err(missing(relative, what));
    }
    Ok(full)
}

fn refused(relative: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "`{relative}` is not a {what} name this server serves; give a path relative to the {what} directory, without `..`"
    ))
}

fn missing(relative: &str, what: &str) -> ApiError {
    ApiError::not_found(format!(
        "no {what} `{relative}`; list them with `GET /api/{what}s`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join(".replay-x.tmp"), "{").unwrap();
        assert!(resolve_in(dir.path(), "a.json", false, "recording").is_ok());
        for bad in ["../a.json", "/etc/passwd", "x/../a.json", "a\\b", ""] {
            let e = resolve_in(dir.path(), bad, false, "recording").unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
        let e = resolve_in(dir.path(), ".replay-x.tmp", false, "recording").unwrap_err();
        assert_eq!(e.status, 404);
        let e = resolve_in(dir.path(), "sub/a.json", false, "recording").unwrap_err();
        assert_eq!(e.status, 400);
    }
}
