//! Approvals (電子決裁): the sign-off any module can ask for, without
//! depending on the module that shows it.
//!
//! A procedure's route is a list of steps: the first is the drafting of the
//! decision (起案, by section staff), the others are sign-offs (審査, 決裁 …,
//! by approvers of the section). A step marked simple (簡易決裁) may be
//! signed off by any member of the section, the drafter included; other steps
//! need someone who neither drafted the case nor signed an earlier step of it
//! (separation of duties). An approver who is away can delegate (代決): the
//! delegate then signs for them, and the record says on whose behalf.
//!
//! A case is one proposed decision (許可・交付 or 不許可・却下) with its
//! reasons about a subject (today an application), moving through the steps:
//! approved at the last step, it decides the subject; sent back, it returns one
//! step (to the drafter from the first sign-off); rejected, it ends and the
//! section drafts anew.
//!
//! - [`model`]: steps, routes, outcomes, cases, their actions, delegations;
//! - [`store`]: their SQL;
//! - [`service`]: the use cases. A module that owns the subject calls them
//!   inside its own write transaction, so the subject's change and the case's
//!   commit together (the back office's review does this).
//!
//! The crate has no pages: the back office shows routes, cases and
//! delegations to staff. Its tables (`approval_routes`, `approval_cases`,
//! `approval_actions`, `delegations`) were created by the back office's first
//! migration (2026112201), from before this crate was split out; an applied
//! migration is never moved or edited, so the approvals' own migrations start
//! with the next change of these tables.

pub mod model;
pub mod service;
pub mod store;

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};
