//! Exponential backoff with jitter for retrying cloud calls.

use std::time::Duration;

/// Delay before attempt `attempt + 1` after `attempt` failures: `base · 2^(attempt-1)`, capped at
/// `max`, then scaled by a random factor in [0.5, 1.0] so retries of many jobs spread out.
pub fn delay(attempt: i64, base: Duration, max: Duration) -> Duration {
    use rand::Rng;
    let exp = attempt.clamp(1, 30) - 1;
    let raw = base.saturating_mul(1u32 << exp.min(20) as u32).min(max);
    raw.mul_f64(rand::rng().random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 1..40 {
            let d = delay(attempt, base, max);
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(max);
            assert!(
                d <= ceiling && d >= ceiling / 2,
                "attempt {attempt}: {d:?} vs {ceiling:?}"
            );
        }
    }
}
