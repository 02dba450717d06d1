//! The storage conformance suite: the same tests against SQLite and (when
//! configured) PostgreSQL, so the two backends behave alike.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use common::{TestDb, backends};
use platform::accounts::{self, NewStaff, Role};
use platform::audit::{self, Actor, Entry};
use platform::db::{Backend, Db, DbOptions, StoreError, Timestamp};
use platform::{jobs, orgs, session};
use procedures::applications::Status;
use procedures::catalogue::{Procedure, ProcedureInput};
use procedures::form::FormDefinition;
use procedures::service::writer::{NewSubmission, Submission, SubmitError, Writer, write_batch};
use procedures::service::{applications, catalogue};
use serde_json::json;

async fn open(backend: Backend) -> (Db, TestDb) {
    let tdb = TestDb::new(backend).await;
    let db = madoguchi::app::open_database(&tdb.config())
        .await
        .expect("migrated");
    (db, tdb)
}

async fn done(db: Db, tdb: TestDb) {
    db.close().await;
    tdb.cleanup().await;
}

/// An organisation with a section, a procedure with a small form, and a resident.
struct Fixture {
    org: orgs::Organisation,
    section: orgs::Section,
    procedure: Procedure,
    resident: accounts::Resident,
}

const FORM: &str = r#"
title = "テスト"
[[pages]]
id = "p"
[[pages.questions]]
id = "note"
type = "text"
label = "メモ"
"#;

async fn fixture(db: &Db) -> Fixture {
    let org = orgs::insert_organisation(db, "240001", "三重県", "Mie Prefecture", None)
        .await
        .unwrap();
    let section = orgs::insert_section(
        db,
        org.id,
        orgs::NewSection {
            code: "s1",
            name: "課",
            name_en: "Division",
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let input = ProcedureInput {
        code: "p1".into(),
        section: "s1".into(),
        name: "テスト手続".into(),
        category: "other".into(),
        basis: "local".into(),
        audience: "resident".into(),
        online: true,
        status: "published".into(),
        ..Default::default()
    };
    let procedure = catalogue::upsert_procedure(db, org.id, &input)
        .await
        .unwrap();
    let def = FormDefinition::parse(FORM).unwrap();
    catalogue::publish_form(db, &procedure, FORM, &def, None)
        .await
        .unwrap();
    let procedure = catalogue::procedure_by_id(db, procedure.id)
        .await
        .unwrap()
        .unwrap();
    let resident = accounts::insert_resident(db, "taro@example.jp", None, "太郎")
        .await
        .unwrap();
    Fixture {
        org,
        section,
        procedure,
        resident,
    }
}

#[tokio::test]
async fn migrations_apply_once_and_again() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        db.migrate(&madoguchi::app::migrations())
            .await
            .expect("a second run changes nothing");
        assert!(db.ping().await);
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn organisations_need_a_valid_code_and_are_unique() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let mie = orgs::insert_organisation(&db, "240001", "三重県", "Mie", None)
            .await
            .unwrap();
        assert_eq!(mie.kind, "prefecture");
        let tsu = orgs::insert_organisation(&db, "242012", "津市", "Tsu", Some(mie.id))
            .await
            .unwrap();
        assert_eq!(tsu.kind, "municipality");
        assert!(
            matches!(
                orgs::insert_organisation(&db, "240002", "x", "x", None).await,
                Err(StoreError::Conflict(_))
            ),
            "bad check digit"
        );
        assert!(
            matches!(
                orgs::insert_organisation(&db, "240001", "x", "x", None).await,
                Err(StoreError::Conflict(_))
            ),
            "duplicate"
        );
        let listed = orgs::list_organisations(&db).await.unwrap();
        assert_eq!(
            listed.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(),
            vec!["240001", "242012"]
        );
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn staff_belong_to_a_section_of_their_own_organisation() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let f = fixture(&db).await;
        let other = orgs::insert_organisation(&db, "160008", "富山県", "Toyama", None)
            .await
            .unwrap();
        let staff = accounts::insert_staff(
            &db,
            NewStaff {
                organisation_id: f.org.id,
                section_id: f.section.id,
                email: "Staff@Example.jp",
                password_hash: None,
                name: "職員",
                roles: &[Role::SectionStaff, Role::Approver],
            },
        )
        .await
        .unwrap();
        assert_eq!(staff.email, "staff@example.jp");
        assert!(staff.has(Role::Approver) && !staff.has(Role::OrgAdmin));
        let wrong = accounts::insert_staff(
            &db,
            NewStaff {
                organisation_id: other.id,
                section_id: f.section.id,
                email: "x@example.jp",
                password_hash: None,
                name: "x",
                roles: &[],
            },
        )
        .await;
        assert!(matches!(wrong, Err(StoreError::Conflict(_))));
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn residents_sign_up_once_and_sign_in_with_their_password() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let r = accounts::sign_up_resident(&db, "Hanako@Example.JP", "very secret words", "花子")
            .await
            .unwrap();
        assert_eq!(r.email, "hanako@example.jp");
        assert_eq!(
            accounts::sign_up_resident(&db, "hanako@example.jp", "very secret words", "")
                .await
                .unwrap_err(),
            accounts::SignUpError::EmailTaken
        );
        assert!(
            accounts::verify_resident(&db, "hanako@example.jp", "very secret words")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            accounts::verify_resident(&db, "hanako@example.jp", "wrong")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            accounts::verify_resident(&db, "nobody@example.jp", "very secret words")
                .await
                .unwrap()
                .is_none()
        );
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn sessions_are_found_by_token_and_end_when_revoked() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let r = accounts::insert_resident(&db, "a@example.jp", None, "")
            .await
            .unwrap();
        let token = session::create(
            &db,
            session::Principal::Resident(r.id),
            session::SessionKind::Api,
        )
        .await
        .unwrap();
        let s = session::lookup(&db, &token).await.unwrap().unwrap();
        assert_eq!(s.principal, session::Principal::Resident(r.id));
        assert!(session::lookup(&db, "not-a-token").await.unwrap().is_none());
        session::revoke(&db, &s.token_hash).await.unwrap();
        assert!(session::lookup(&db, &token).await.unwrap().is_none());
        // An expired session is not found.
        let token = session::create(
            &db,
            session::Principal::Resident(r.id),
            session::SessionKind::Api,
        )
        .await
        .unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("update sessions set expires_at = $1")
            .bind(Timestamp::now().plus(chrono::Duration::seconds(-1)))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(session::lookup(&db, &token).await.unwrap().is_none());
        assert_eq!(session::purge_expired(&db).await.unwrap(), 1);
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn timestamps_round_trip_and_sort() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let a = accounts::insert_resident(&db, "a@example.jp", None, "")
            .await
            .unwrap();
        let before = Timestamp::now();
        let token = session::create(
            &db,
            session::Principal::Resident(a.id),
            session::SessionKind::Browser,
        )
        .await
        .unwrap();
        let (created,): (Timestamp,) =
            sqlx::query_as("select created_at from sessions where token_hash = $1")
                .bind(platform::crypto::sha256_hex(&token))
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert!(created >= before && created <= Timestamp::now());
        let later: i64 = sqlx::query_scalar("select count(*) from sessions where created_at >= $1")
            .bind(before)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(later, 1);
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_the_first_altered_record() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        for i in 0..5 {
            let mut tx = db.begin().await.unwrap();
            audit::append(
                &mut tx,
                Entry {
                    organisation_id: None,
                    actor: Actor::System,
                    action: "test.event",
                    subject_kind: "test",
                    subject_id: Some(i),
                    detail: json!({"i": i}),
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        let v = audit::verify(&db).await.unwrap();
        assert_eq!((v.records, v.broken), (5, None));
        // A rolled-back append leaves no trace and no gap.
        let mut tx = db.begin().await.unwrap();
        audit::append(
            &mut tx,
            Entry {
                organisation_id: None,
                actor: Actor::System,
                action: "x",
                subject_kind: "x",
                subject_id: None,
                detail: json!({}),
            },
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(audit::verify(&db).await.unwrap().broken, None);

        let mut tx = db.begin().await.unwrap();
        sqlx::query("update audit_log set detail = '{\"i\":99}' where id = 3")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let broken = audit::verify(&db)
            .await
            .unwrap()
            .broken
            .expect("tampering is detected");
        assert_eq!(broken.id, 3, "{}", broken.reason);

        let mut tx = db.begin().await.unwrap();
        sqlx::query("delete from audit_log where id = 5")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let broken = audit::verify(&db).await.unwrap().broken.unwrap();
        assert_eq!(broken.id, 3, "the first broken link is still record 3");
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn jobs_are_deduplicated_claimed_once_and_retried_with_backoff() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        for _ in 0..2 {
            let mut tx = db.begin().await.unwrap();
            jobs::enqueue(&mut tx, "test.job", &json!({"n": 1}), Some("event-1"))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            jobs::counts(&db).await.unwrap().pending,
            1,
            "one job per event"
        );
        let job = jobs::claim(&db).await.unwrap().expect("a due job");
        assert_eq!(job.attempts, 1);
        assert!(
            jobs::claim(&db).await.unwrap().is_none(),
            "a claimed job is not claimed twice"
        );
        jobs::fail(&db, &job, "smtp down").await.unwrap();
        assert!(
            jobs::claim(&db).await.unwrap().is_none(),
            "not due before its backoff"
        );
        let mut tx = db.begin().await.unwrap();
        sqlx::query("update jobs set run_at = $1")
            .bind(Timestamp::now().plus(chrono::Duration::seconds(-1)))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let job = jobs::claim(&db).await.unwrap().unwrap();
        assert_eq!(job.attempts, 2);
        jobs::complete(&db, job.id).await.unwrap();
        assert_eq!(
            jobs::counts(&db).await.unwrap(),
            jobs::QueueCounts {
                pending: 0,
                done: 1,
                failed: 0
            }
        );
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn publishing_a_form_adds_a_version_and_changes_the_catalogue_generation() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let f = fixture(&db).await;
        let g1 = catalogue::generation(&db).await.unwrap();
        let def = FormDefinition::parse(FORM).unwrap();
        let v2 = catalogue::publish_form(&db, &f.procedure, FORM, &def, None)
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        assert!(catalogue::generation(&db).await.unwrap() > g1);
        let p = catalogue::procedure_by_id(&db, f.procedure.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.current_form_id, Some(v2.id));
        assert!(p.accepts_applications());
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn applications_are_scoped_to_their_resident_and_follow_the_status_rules() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let f = fixture(&db).await;
        let other = accounts::insert_resident(&db, "other@example.jp", None, "")
            .await
            .unwrap();
        let app = applications::create_draft(&db, f.resident.id, &f.procedure)
            .await
            .unwrap();
        assert_eq!(app.status(), Status::Draft);
        assert!(
            applications::for_resident(&db, app.id, other.id)
                .await
                .unwrap()
                .is_none()
        );
        let answers = json!({"note": "こんにちは"}).as_object().unwrap().clone();
        assert!(matches!(
            applications::save_answers(&db, app.id, other.id, &answers, &Default::default()).await,
            Err(StoreError::NotFound)
        ));
        applications::save_answers(&db, app.id, f.resident.id, &answers, &Default::default())
            .await
            .unwrap();
        let saved = applications::for_resident(&db, app.id, f.resident.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(saved.answers_map()["note"], "こんにちは");
        // A draft cannot be withdrawn, only discarded.
        assert!(matches!(
            applications::withdraw(&db, app.id, f.resident.id, "").await,
            Err(applications::ActionError::InvalidTransition(Status::Draft))
        ));
        assert!(matches!(
            applications::discard_draft(&db, app.id, other.id).await,
            Err(applications::ActionError::NotFound)
        ));
        applications::discard_draft(&db, app.id, f.resident.id)
            .await
            .unwrap();
        assert!(
            applications::for_resident(&db, app.id, f.resident.id)
                .await
                .unwrap()
                .is_none()
        );
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_receipt_numbers_and_replays_change_nothing() {
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let f = fixture(&db).await;
        let writer = Writer::start(db.clone());
        let new = |key: String| NewSubmission {
            resident_id: f.resident.id,
            organisation_id: f.org.id,
            organisation_code: f.org.code.clone(),
            section_id: f.section.id,
            procedure_id: f.procedure.id,
            form_version_id: f.procedure.current_form_id.unwrap(),
            answers: "{\"note\":\"x\"}".into(),
            idempotency_key: key,
            request_hash: "h".into(),
            identified_by: r#"{"method":"password"}"#.into(),
        };
        let mut handles = Vec::new();
        for i in 0..200 {
            let w = writer.clone();
            let s = Submission::New(new(format!("key-{}", i % 150)));
            handles.push(tokio::spawn(async move { w.submit(s).await }));
        }
        let mut receipts = std::collections::HashMap::new();
        for h in handles {
            let s = h.await.unwrap().expect("submitted");
            receipts.insert(
                s.application.id,
                s.application.receipt_number.clone().unwrap(),
            );
        }
        assert_eq!(
            receipts.len(),
            150,
            "50 replays of 150 keys made no new application"
        );
        let distinct: std::collections::HashSet<_> = receipts.values().collect();
        assert_eq!(
            distinct.len(),
            150,
            "every application has its own receipt number"
        );
        let count: i64 = sqlx::query_scalar("select count(*) from applications")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 150);
        assert_eq!(audit::verify(&db).await.unwrap().broken, None);
        // The same key with another request is refused and changes nothing.
        let mut other = new("key-1".into());
        other.request_hash = "different".into();
        assert!(matches!(
            writer.submit(Submission::New(other)).await,
            Err(SubmitError::KeyReused)
        ));
        // Withdrawing a submitted application, then once more: refused.
        let id = *receipts.keys().next().unwrap();
        let w = applications::withdraw(&db, id, f.resident.id, "間違えました")
            .await
            .unwrap();
        assert_eq!(w.status(), Status::Withdrawn);
        assert!(matches!(
            applications::withdraw(&db, id, f.resident.id, "").await,
            Err(applications::ActionError::InvalidTransition(
                Status::Withdrawn
            ))
        ));
        assert!(matches!(
            writer
                .submit(Submission::Existing {
                    application_id: id,
                    resident_id: f.resident.id,
                    answers: "{}".into()
                })
                .await,
            Err(SubmitError::InvalidTransition(Status::Withdrawn))
        ));
        done(db, tdb).await;
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused_loudly() {
    let err = Db::connect("mysql://localhost/x", &DbOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unsupported database URL scheme"), "{err}");
}

/// A submission that conflicts while its batch is being written settles
/// alone; the rest of the batch commits. PostgreSQL only: the conflicts come
/// from another transaction writing at the same moment (another node), which
/// SQLite's single writer rules out. Before, one conflict failed the batch
/// (up to 256 residents got a 500).
#[tokio::test]
async fn a_conflict_while_writing_fails_its_own_submission_not_the_batch() {
    for backend in backends() {
        if backend != Backend::Postgres {
            continue;
        }
        let (db, tdb) = open(backend).await;
        let f = fixture(&db).await;
        let new = |key: &str, hash: &str| NewSubmission {
            resident_id: f.resident.id,
            organisation_id: f.org.id,
            organisation_code: f.org.code.clone(),
            section_id: f.section.id,
            procedure_id: f.procedure.id,
            form_version_id: f.procedure.current_form_id.unwrap(),
            answers: "{\"note\":\"x\"}".into(),
            idempotency_key: key.into(),
            request_hash: hash.into(),
            identified_by: r#"{"method":"password"}"#.into(),
        };

        // 1. The same key written by another node while this batch writes:
        // the same request replays what that node wrote.
        let mut other = db.begin().await.unwrap();
        let theirs: i64 = sqlx::query_scalar(
            "insert into applications (organisation_id, section_id, procedure_id, form_version_id, resident_id, \
             status, answers, receipt_number, fiscal_year, idempotency_key, request_hash, created_at, updated_at, \
             submitted_at) values ($1, $2, $3, $4, $5, 'submitted', '{}', 'OTHER-NODE-1', 2026, 'race', 'h', $6, $6, $6) \
             returning id",
        )
        .bind(f.org.id)
        .bind(f.section.id)
        .bind(f.procedure.id)
        .bind(f.procedure.current_form_id.unwrap())
        .bind(f.resident.id)
        .bind(Timestamp::now())
        .fetch_one(&mut *other)
        .await
        .unwrap();
        let batch = vec![
            Submission::New(new("race", "h")),
            Submission::New(new("alone", "h2")),
        ];
        let writing = {
            let db = db.clone();
            tokio::spawn(async move { write_batch(&db, &batch).await })
        };
        // The batch's insert waits for the other transaction's key…
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        other.commit().await.unwrap();
        let results = writing.await.unwrap().expect("the batch commits");
        match &results[0] {
            Ok(s) => {
                assert!(s.replayed, "the other node's application is the answer");
                assert_eq!(s.application.id, theirs);
            }
            Err(e) => panic!("the repeated key replays, not {e:?}"),
        }
        match &results[1] {
            Ok(s) => assert!(!s.replayed && s.application.receipt_number.is_some()),
            Err(e) => panic!("the rest of the batch commits, not {e:?}"),
        }

        // 2. A draft saved again while it is being sent: that one alone is
        // refused, the rest of the batch commits.
        let draft = applications::create_draft(&db, f.resident.id, &f.procedure)
            .await
            .unwrap();
        let mut other = db.begin().await.unwrap();
        sqlx::query("update applications set answers = '{\"note\":\"later\"}', version = version + 1 where id = $1")
            .bind(draft.id)
            .execute(&mut *other)
            .await
            .unwrap();
        let batch = vec![
            Submission::Existing {
                application_id: draft.id,
                resident_id: f.resident.id,
                answers: "{\"note\":\"x\"}".into(),
            },
            Submission::New(new("after-the-draft", "h3")),
        ];
        let writing = {
            let db = db.clone();
            tokio::spawn(async move { write_batch(&db, &batch).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        other.commit().await.unwrap();
        let results = writing.await.unwrap().expect("the batch commits");
        assert!(
            matches!(results[0], Err(SubmitError::Changed)),
            "the changed draft is refused alone: {:?}",
            results[0]
        );
        assert!(
            results[1].is_ok(),
            "the rest of the batch commits: {:?}",
            results[1]
        );
        let status: String = sqlx::query_scalar("select status from applications where id = $1")
            .bind(draft.id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(
            status, "draft",
            "nothing of the refused submission was written"
        );
        assert_eq!(audit::verify(&db).await.unwrap().broken, None);
        done(db, tdb).await;
    }
}

/// Sign-in rate limits count in the database, so they hold across nodes
/// (two connections pools play two nodes); periodic work is leased to one
/// node at a time, and taken over when its lease expires.
#[tokio::test]
async fn rate_limits_and_leases_hold_across_nodes() {
    use platform::ratelimit::Shared;
    use std::time::Duration;
    for backend in backends() {
        let (db, tdb) = open(backend).await;
        let other = madoguchi::app::open_database(&tdb.config()).await.unwrap();
        let window = Duration::from_secs(900);
        for _ in 0..3 {
            assert!(
                Shared::allowed(&db, "signin:account:a@example.jp", 5, window)
                    .await
                    .unwrap()
            );
            Shared::hit(&db, "signin:account:a@example.jp", window)
                .await
                .unwrap();
            Shared::hit(&other, "signin:account:a@example.jp", window)
                .await
                .unwrap();
        }
        assert!(
            !Shared::allowed(&other, "signin:account:a@example.jp", 5, window)
                .await
                .unwrap(),
            "six attempts on two nodes count as six"
        );
        assert!(
            Shared::allowed(&db, "signin:account:b@example.jp", 5, window)
                .await
                .unwrap()
        );
        Shared::clear(&other, "signin:account:a@example.jp")
            .await
            .unwrap();
        assert!(
            Shared::allowed(&db, "signin:account:a@example.jp", 5, window)
                .await
                .unwrap()
        );
        // A window that ended starts again at one.
        Shared::hit(&db, "k", Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            Shared::hit(&db, "k", Duration::from_millis(1))
                .await
                .unwrap(),
            1
        );

        let ttl = Duration::from_millis(300);
        assert!(
            platform::lease::acquire_as(&db, "maintenance", "node-a", ttl)
                .await
                .unwrap()
        );
        assert!(
            !platform::lease::acquire_as(&other, "maintenance", "node-b", ttl)
                .await
                .unwrap()
        );
        assert!(
            platform::lease::acquire_as(&db, "maintenance", "node-a", ttl)
                .await
                .unwrap(),
            "renewed"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            platform::lease::acquire_as(&other, "maintenance", "node-b", ttl)
                .await
                .unwrap(),
            "an expired lease is taken over"
        );
        assert!(
            !platform::lease::acquire_as(&db, "maintenance", "node-a", ttl)
                .await
                .unwrap()
        );
        other.close().await;
        done(db, tdb).await;
    }
}
