//! Platform metrics a KPI can be bound to: its actuals are then computed
//! from the platform's own records, not typed in (`service::metrics`).

/// A figure of the platform's own.
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
}
