//! Learning from what the chatbot could not answer: the questions not
//! answered well (not confident, or judged unhelpful) that staff may see,
//! grouped by similarity per business area, and an entry published for a
//! group, which marks its questions resolved.

use platform::accounts::{Role, Staff};

use super::entries;
use super::error::EntryError;
use super::state::Faq;
use crate::entry::Entry;
use crate::learning::{self, Group};
use crate::model::GroupEntry;
use crate::store;

/// Whether a staff member also sees questions that belong to no organisation.
fn sees_unassigned(staff: &Staff) -> bool {
    staff.has(Role::DxOffice) || staff.has(Role::OrgAdmin)
}

/// The unanswered questions of the staff member's organisation, grouped.
pub async fn groups(faq: &Faq, staff: &Staff) -> Result<Vec<Group>, EntryError> {
    let questions = store::unanswered_queries(
        &faq.platform.db,
        staff.organisation_id,
        sees_unassigned(staff),
        2_000,
    )
    .await?;
    let analyzer = faq.engine.analyzer().await;
    tokio::task::spawn_blocking(move || learning::group(questions, &analyzer, 0.3))
        .await
        .map_err(|e| EntryError::Engine(e.into()))
}

/// Creates an entry from a group of unanswered questions (published, of the
/// staff member's organisation; an empty id is generated) and marks the
/// questions resolved. Returns the entry's id and how many were resolved.
pub async fn publish(
    faq: &Faq,
    staff: &Staff,
    group: GroupEntry,
) -> Result<(String, u64), EntryError> {
    let db = &faq.platform.db;
    let org = platform::orgs::organisation_by_id(db, staff.organisation_id)
        .await?
        .ok_or(EntryError::NotFound)?;
    let id = if group.id.trim().is_empty() {
        format!(
            "{}-{}",
            org.code,
            platform::db::Timestamp::now().0.format("%Y%m%d%H%M%S%6f")
        )
    } else {
        group.id.trim().to_string()
    };
    let e = Entry {
        id,
        question: group.question.trim().to_string(),
        answer: group.answer.trim().to_string(),
        area: group.area.trim().to_string(),
        url: group.url.trim().to_string(),
        organisation: org.code.clone(),
        section: group.section.trim().to_string(),
        procedure: group.procedure.trim().to_string(),
        keywords: group.keywords.trim().to_string(),
        status: "published".into(),
        ..Entry::default()
    };
    let db_id = entries::insert(faq, staff, &e).await?;
    let mut tx = db.begin().await?;
    let resolved = store::resolve_in(
        &mut tx,
        &group.question_ids,
        db_id,
        staff.organisation_id,
        sees_unassigned(staff),
    )
    .await?;
    tx.commit().await?;
    Ok((e.id, resolved))
}
