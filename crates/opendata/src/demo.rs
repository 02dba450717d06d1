//! The demo catalogue (filled in by the pages work).

use crate::OpenData;

/// Loads the demo datasets (idempotent); returns how many were added.
pub async fn load(_state: &OpenData) -> anyhow::Result<usize> {
    Ok(0)
}
