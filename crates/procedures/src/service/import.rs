//! Importing procedures: a bundle (TOML or JSON) names an organisation, may
//! add or update its sections, and adds or updates procedures, each with an
//! optional form definition file. Everything is checked before anything is
//! written: a bundle with a problem imports nothing and reports every problem.
//!
//! ```toml
//! organisation = "240001"
//!
//! [[sections]]
//! code = "koko-kyoiku"
//! name = "教育委員会事務局 高校教育課"
//! name_en = "High School Education Division"
//! department = "教育委員会事務局"
//! phone = "059-224-2913"
//!
//! [[procedures]]
//! code = "mie-hs-entrance"
//! section = "koko-kyoiku"
//! name = "三重県立高等学校入学願書"
//! category = "childcare"
//! online = true
//! annual_volume = 17000
//! form = "forms/mie-high-school.toml"   # relative to the bundle
//!
//! # What the procedure page says before the button (each also `…_en`).
//! [procedures.guidance]
//! who_can_apply = "三重県立高等学校を受検する中学生"
//! processing_time = "出願期間の終わりから5日程度"   # 標準処理期間
//! validity = ""                                      # empty: not shown
//! how_you_hear = "受付はメールで、結果は出願先の高校からお知らせします"
//! ```

use platform::db::Db;
use serde::Deserialize;

use crate::catalogue::ProcedureInput;
use crate::form::FormDefinition;
use crate::service::catalogue;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// 全国地方公共団体コード of the organisation the procedures belong to.
    pub organisation: String,
    #[serde(default)]
    pub sections: Vec<SectionInput>,
    #[serde(default)]
    pub procedures: Vec<ProcedureInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub department_en: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// One problem found in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub sections: usize,
    pub procedures: usize,
    pub forms: usize,
}

/// Parses `text` (TOML, or JSON when it starts with `{`), loads each form
/// with `load_form(path)`, checks everything, then writes it.
pub async fn import_bundle(
    db: &Db,
    text: &str,
    load_form: impl Fn(&str) -> Result<String, String>,
) -> Result<ImportReport, Vec<ImportError>> {
    let err = |place: &str, message: String| ImportError {
        place: place.to_string(),
        message,
    };
    let bundle: Bundle = if text.trim_start().starts_with('{') {
        serde_json::from_str(text)
            .map_err(|e| vec![err(&format!("line {}", e.line()), e.to_string())])?
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start.min(text.len())).unwrap_or(text);
                    before.matches('\n').count() + 1
                })
                .unwrap_or(0);
            vec![err(&format!("line {line}"), e.message().to_string())]
        })?
    };
    let mut errors = Vec::new();
    let org = match platform::orgs::organisation_by_code(db, &bundle.organisation).await {
        Ok(Some(o)) => Some(o),
        Ok(None) => {
            errors.push(err(
                "organisation",
                format!("no organisation has the code {:?}", bundle.organisation),
            ));
            None
        }
        Err(e) => return Err(vec![err("database", e.to_string())]),
    };
    let mut section_codes: Vec<String> = bundle.sections.iter().map(|s| s.code.clone()).collect();
    if let Some(org) = &org {
        match platform::orgs::sections_of(db, org.id).await {
            Ok(existing) => section_codes.extend(existing.into_iter().map(|s| s.code)),
            Err(e) => return Err(vec![err("database", e.to_string())]),
        }
    }
    for (i, s) in bundle.sections.iter().enumerate() {
        if s.code.trim().is_empty() || s.name.trim().is_empty() {
            errors.push(err(
                &format!("sections[{i}]"),
                "a section needs a code and a name".into(),
            ));
        }
    }
    let mut forms: Vec<Option<(String, FormDefinition)>> = Vec::new();
    let mut codes = std::collections::HashSet::new();
    for (i, p) in bundle.procedures.iter().enumerate() {
        let place = format!("procedures[{i}] {:?}", p.code);
        if !codes.insert(p.code.clone()) {
            errors.push(err(&place, "the code is used twice in the bundle".into()));
        }
        for (field, message) in p.check() {
            errors.push(err(&format!("{place}.{field}"), message));
        }
        if !section_codes.contains(&p.section) {
            errors.push(err(
                &format!("{place}.section"),
                format!(
                    "no section {:?} in the organisation or the bundle",
                    p.section
                ),
            ));
        }
        match &p.form {
            None => {
                if p.online {
                    errors.push(err(
                        &format!("{place}.form"),
                        "an online procedure needs a form".into(),
                    ));
                }
                forms.push(None);
            }
            Some(path) => match load_form(path) {
                Err(e) => {
                    errors.push(err(
                        &format!("{place}.form"),
                        format!("cannot read {path}: {e}"),
                    ));
                    forms.push(None);
                }
                Ok(source) => match FormDefinition::parse(&source) {
                    Ok(def) => forms.push(Some((source, def))),
                    Err(problems) => {
                        for p in problems {
                            errors.push(err(&format!("{path}: {}", p.place), p.message));
                        }
                        forms.push(None);
                    }
                },
            },
        }
    }
    let Some(org) = org.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let db_err = |e: platform::StoreError| vec![err("database", e.to_string())];
    let mut report = ImportReport::default();
    for s in &bundle.sections {
        let existing = platform::orgs::section_by_code(db, org.id, &s.code)
            .await
            .map_err(db_err)?;
        if existing.is_none() {
            platform::orgs::insert_section(
                db,
                org.id,
                platform::orgs::NewSection {
                    code: &s.code,
                    name: &s.name,
                    name_en: &s.name_en,
                    department: &s.department,
                    department_en: &s.department_en,
                    phone: &s.phone,
                    email: &s.email,
                },
            )
            .await
            .map_err(db_err)?;
            report.sections += 1;
        }
    }
    for (p, form) in bundle.procedures.iter().zip(forms) {
        let procedure = catalogue::upsert_procedure(db, org.id, p)
            .await
            .map_err(db_err)?;
        report.procedures += 1;
        if let Some((source, def)) = form {
            // Store a new version only when the definition changed.
            let unchanged = match procedure.current_form_id {
                Some(fid) => catalogue::form_version(db, fid)
                    .await
                    .map_err(db_err)?
                    .is_some_and(|v| v.source == source),
                None => false,
            };
            if !unchanged {
                catalogue::publish_form(db, &procedure, &source, &def, None)
                    .await
                    .map_err(db_err)?;
                report.forms += 1;
            }
        }
    }
    Ok(report)
}
