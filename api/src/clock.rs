//! The time the hub goes by. Servers run on the system clock; tests move a clock of their own
//! forward instead of waiting, so nothing depends on how fast the machine runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The system time plus an offset that only tests change; cheap to clone, and every clone
/// moves together.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, at the precision both backends store (see [`techex_domain::now`]).
    pub fn now(&self) -> DateTime<Utc> {
        techex_domain::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }

    /// Moves this clock and all its clones forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().expect("an advance of less than 290,000 years");
        self.offset_micros.fetch_add(micros, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_advance_together() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clock.now();
        clone.advance(Duration::days(730));
        let after = clock.now();
        assert!(after - before >= Duration::days(730), "{before} -> {after}");
        assert!(after - before < Duration::days(731), "{before} -> {after}");
    }
}
