//! The one mutex helper of replay.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, recovering the guard when a panicking holder poisoned it.
///
/// For locks whose every critical section is a single push, read or replace (all of
/// replay's): a panic while holding one cannot leave the data half-updated, so a poisoned
/// lock is still usable, and a test that panicked must not turn every later use of the bench
/// or recorder into a second panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_still_usable() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _guard = m2.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }
}
