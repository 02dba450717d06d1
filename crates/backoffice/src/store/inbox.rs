//! The section's inbox: the applications of the staff member's organisation
//! and section only, filtered, counted by status, and paged by key (sent time,
//! id) so a page costs the same at the 100,000th application as at the first.

use platform::accounts::Staff;
use platform::db::{Db, StoreResult, Timestamp};
use procedures::applications::Status;
use sqlx::AssertSqlSafe;

use crate::model::{Filter, InboxRow, day_start};

/// SQL conditions and their values shared by the list and the counts.
struct Where {
    sql: String,
    ints: Vec<(usize, i64)>,
    times: Vec<(usize, Timestamp)>,
    texts: Vec<(usize, String)>,
    next: usize,
}

impl Where {
    fn new(staff: &Staff) -> Where {
        // $1 is the staff member (read marks), $2 and $3 their organisation and section.
        let mut w = Where {
            sql: String::new(),
            ints: Vec::new(),
            times: Vec::new(),
            texts: Vec::new(),
            next: 1,
        };
        let me = w.int(staff.id);
        let org = w.int(staff.organisation_id);
        let section = w.int(staff.section_id);
        debug_assert_eq!((me, org, section), (1, 2, 3));
        w.sql =
            " where a.organisation_id = $2 and a.section_id = $3 and a.status <> 'draft'".into();
        w
    }
    fn int(&mut self, v: i64) -> usize {
        let n = self.next;
        self.ints.push((n, v));
        self.next += 1;
        n
    }
    fn time(&mut self, v: Timestamp) -> usize {
        let n = self.next;
        self.times.push((n, v));
        self.next += 1;
        n
    }
    fn text(&mut self, v: &str) -> usize {
        let n = self.next;
        self.texts.push((n, v.to_string()));
        self.next += 1;
        n
    }
    fn filter(&mut self, f: &Filter, with_status: bool) {
        if let Some(p) = f.procedure_id {
            let n = self.int(p);
            self.sql.push_str(&format!(" and a.procedure_id = ${n}"));
        }
        if let (true, Some(s)) = (with_status, f.status) {
            let n = self.text(s.code());
            self.sql.push_str(&format!(" and a.status = ${n}"));
        }
        if let Some(d) = f.received_from {
            let n = self.time(day_start(d));
            self.sql.push_str(&format!(" and a.submitted_at >= ${n}"));
        }
        if let Some(d) = f.received_to.and_then(|d| d.succ_opt()) {
            let n = self.time(day_start(d));
            self.sql.push_str(&format!(" and a.submitted_at < ${n}"));
        }
        if f.unread_only {
            self.sql
                .push_str(" and (r.version_seen is null or r.version_seen < a.version)");
        }
        for word in &f.words {
            let n = self.text(&like_pattern(word));
            if word.is_ascii() {
                // Receipt numbers are ASCII; names and readings are not, and
                // ASCII words would also match the answers' JSON keys.
                self.sql.push_str(&format!(
                    " and upper(coalesce(a.receipt_number, '')) like upper(${n}) escape '\\'"
                ));
            } else {
                // Readings are stored in katakana; a word typed in hiragana looks for both.
                let k = self.text(&like_pattern(&jp::kana::to_fullwidth_katakana(word)));
                self.sql.push_str(&format!(
                    " and (a.answers like ${n} escape '\\' or a.answers like ${k} escape '\\')"
                ));
            }
        }
    }
    /// The values in parameter order.
    fn bind<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for n in 1..self.next {
            if let Some((_, v)) = self.ints.iter().find(|(i, _)| *i == n) {
                q = q.bind(*v);
            } else if let Some((_, v)) = self.times.iter().find(|(i, _)| *i == n) {
                q = q.bind(*v);
            } else if let Some((_, v)) = self.texts.iter().find(|(i, _)| *i == n) {
                q = q.bind(v.clone());
            }
        }
        q
    }
}

/// `%word%` for LIKE, with LIKE's own characters taken literally.
fn like_pattern(word: &str) -> String {
    let mut p = String::from("%");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// One page of the inbox, newest first; `limit` rows at most.
pub async fn page(db: &Db, staff: &Staff, f: &Filter, limit: i64) -> StoreResult<Vec<InboxRow>> {
    let mut w = Where::new(staff);
    w.filter(f, true);
    if let Some((t, id)) = f.before {
        let nt = w.time(t);
        let ni = w.int(id);
        w.sql.push_str(&format!(
            " and (a.submitted_at < ${nt} or (a.submitted_at = ${nt} and a.id < ${ni}))"
        ));
    }
    let nl = w.int(limit.clamp(1, 200));
    let sql = format!(
        "select a.id, a.procedure_id, a.form_version_id, p.name as procedure_name, a.receipt_number, a.status, a.submitted_at, a.version, \
         a.answers, r.version_seen, \
         (select max(e.at) from application_events e where e.application_id = a.id and e.kind = 'resubmitted') as resubmitted_at \
         from applications a join procedures p on p.id = a.procedure_id \
         left join staff_reads r on r.application_id = a.id and r.staff_id = $1{} \
         order by a.submitted_at desc, a.id desc limit ${nl}",
        w.sql
    );
    let q = w.bind(sqlx::query(AssertSqlSafe(sql)));
    let rows = q.fetch_all(db.pool()).await?;
    use sqlx::FromRow;
    Ok(rows
        .iter()
        .map(InboxRow::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// How many applications of the filter are in each status (the status filter itself ignored).
pub async fn counts(db: &Db, staff: &Staff, f: &Filter) -> StoreResult<Vec<(Status, i64)>> {
    let mut w = Where::new(staff);
    w.filter(f, false);
    // The read marks are joined only when the unread filter needs them.
    let join = if f.unread_only {
        " left join staff_reads r on r.application_id = a.id and r.staff_id = $1"
    } else {
        ""
    };
    let sql = format!(
        "select a.status, count(*) from applications a{join}{} group by a.status",
        w.sql
    );
    let rows: Vec<(String, i64)> = w
        .bind(sqlx::query(AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await
        .and_then(|rows| {
            use sqlx::Row as _;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect()
        })?;
    Ok(Status::ALL
        .into_iter()
        .filter(|s| *s != Status::Draft)
        .map(|s| {
            (
                s,
                rows.iter()
                    .find(|(code, _)| code == s.code())
                    .map(|r| r.1)
                    .unwrap_or(0),
            )
        })
        .collect())
}
