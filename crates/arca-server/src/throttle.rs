//! Throttling of authentication failures per source address (DESIGN.md "Identity"): each failed
//! authentication from one IP takes a cell of a per-IP GCRA bucket (`governor`) of `[auth] failure_limit`
//! per minute; once the bucket is empty further failures from that address are answered 429 with
//! `Retry-After` instead of 401. Only failures are throttled (as Vault and Barbican's rate limiting do), so a
//! caller with a good token is never locked out by someone guessing from the same address.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Past this many tracked addresses, the ones whose buckets are full again are forgotten.
const MAX_TRACKED: usize = 100_000;

/// The per-address failure limiter; `None` when `failure_limit` is 0 (throttling off).
pub(crate) struct Throttle {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Throttle {
    /// Allows `per_minute` failures per address per minute (burst `per_minute`); 0 disables throttling.
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// Records one failure from `ip`: `Err(seconds)` to wait when the address is over its limit.
    pub(crate) fn failure(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_waits_and_zero_disables() {
        let t = Throttle::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.failure(ip).is_ok());
        }
        let wait = t.failure(ip).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(t.failure("192.0.2.2".parse().unwrap()).is_ok());
        let off = Throttle::new(0);
        for _ in 0..100 {
            assert!(off.failure(ip).is_ok());
        }
    }
}
