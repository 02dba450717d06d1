//! The approvals' domain: steps and routes, the outcome a case proposes, a
//! case and the actions on it, delegations, and the subject a case decides.

use platform::accounts::{Role, Staff};
use platform::db::Timestamp;
use serde::{Deserialize, Serialize};

/// Who may act on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRole {
    SectionStaff,
    Approver,
}

impl StepRole {
    pub fn allows(self, staff: &Staff) -> bool {
        match self {
            StepRole::SectionStaff => staff.has(Role::SectionStaff) || staff.has(Role::Approver),
            StepRole::Approver => staff.has(Role::Approver),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub role: StepRole,
    /// 簡易決裁: any member of the section may sign, the drafter included.
    #[serde(default)]
    pub simple: bool,
}

/// The route used when a procedure has none of its own: 起案 → 決裁.
pub fn default_route() -> Vec<Step> {
    vec![
        Step {
            name: "起案".into(),
            name_en: "Draft".into(),
            role: StepRole::SectionStaff,
            simple: false,
        },
        Step {
            name: "決裁".into(),
            name_en: "Decision".into(),
            role: StepRole::Approver,
            simple: false,
        },
    ]
}

/// Checks a route: at least a drafting step and one sign-off, the first step
/// by section staff; the message key of the first problem.
pub fn check_route(steps: &[Step]) -> Result<(), &'static str> {
    if steps.len() < 2 || steps.len() > 10 {
        return Err("approval.error.route_length");
    }
    if steps.first().map(|s| s.role) != Some(StepRole::SectionStaff) {
        return Err("approval.error.route_first_step");
    }
    if steps
        .iter()
        .any(|s| s.name.trim().is_empty() || s.name.chars().count() > 40)
    {
        return Err("approval.error.route_step_name");
    }
    Ok(())
}

/// The proposed outcome of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 許可・交付: the application is granted; it ends 処理完了.
    Grant,
    /// 不許可・却下: refused; it ends 申請却下.
    Refuse,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Grant => "grant",
            Outcome::Refuse => "refuse",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "grant" => Some(Outcome::Grant),
            "refuse" => Some(Outcome::Refuse),
            _ => None,
        }
    }
}

/// What a case decides: today an application, of an organisation and a
/// section (the section's staff draft and sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// The audit log's name for the kind of subject (`application`).
    pub kind: &'static str,
    pub id: i64,
    pub organisation_id: i64,
    pub section_id: i64,
}

impl Subject {
    /// An application as the subject of a case.
    pub fn application(id: i64, organisation_id: i64, section_id: i64) -> Subject {
        Subject {
            kind: "application",
            id,
            organisation_id,
            section_id,
        }
    }
}

/// A case: one proposed decision going through its route.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    pub application_id: i64,
    pub outcome: String,
    pub reason: String,
    /// The route as it was when drafted (JSON): changing a route never changes a case under way.
    pub steps: String,
    pub current_step: i64,
    pub status: String,
    pub drafted_by: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

impl Case {
    pub fn steps(&self) -> Vec<Step> {
        serde_json::from_str(&self.steps).unwrap_or_else(|_| default_route())
    }
    pub fn outcome(&self) -> Outcome {
        Outcome::parse(&self.outcome).unwrap_or(Outcome::Grant)
    }
    pub fn is_pending(&self) -> bool {
        self.status == "pending"
    }
    /// The step waiting for action.
    pub fn current(&self) -> Option<Step> {
        usize::try_from(self.current_step)
            .ok()
            .and_then(|i| self.steps().into_iter().nth(i))
    }
}

/// One action on a case: who, for whom (delegation), what, with which comment.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseAction {
    pub id: i64,
    pub case_id: i64,
    pub step: i64,
    pub step_name: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub on_behalf_of: Option<i64>,
    pub on_behalf_of_name: Option<String>,
    pub action: String,
    pub comment: String,
    pub at: Timestamp,
}

/// A delegation (代決).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delegation {
    pub id: i64,
    pub from_staff_id: i64,
    pub from_name: String,
    pub to_staff_id: i64,
    pub to_name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A staff member who delegated to someone, as the delegation check needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delegator {
    pub id: i64,
    pub roles: String,
    pub section_id: i64,
    pub disabled: platform::db::DbBool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_a_drafting_step_and_a_sign_off() {
        assert!(check_route(&default_route()).is_ok());
        assert!(check_route(&default_route()[..1]).is_err());
        let mut r = default_route();
        r[0].role = StepRole::Approver;
        assert_eq!(check_route(&r), Err("approval.error.route_first_step"));
    }
}
