//! Platform metrics a KPI can be bound to: its actuals are then computed
//! from the platform's own records, not typed in.

use platform::db::{Db, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// 電子申請対応手続数: published procedures that accept applications online
    /// (cumulative: the count at the time of asking, shown for the current year).
    ProceduresOnline,
    /// 電子申請・届出システムによる申請件数: applications received online in the fiscal year.
    ApplicationsReceived,
    /// デジタル化した重点手続の割合（年間受付件数ベース）: the share, in %, of the
    /// annual volume of the inventory's priority procedures that is online.
    PriorityVolumeShare,
    /// AIチャットボットによる対応業務数: business areas with at least one
    /// published FAQ entry of the organisation (a snapshot).
    FaqAreasCovered,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::ProceduresOnline,
        Metric::ApplicationsReceived,
        Metric::PriorityVolumeShare,
        Metric::FaqAreasCovered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Metric::ProceduresOnline => "procedures_online",
            Metric::ApplicationsReceived => "applications_received",
            Metric::PriorityVolumeShare => "priority_volume_share",
            Metric::FaqAreasCovered => "faq_areas_covered",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == s)
    }

    /// Whether the value is a snapshot of now (so it belongs to the current
    /// fiscal year only) rather than a count per fiscal year.
    pub fn is_snapshot(self) -> bool {
        !matches!(self, Metric::ApplicationsReceived)
    }

    /// The metric's value for the organisation in fiscal year `fy`.
    pub async fn value(self, db: &Db, organisation_id: i64, fy: i32) -> StoreResult<Option<f64>> {
        match self {
            Metric::ProceduresOnline => {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from procedures where organisation_id = $1 and status = 'published' \
                     and online = $2 and current_form_id is not null",
                )
                .bind(organisation_id)
                .bind(true)
                .fetch_one(db.pool())
                .await?;
                Ok(Some(n as f64))
            }
            Metric::ApplicationsReceived => {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from applications where organisation_id = $1 and fiscal_year = $2 and status <> 'draft'",
                )
                .bind(organisation_id)
                .bind(i64::from(fy))
                .fetch_one(db.pool())
                .await?;
                Ok(Some(n as f64))
            }
            Metric::PriorityVolumeShare => {
                let s = crate::inventory::shares(db, organisation_id, true).await?;
                Ok(s.volume_share.map(|v| (v * 1000.0).round() / 10.0))
            }
            Metric::FaqAreasCovered => {
                // The FAQ module's table (crates/faq); read here so that plans
                // need not depend on the chatbot.
                let n: i64 = sqlx::query_scalar(
                    "select count(distinct area) from faq_entries where organisation_id = $1 and status = 'published'",
                )
                .bind(organisation_id)
                .fetch_one(db.pool())
                .await?;
                Ok(Some(n as f64))
            }
        }
    }
}
