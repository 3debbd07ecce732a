//! The simulated test leads: the DMM's input is wired to the PSU's channel 1 output.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A voltage shared between two instruments (the PSU writes, the DMM reads).
#[derive(Clone, Debug, Default)]
pub(crate) struct Probe(Arc<AtomicU64>);

impl Probe {
    /// The voltage at the probe now, in volts.
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::SeqCst))
    }

    /// Sets the voltage at the probe.
    pub(crate) fn set(&self, volts: f64) {
        self.0.store(volts.to_bits(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_between_clones() {
        let a = Probe::default();
        let b = a.clone();
        assert_eq!(b.get(), 0.0);
        a.set(4.5);
        assert_eq!(b.get(), 4.5);
    }
}
