//! The server's key upkeep, run every few seconds beside the expiry sweeper: re-reads the root key provider (so
//! a running server starts wrapping under the version `arca root rotate` added, well within the rotation's
//! settle time), advances the background rewrap of rotated project KEKs, and — when `[keys]
//! pkek_rotation_period` is set — rotates project KEKs older than that period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{CoreError, KeyHierarchy};

use super::{PkekRotation, blocking};

/// Objects re-sealed per transaction by the background rewrap.
const REWRAP_BATCH: u32 = 100;
/// Objects re-sealed per tick at most, so the rewrap never crowds out requests.
const REWRAP_BUDGET: u64 = 2_000;
/// Projects rotated per scheduled-rotation check at most.
const ROTATIONS_PER_CHECK: u32 = 100;
/// How often the scheduled rotation looks for due projects.
const SCHEDULE_EVERY: Duration = Duration::from_secs(60);

/// The periodic key upkeep of a server.
pub struct KeyMaintenance {
    keys: Arc<KeyHierarchy>,
    pkek: PkekRotation,
    period: Option<Duration>,
    last_schedule: Option<Instant>,
}

impl KeyMaintenance {
    /// Upkeep over `keys` and `pkek`, rotating project KEKs older than `period` when given.
    pub fn new(keys: Arc<KeyHierarchy>, pkek: PkekRotation, period: Option<Duration>) -> Self {
        Self {
            keys,
            pkek,
            period,
            last_schedule: None,
        }
    }

    /// One tick: reload the root key, scheduled rotations when due, one rewrap pass. Returns how many projects
    /// were rotated and objects re-sealed.
    pub async fn tick(&mut self) -> Result<(u64, u64), CoreError> {
        blocking(self.keys.root(), |r| r.reload()).await?;
        let mut rotated = 0;
        if let Some(period) = self.period
            && self
                .last_schedule
                .is_none_or(|t| t.elapsed() >= SCHEDULE_EVERY)
        {
            self.last_schedule = Some(Instant::now());
            rotated = self.pkek.rotate_due(period, ROTATIONS_PER_CHECK).await?;
        }
        let resealed = self
            .pkek
            .rewrap_pending(REWRAP_BATCH, REWRAP_BUDGET)
            .await?;
        Ok((rotated, resealed))
    }
}
