//! Exports of the high-school application at its real scale: 17,000
//! applications (Mie's annual volume) exported to `.xlsx`, CSV in UTF-8 with
//! BOM and in Shift_JIS, and the per-school-and-department workbook; each file
//! is read back (calamine, the csv crate) and compared with what was submitted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::collections::HashMap;

use calamine::{Data, Reader, Xlsx};
use common::{DEMO_PASSWORD, TestApp, backends};
use procedures::form::answers;
use procedures::service::writer::{NewSubmission, Submission};
use serde_json::{Value, json};

const COUNT: usize = 17_000;

struct Submitted {
    family: String,
    given: String,
    birth: String,
    school_label: String,
    department_label: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seventeen_thousand_applications_export_and_read_back() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let db = t.app.platform.db.clone();
        let (hs, org, section, form): (i64, i64, i64, i64) =
            sqlx::query_as("select id, organisation_id, section_id, current_form_id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let def = t.app.procedures.forms.get(&db, form).await.unwrap();
        let schools = match &def.question("school").unwrap().kind {
            procedures::form::Kind::Choice { options, .. } => options.clone(),
            _ => unreachable!(),
        };
        let groups = match &def.question("department").unwrap().kind {
            procedures::form::Kind::Choice { option_groups, .. } => option_groups.clone(),
            _ => unreachable!(),
        };
        let resident: i64 =
            sqlx::query_scalar("select id from residents where email = 'taro@example.jp'")
                .fetch_one(db.pool())
                .await
                .unwrap();

        // Submit 17,000 applications through the submission writer, as the API would.
        let mut expected: HashMap<String, Submitted> = HashMap::new();
        let mut handles = Vec::new();
        let mut meta = Vec::new();
        for i in 0..COUNT {
            let school = &schools[i % schools.len()];
            let departments = &groups[&school.value];
            let department = &departments[(i / schools.len()) % departments.len()];
            let family = ["三重", "伊勢", "髙橋", "渡邊"][i % 4];
            let raw = json!({
                "name": {"family": family, "given": format!("花子{i}"), "family_kana": "ミエ", "given_kana": "ハナコ"},
                "birth_date": format!("2010-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                "address": {"prefecture": "三重県", "city": format!("津市広明町{}番地", i % 100), "building": ""},
                "phone": "059-224-3070",
                "junior_high": "津市立西橋内中学校",
                "school": school.value,
                "department": department.value,
                "selection": if i % 2 == 0 { "early" } else { "late" },
                "guardian_name": {"family": "三重", "given": "太郎", "family_kana": "ミエ", "given_kana": "タロウ"},
                "guardian_relationship": "father",
                "agree": true
            });
            let (normalised, issues) =
                answers::validate_all(&def, raw.as_object().unwrap(), &t.app.platform.keys);
            assert!(issues.is_empty(), "{issues:?}");
            meta.push(Submitted {
                family: normalised["name"]["family"].as_str().unwrap().into(),
                given: normalised["name"]["given"].as_str().unwrap().into(),
                birth: normalised["birth_date"].as_str().unwrap().into(),
                school_label: school.label.clone(),
                department_label: department.label.clone(),
            });
            let writer = t.app.procedures.writer.clone();
            let s = Submission::New(NewSubmission {
                resident_id: resident,
                organisation_id: org,
                organisation_code: "240001".into(),
                section_id: section,
                procedure_id: hs,
                form_version_id: form,
                answers: Value::Object(normalised).to_string(),
                idempotency_key: format!("export-{i}"),
                request_hash: format!("h{i}"),
                identified_by: r#"{"method":"password"}"#.into(),
            });
            handles.push(tokio::spawn(async move { writer.submit(s).await }));
        }
        for (h, m) in handles.into_iter().zip(meta) {
            let s = h.await.unwrap().expect("submitted");
            expected.insert(s.application.receipt_number.unwrap(), m);
        }
        assert_eq!(expected.len(), COUNT);

        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;

        // .xlsx
        let res = staff
            .get(&format!("/api/v1/staff/procedures/{hs}/export.xlsx"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let path = t.db.dir.join("export.xlsx");
        std::fs::write(&path, &res.body).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let sheet = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&sheet).unwrap();
        assert_eq!(
            range.height(),
            COUNT + 1,
            "a header and one row per application"
        );
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
        };
        let (c_receipt, c_family, c_given, c_birth, c_school, c_dept) = (
            col("受付番号"),
            col("志願者の氏名（姓）"),
            col("志願者の氏名（名）"),
            col("生年月日"),
            col("志願する高等学校"),
            col("志願する学科"),
        );
        for row in range.rows().skip(1) {
            let receipt = row[c_receipt].to_string();
            let e = expected
                .get(&receipt)
                .unwrap_or_else(|| panic!("unknown receipt {receipt}"));
            assert_eq!(row[c_family].to_string(), e.family);
            assert_eq!(row[c_given].to_string(), e.given);
            assert_eq!(row[c_school].to_string(), e.school_label);
            assert_eq!(row[c_dept].to_string(), e.department_label);
            let birth = match &row[c_birth] {
                // An Excel serial date: days since 1899-12-30.
                Data::DateTime(d) => (chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
                    + chrono::Duration::days(d.as_f64() as i64))
                .format("%Y-%m-%d")
                .to_string(),
                other => panic!("the birth date is a date cell, not {other:?}"),
            };
            assert_eq!(birth, e.birth);
        }

        // CSV, UTF-8 with BOM.
        let res = staff
            .get(&format!("/api/v1/staff/procedures/{hs}/export.csv"))
            .await;
        assert_eq!(res.status, 200);
        assert!(res.body.starts_with(b"\xEF\xBB\xBF"));
        let utf8 = String::from_utf8(res.body[3..].to_vec()).unwrap();
        let check_csv = |text: &str| {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let headers = reader.headers().unwrap().clone();
            let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
            let (r, f, g, b) = (
                col("受付番号"),
                col("志願者の氏名（姓）"),
                col("志願者の氏名（名）"),
                col("生年月日"),
            );
            let mut n = 0;
            for rec in reader.records() {
                let rec = rec.unwrap();
                let e = &expected[&rec[r].to_string()];
                assert_eq!(
                    (&rec[f], &rec[g], &rec[b]),
                    (e.family.as_str(), e.given.as_str(), e.birth.as_str())
                );
                n += 1;
            }
            assert_eq!(n, COUNT);
        };
        check_csv(&utf8);

        // CSV, Shift_JIS: the same content (髙 and 邊 are in CP932).
        let res = staff
            .get(&format!(
                "/api/v1/staff/procedures/{hs}/export.csv?encoding=sjis"
            ))
            .await;
        assert_eq!(res.status, 200);
        assert!(
            res.headers["content-type"]
                .to_str()
                .unwrap()
                .contains("Shift_JIS")
        );
        let (sjis, _, errors) = encoding_rs::SHIFT_JIS.decode(&res.body);
        assert!(!errors);
        assert_eq!(sjis, utf8);
        check_csv(&sjis);

        // One sheet per school and department, each listing its applicants.
        let res = staff
            .get(&format!("/staff/procedures/{hs}/grouped.xlsx"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let path = t.db.dir.join("grouped.xlsx");
        std::fs::write(&path, &res.body).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let mut per_group: HashMap<(String, String), usize> = HashMap::new();
        for e in expected.values() {
            *per_group
                .entry((e.school_label.clone(), e.department_label.clone()))
                .or_default() += 1;
        }
        assert_eq!(wb.sheet_names().len(), per_group.len());
        let mut total = 0;
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name).unwrap();
            let title = range.get((0, 0)).unwrap().to_string();
            let (school, dept) = title.rsplit_once(' ').unwrap();
            let rows = range
                .rows()
                .skip(3)
                .take_while(|r| r[0].to_string().starts_with("240001-"))
                .count();
            assert_eq!(
                rows,
                per_group[&(school.to_string(), dept.to_string())],
                "{title}"
            );
            total += rows;
        }
        assert_eq!(total, COUNT);

        // Another section's staff cannot export it.
        let mut other = t.client();
        other
            .api_sign_in("welfare.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        assert_eq!(
            other
                .get(&format!("/api/v1/staff/procedures/{hs}/export.csv"))
                .await
                .status,
            404
        );
        t.finish().await;
    }
}
