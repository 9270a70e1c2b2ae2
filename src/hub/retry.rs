//! Exponential backoff with jitter between retries of one request.

use std::time::Duration;

/// Delays between attempts: 200 ms doubling up to 5 s, with jitter; a
/// Retry-After from the hub wins (up to 30 s).
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    /// A fresh backoff starting at 200 ms.
    pub fn new() -> Self {
        Backoff { next: Duration::from_millis(200) }
    }

    /// The delay before the next attempt.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(5));
        match retry_after {
            Some(wait) => wait.min(Duration::from_secs(30)),
            None => base + base.mul_f64(rand::random::<f64>() * 0.5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let mut b = Backoff::new();
        let first = b.next(None);
        assert!(first >= Duration::from_millis(200) && first <= Duration::from_millis(300));
        for _ in 0..10 {
            b.next(None);
        }
        assert!(b.next(None) <= Duration::from_millis(7500));
        assert_eq!(b.next(Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(b.next(Some(Duration::from_secs(300))), Duration::from_secs(30));
    }
}
