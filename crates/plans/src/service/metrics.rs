//! The platform's figures a KPI can be bound to ([`Metric`]): its actuals are
//! then computed from the platform's own records at the time of asking.

use platform::db::Db;

use super::error::PlansError;
use crate::metrics::Metric;
use crate::store;

/// The metric's value for the organisation in fiscal year `fy`.
pub async fn value(
    db: &Db,
    metric: Metric,
    organisation_id: i64,
    fy: i32,
) -> Result<Option<f64>, PlansError> {
    Ok(match metric {
        Metric::ProceduresOnline => {
            Some(store::metrics::procedures_online(db, organisation_id).await? as f64)
        }
        Metric::ApplicationsReceived => {
            Some(store::metrics::applications_received(db, organisation_id, fy).await? as f64)
        }
        Metric::PriorityVolumeShare => {
            let s = store::inventory::shares(db, organisation_id, true).await?;
            s.volume_share.map(|v| (v * 1000.0).round() / 10.0)
        }
        Metric::FaqAreasCovered => {
            Some(store::metrics::faq_areas_covered(db, organisation_id).await? as f64)
        }
    })
}
