//! A KPI as both the public KPI page and the DX office's KPI page show it:
//! its block (its rows in the seeds' layout and a chart of targets against
//! actuals), its target revisions and its actuals with their source.

use platform::i18n::Tr;

use crate::charts::{self, YearBar};
use crate::kpi;
use crate::model::KpiView;
use crate::views::{self, KpiLine, fy_label};

/// A KPI block of a project page or a KPI page: its rows, a chart and the chart's table.
pub(super) struct KpiBlock {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) chart: String,
    pub(super) lines: Vec<KpiLine>,
    pub(super) bound: bool,
    pub(super) note: String,
}

/// The block of a KPI for the plan's `years`.
pub(super) fn kpi_block(k: &KpiView, years: &[i32], tr: &Tr) -> KpiBlock {
    let lines = views::lines(k, years, tr);
    let first_series = k.series_names().into_iter().next().unwrap_or_default();
    let mut bars = Vec::new();
    if let (Some(fy), Some(v)) = (k.kpi.baseline_fy, k.kpi.baseline_value) {
        bars.push(YearBar {
            label: tr.f1("plans.baseline_of", "fy", fy_label(fy as i32, tr)),
            target: None,
            actual: Some(v),
        });
    }
    for fy in years {
        bars.push(YearBar {
            label: fy_label(*fy, tr),
            target: k
                .target(&first_series, *fy)
                .and_then(|t| t.target.chart_value()),
            actual: k.actual(&first_series, *fy).and_then(|a| a.value),
        });
    }
    let name = tr.pick(&k.kpi.name, &k.kpi.name_en).to_string();
    KpiBlock {
        id: k.kpi.id,
        chart: charts::target_vs_actual(
            &format!("kpi-{}", k.kpi.id),
            &tr.f1("plans.chart_kpi", "name", &name),
            tr.t("plans.chart_table_below"),
            &bars,
            (tr.t("plans.target"), tr.t("plans.actual")),
        ),
        name,
        lines,
        bound: k.kpi.metric().is_some(),
        note: k.kpi.note.clone(),
    }
}

/// A target revision: the year, the target, the previous target and why.
pub(super) struct RevisionRow {
    pub(super) fy: String,
    pub(super) target: String,
    pub(super) previous: String,
    pub(super) reason: String,
}

/// An actual: the year, the series, the value, its source and date, whether computed live.
pub(super) struct ActualRow {
    pub(super) fy: String,
    pub(super) series: String,
    pub(super) value: String,
    pub(super) source: String,
    pub(super) date: String,
    pub(super) live: bool,
}

/// The KPI's target revisions, year by year.
pub(super) fn revision_rows(k: &KpiView, tr: &Tr) -> Vec<RevisionRow> {
    let unit = &k.kpi.unit;
    k.targets
        .iter()
        .flat_map(|t| {
            t.revisions.iter().map(move |r| RevisionRow {
                fy: fy_label(t.fiscal_year, tr),
                target: t.target.display(unit),
                previous: r.previous.display(unit),
                reason: r.reason.clone(),
            })
        })
        .collect()
}

/// The KPI's actuals, year by year (a live one says so as its source).
pub(super) fn actual_rows(k: &KpiView, tr: &Tr) -> Vec<ActualRow> {
    k.actuals
        .iter()
        .map(|a| ActualRow {
            fy: fy_label(a.fiscal_year, tr),
            series: a.series.clone(),
            value: a
                .value
                .map(|v| format!("{}{}", kpi::number(v), k.kpi.unit))
                .unwrap_or_else(|| a.text.clone()),
            source: if a.live {
                tr.t("plans.live_source").to_string()
            } else {
                a.source.clone()
            },
            date: a.recorded_on.clone().unwrap_or_default(),
            live: a.live,
        })
        .collect()
}
