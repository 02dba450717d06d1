//! 紙の申請件数: the applications sections received on paper, recorded per
//! procedure and month and published with the online counts.

use super::error::PaperCountError;
use super::publishing;
use super::state::OpenData;
use crate::model::{self, PaperCount};
use crate::store;

/// The local government's published procedures: (code, name), by code.
pub async fn procedures(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<(String, String)>, PaperCountError> {
    Ok(store::procedures::published_procedure_names(&state.platform.db, organisation_id).await?)
}

/// The counts recorded, latest month first (the latest 300).
pub async fn recent(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<PaperCount>, PaperCountError> {
    Ok(store::paper::recent_paper_counts(&state.platform.db, organisation_id).await?)
}

/// Records (or corrects) the paper applications of a procedure in a month
/// (`YYYY-MM`), then publishes the monthly dataset again.
pub async fn record(
    state: &OpenData,
    organisation_id: i64,
    procedure_code: &str,
    month: &str,
    count: i64,
    recorded_by: &str,
) -> Result<(), PaperCountError> {
    let mut tx = state.platform.db.begin().await?;
    store::paper::save_paper_count(
        &mut tx,
        organisation_id,
        procedure_code,
        month,
        count,
        recorded_by,
        &model::now(),
    )
    .await?;
    tx.commit().await?;
    publishing::run(state)
        .await
        .map_err(PaperCountError::Publishing)?;
    Ok(())
}
