//! The search engine's tests: parsing, matching, facets, sorting and
//! incremental updates against a small fixture.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::dates::parse_date_math;
use super::fields::INTERN_FIELDS;
use super::text::{for_each_match, nfkc, norm_text};
use super::*;

fn at(s: &str) -> DateTime<Utc> {
    parse_date_math(s, DateTime::<Utc>::default()).expect("test date")
}

fn now() -> DateTime<Utc> {
    at("2025-06-02T00:00:00Z")
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn fixture() -> Index {
    let mut a1 = Doc::new("a1", "shiritsu-koen");
    a1.title = "市立公園一覧".into();
    a1.notes = "市内の公園の所在地と面積".into();
    a1.organization = "city-a".into();
    a1.organization_title = "みどり市".into();
    a1.owner_org = "org-a-id".into();
    a1.tags = strs(&["公園", "観光"]);
    a1.groups = strs(&["parks"]);
    a1.res_format = strs(&["CSV", "PDF"]);
    a1.license_id = "cc-by".into();
    a1.extras = vec![
        ("spatial".into(), "東京都".into()),
        ("update_frequency".into(), "monthly".into()),
        ("note".into(), "two words".into()),
    ];
    a1.metadata_created = at("2023-01-01T00:00:00Z");
    a1.metadata_modified = at("2024-03-01T00:00:00Z");

    let mut a2 = Doc::new("a2", "kosodate-shisetsu");
    a2.title = "子育て支援施設".into();
    a2.notes = "保育所、児童館などの一覧。Tokyo 受付 9:00-17:00".into();
    a2.organization = "city-a".into();
    a2.organization_title = "みどり市".into();
    a2.owner_org = "org-a-id".into();
    a2.tags = strs(&["子育て", "福祉"]);
    a2.groups = strs(&["welfare"]);
    a2.res_format = strs(&["csv"]);
    a2.metadata_created = at("2024-01-01T00:00:00Z");
    a2.metadata_modified = at("2024-06-15T00:00:00Z");

    let mut a3 = Doc::new("a3", "park-toilets");
    a3.title = "公園トイレ".into();
    a3.notes = "公衆トイレの位置".into();
    a3.tags = strs(&["公園"]);
    a3.res_format = strs(&["Csv"]);
    a3.metadata_created = at("2023-06-01T00:00:00Z");
    a3.metadata_modified = at("2024-03-01T00:00:00Z");
    a3.res_description = strs(&["位置情報", "設備", "開設時間"]);

    let mut b1 = Doc::new("b1", "bus-stops");
    b1.title = "バス停一覧".into();
    b1.notes = "コミュニティバスの停留所 (GTFS)".into();
    b1.organization = "city-b".into();
    b1.owner_org = "org-b-id".into();
    b1.tags = strs(&["交通", "バス"]);
    b1.res_format = strs(&["GTFS", "ZIP"]);
    b1.license_id = "odc-by".into();
    b1.author = "交通政策課".into();
    b1.metadata_created = at("2024-12-01T00:00:00Z");
    b1.metadata_modified = at("2025-01-10T00:00:00Z");

    let mut b2 = Doc::new("b2", "population");
    b2.title = "人口統計 2024".into();
    b2.notes = "年齢別人口。ＣＳＶ形式".into();
    b2.organization = "city-b".into();
    b2.owner_org = "org-b-id".into();
    b2.tags = strs(&["人口", "統計"]);
    b2.res_format = strs(&["XLSX"]);
    b2.res_name = strs(&["年齢別人口表"]);
    b2.res_description = strs(&["5歳階級"]);
    b2.res_url = strs(&["https://example.jp/pop.xlsx"]);
    b2.url = "https://example.jp/pop".into();
    b2.version = "1.0".into();
    b2.maintainer = "統計係".into();
    b2.metadata_created = at("2025-06-01T00:00:00Z");
    b2.metadata_modified = at("2025-06-01T12:00:00Z");

    let mut c1 = Doc::new("c1", "private-budget");
    c1.title = "予算案（内部）".into();
    c1.organization = "city-c".into();
    c1.owner_org = "org-c-id".into();
    c1.private = true;
    c1.tags = strs(&["予算"]);
    c1.res_format = strs(&["csv"]);
    c1.metadata_created = at("2025-02-01T00:00:00Z");
    c1.metadata_modified = at("2025-02-01T00:00:00Z");

    Index::new(vec![a1, a2, a3, b1, b2, c1])
}

fn run(index: &Index, req: &SearchRequest) -> SearchResult {
    index.search(req, now()).expect("search")
}

fn req(q: &str, fq: &[&str]) -> SearchRequest {
    SearchRequest {
        q: Some(q.to_owned()),
        fq: strs(fq),
        sort: Some("id asc".into()),
        rows: 100,
        ..SearchRequest::default()
    }
}

fn q(index: &Index, q: &str) -> Vec<String> {
    run(index, &req(q, &[])).ids
}

fn fq(index: &Index, fq: &str) -> Vec<String> {
    run(index, &req("", &[fq])).ids
}

#[track_caller]
fn fq_is(index: &Index, filter: &str, want: &[&str]) {
    assert_eq!(fq(index, filter), strs(want), "fq {filter:?}");
}

#[track_caller]
fn q_is(index: &Index, query: &str, want: &[&str]) {
    assert_eq!(q(index, query), strs(want), "q {query:?}");
}

#[track_caller]
fn fq_err(index: &Index, filter: &str) {
    let r = index.search(&req("", &[filter]), now());
    assert!(
        matches!(r, Err(SearchError::InvalidQuery(_))),
        "fq {filter:?} gave {r:?}"
    );
}

#[test]
fn normalisation() {
    assert_eq!(
        norm_text("ＣＳＶ　データ", true),
        "csv データ".replace("データ", "でーた")
    );
    assert_eq!(norm_text("ｺｳｴﾝ", true), "こうえん");
    assert_eq!(norm_text("  a\t\u{3000}b \n", true), "a b");
    assert_eq!(norm_text("ヴァ", true), "ゔぁ");
    assert_eq!(nfkc("ＡＢＣ"), "ABC");
}

#[test]
fn japanese_free_text() {
    let idx = fixture();
    q_is(&idx, "公園", &["a1", "a3"]);
    q_is(&idx, "子育て", &["a2"]);
    q_is(&idx, "施設", &["a2"]);
    // Katakana, hiragana and half-width katakana are the same.
    q_is(&idx, "ばす", &["b1"]);
    q_is(&idx, "バス", &["b1"]);
    q_is(&idx, "ﾊﾞｽ", &["b1"]);
    q_is(&idx, "といれ", &["a3"]);
    // Full-width ASCII and case.
    q_is(&idx, "ｃｓｖ形式", &["b2"]);
    q_is(&idx, "CSV", &["b2"]);
    q_is(&idx, "TOKYO", &["a2"]);
    q_is(&idx, "Ｔｏｋｙｏ", &["a2"]);
    // Terms are ANDed; ideographic space separates.
    q_is(&idx, "公園　一覧", &["a1"]);
    q_is(&idx, "公園 トイレ", &["a3"]);
    q_is(&idx, "公園 子育て", &[]);
    // Single characters.
    q_is(&idx, "停", &["b1"]);
    // Phrases keep their spaces.
    q_is(&idx, "\"停留所 (GTFS)\"", &["b1"]);
    q_is(&idx, "\"停留所 GTFS\"", &[]);
    // Tags, organization, groups, resources, extras and people are searchable.
    q_is(&idx, "観光", &["a1"]);
    q_is(&idx, "city-b", &["b1", "b2"]);
    q_is(&idx, "ミドリ市", &["a1", "a2"]);
    q_is(&idx, "welfare", &["a2"]);
    q_is(&idx, "年齢別人口表", &["b2"]);
    q_is(&idx, "階級", &["b2"]);
    q_is(&idx, "東京都", &["a1"]);
    q_is(&idx, "政策", &["b1"]);
    q_is(&idx, "統計係", &["b2"]);
    q_is(&idx, "toilets", &["a3"]);
    // Everything.
    for all in ["", "   ", "*", "*:*", "\u{3000}"] {
        q_is(&idx, all, &["a1", "a2", "a3", "b1", "b2"]);
    }
    // Prefix-only wildcard in free text.
    q_is(&idx, "子育*", &["a2"]);
    // Nothing found.
    q_is(&idx, "存在しない語", &[]);
}

#[test]
fn q_with_field_syntax() {
    let idx = fixture();
    q_is(&idx, "tags:公園", &["a1", "a3"]);
    q_is(&idx, "tags:公園 AND res_format:CSV", &["a1", "a3"]);
    q_is(&idx, "-tags:公園", &["a2", "b1", "b2"]);
    q_is(&idx, "一覧 organization:city-b", &["b1"]);
    q_is(&idx, "一覧 -organization:city-b", &["a1", "a2"]);
    q_is(&idx, "公園 OR バス", &["a1", "a3", "b1"]);
    q_is(&idx, "(公園 OR バス) NOT トイレ", &["a1", "b1"]);
    // An unknown field in q is plain text, as with edismax.
    q_is(&idx, "9:00-17:00", &["a2"]);
    // Broken plain q falls back to terms instead of failing.
    q_is(&idx, "公園 (", &[]);
    q_is(&idx, "\"公園", &["a1", "a3"]);
    q_is(&idx, "AND", &[]);
    // Broken field syntax is an error.
    assert!(idx.search(&req("tags:(公園", &[]), now()).is_err());
    assert!(idx.search(&req("tags:", &[]), now()).is_err());
}

#[test]
fn fq_exact_and_text_fields() {
    let idx = fixture();
    fq_is(&idx, "organization:city-a", &["a1", "a2"]);
    fq_is(&idx, "organization:\"city-a\"", &["a1", "a2"]);
    fq_is(&idx, "organization:city", &[]);
    fq_is(&idx, "owner_org:org-a-id", &["a1", "a2"]);
    fq_is(&idx, "groups:parks", &["a1"]);
    fq_is(&idx, "license_id:cc-by", &["a1"]);
    fq_is(&idx, "tags:公園", &["a1", "a3"]);
    fq_is(&idx, "tags:公", &[]);
    fq_is(&idx, "tags:ｺｳｴﾝ", &[]);
    fq_is(&idx, "res_format:CSV", &["a1", "a2", "a3"]);
    fq_is(&idx, "res_format:csv", &["a1", "a2", "a3"]);
    fq_is(&idx, "res_format:ｃｓｖ", &["a1", "a2", "a3"]);
    fq_is(&idx, "res_format:gtfs", &["b1"]);
    fq_is(&idx, "id:a1", &["a1"]);
    fq_is(&idx, "id:(a1 OR b2 OR zz)", &["a1", "b2"]);
    fq_is(&idx, "id:ａ１", &["a1"]);
    fq_is(&idx, "id:a", &[]);
    fq_is(&idx, "id:\"b2\"", &["b2"]);
    fq_is(&idx, "name:bus-stops", &["b1"]);
    fq_is(&idx, "name:bus", &[]);
    fq_is(&idx, "url:\"https://example.jp/pop\"", &["b2"]);
    fq_is(&idx, "res_url:https://example.jp/pop.xlsx", &["b2"]);
    fq_is(&idx, "version:1.0", &["b2"]);
    fq_is(&idx, "title_string:公園トイレ", &["a3"]);
    // Text fields match substrings after normalisation.
    fq_is(&idx, "title:公園", &["a1", "a3"]);
    fq_is(&idx, "title:といれ", &["a3"]);
    fq_is(&idx, "notes:トイレ", &["a3"]);
    fq_is(&idx, "notes:tokyo", &["a2"]);
    fq_is(&idx, "text:子育て", &["a2"]);
    fq_is(&idx, "res_name:人口", &["b2"]);
    fq_is(&idx, "res_description:階級", &["b2"]);
    fq_is(&idx, "author:交通", &["b1"]);
    fq_is(&idx, "maintainer:統計", &["b2"]);
    fq_is(&idx, "title:\"人口統計 2024\"", &["b2"]);
    // Unknown fields match nothing.
    fq_is(&idx, "nonexistent:x", &[]);
    fq_is(&idx, "nonexistent:*", &[]);
    fq_is(&idx, "extras_:x", &[]);
}

#[test]
fn fq_constant_fields() {
    let idx = fixture();
    let all = ["a1", "a2", "a3", "b1", "b2"];
    fq_is(&idx, "dataset_type:dataset", &all);
    fq_is(&idx, "type:dataset", &all);
    fq_is(&idx, "type:harvest", &[]);
    fq_is(&idx, "state:active", &all);
    fq_is(&idx, "state:deleted", &[]);
    fq_is(&idx, "entity_type:package", &all);
    fq_is(&idx, "site_id:anything", &all);
    fq_is(&idx, "+permission_labels:(public OR creator-x)", &all);
    fq_is(&idx, "capacity:public", &all);
    fq_is(&idx, "capacity:private", &[]);
    fq_is(&idx, "*:*", &all);
    fq_is(&idx, "", &all);
    fq_is(&idx, "  ", &all);
}

#[test]
fn fq_boolean_operators() {
    let idx = fixture();
    fq_is(&idx, "-organization:city-a", &["a3", "b1", "b2"]);
    fq_is(&idx, "!organization:city-a", &["a3", "b1", "b2"]);
    fq_is(&idx, "NOT organization:city-a", &["a3", "b1", "b2"]);
    fq_is(&idx, "+organization:city-b", &["b1", "b2"]);
    fq_is(&idx, "organization:city-a AND tags:公園", &["a1"]);
    fq_is(&idx, "organization:city-a && tags:公園", &["a1"]);
    fq_is(&idx, "organization:city-a tags:公園", &["a1"]);
    fq_is(&idx, "+organization:city-a +tags:公園", &["a1"]);
    fq_is(&idx, "organization:city-a -tags:公園", &["a2"]);
    fq_is(&idx, "organization:city-a AND NOT tags:公園", &["a2"]);
    fq_is(&idx, "tags:公園 OR tags:バス", &["a1", "a3", "b1"]);
    fq_is(&idx, "tags:公園 || tags:バス", &["a1", "a3", "b1"]);
    fq_is(
        &idx,
        "(tags:公園 OR tags:バス) AND organization:city-b",
        &["b1"],
    );
    fq_is(
        &idx,
        "organization:city-b AND (tags:公園 OR tags:バス)",
        &["b1"],
    );
    fq_is(&idx, "tags:(公園 OR 子育て)", &["a1", "a2", "a3"]);
    fq_is(&idx, "tags:(公園 観光)", &["a1"]);
    fq_is(&idx, "tags:(公園 AND NOT 観光)", &["a3"]);
    fq_is(&idx, "tags:(\"公園\" OR \"バス\")", &["a1", "a3", "b1"]);
    fq_is(&idx, "((tags:公園))", &["a1", "a3"]);
    fq_is(&idx, "NOT NOT tags:公園", &["a1", "a3"]);
    fq_is(&idx, "-(tags:公園 OR tags:バス)", &["a2", "b2"]);
    // AND binds tighter than OR.
    fq_is(
        &idx,
        "tags:バス OR tags:公園 AND organization:city-a",
        &["a1", "b1"],
    );
    // A boost is accepted and ignored.
    fq_is(&idx, "tags:公園^2", &["a1", "a3"]);
}

#[test]
fn fq_wildcards_and_escapes() {
    let idx = fixture();
    fq_is(&idx, "version:*", &["b2"]);
    fq_is(&idx, "organization:*", &["a1", "a2", "b1", "b2"]);
    fq_is(&idx, "-organization:*", &["a3"]);
    fq_is(&idx, "title:*", &["a1", "a2", "a3", "b1", "b2"]);
    fq_is(&idx, "author:*", &["b1"]);
    fq_is(&idx, "res_url:*", &["b2"]);
    fq_is(&idx, "metadata_modified:*", &["a1", "a2", "a3", "b1", "b2"]);
    fq_is(&idx, "tags:公*", &["a1", "a3"]);
    fq_is(&idx, "name:park*", &["a3"]);
    fq_is(&idx, "name:*stops", &["b1"]);
    fq_is(&idx, "name:p*n", &["b2"]);
    fq_is(&idx, "res_format:cs*", &["a1", "a2", "a3"]);
    fq_is(&idx, "title:公*覧", &["a1"]);
    fq_is(&idx, "url:https\\://example.jp/pop", &["b2"]);
    fq_is(&idx, "name:bus\\-stops", &["b1"]);
    fq_is(&idx, "extras_note:two\\ words", &["a1"]);
    fq_is(&idx, "extras_note:\"two words\"", &["a1"]);
    fq_is(&idx, "id:\"a\\1\"", &["a1"]);
    fq_is(&idx, "name:park\\*", &[]);
}

#[test]
fn fq_extras() {
    let idx = fixture();
    fq_is(&idx, "extras_spatial:東京都", &["a1"]);
    fq_is(&idx, "extras_spatial:東京", &[]);
    fq_is(&idx, "extras_spatial:*", &["a1"]);
    fq_is(&idx, "extras_update_frequency:monthly", &["a1"]);
    fq_is(&idx, "extras_update_frequency:daily", &[]);
    fq_is(&idx, "-extras_spatial:*", &["a2", "a3", "b1", "b2"]);
}

#[test]
fn fq_numbers() {
    let idx = fixture();
    fq_is(&idx, "num_resources:1", &["a2", "b2"]);
    fq_is(&idx, "num_resources:[2 TO *]", &["a1", "a3", "b1"]);
    fq_is(&idx, "num_resources:{2 TO *]", &["a3"]);
    fq_is(&idx, "num_resources:[* TO 1]", &["a2", "b2"]);
    fq_is(&idx, "num_tags:[1 TO 1]", &["a3"]);
    fq_is(&idx, "num_tags:[-5 TO 0]", &[]);
    fq_err(&idx, "num_tags:two");
    fq_err(&idx, "num_tags:[a TO 3]");
}

#[test]
fn fq_date_ranges() {
    let idx = fixture();
    let all = ["a1", "a2", "a3", "b1", "b2"];
    fq_is(
        &idx,
        "metadata_modified:[2025-01-01T00:00:00Z TO *]",
        &["b1", "b2"],
    );
    fq_is(&idx, "metadata_modified:[* TO NOW]", &all);
    fq_is(&idx, "metadata_modified:[* TO *]", &all);
    fq_is(&idx, "metadata_modified:[NOW-1DAY TO NOW]", &["b2"]);
    fq_is(&idx, "metadata_modified:[NOW/DAY-1DAY TO NOW/DAY]", &["b2"]);
    fq_is(&idx, "metadata_modified:[NOW-1DAYS TO *]", &["b2"]);
    fq_is(&idx, "metadata_modified:[NOW-12HOURS TO *]", &["b2"]);
    fq_is(&idx, "metadata_modified:[NOW-11HOURS TO *]", &[]);
    fq_is(
        &idx,
        "metadata_modified:[NOW-1YEAR TO *]",
        &["a2", "b1", "b2"],
    );
    fq_is(
        &idx,
        "metadata_modified:[NOW-12MONTHS TO *]",
        &["a2", "b1", "b2"],
    );
    fq_is(&idx, "metadata_modified:[NOW-1MONTH/MONTH TO *]", &["b2"]);
    fq_is(
        &idx,
        "metadata_modified:[2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z]",
        &["a1", "a2", "a3", "b1"],
    );
    fq_is(
        &idx,
        "metadata_modified:{2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z}",
        &["a2"],
    );
    fq_is(
        &idx,
        "metadata_modified:[2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z}",
        &["a1", "a2", "a3"],
    );
    fq_is(
        &idx,
        "metadata_modified:2024-03-01T00:00:00Z",
        &["a1", "a3"],
    );
    fq_is(
        &idx,
        "metadata_modified:\"2024-03-01T00:00:00Z\"",
        &["a1", "a3"],
    );
    fq_is(
        &idx,
        "metadata_modified:2024-03-01T00\\:00\\:00Z",
        &["a1", "a3"],
    );
    fq_is(
        &idx,
        "metadata_created:[2024-01-01 TO 2024-12-31]",
        &["a2", "b1"],
    );
    fq_is(
        &idx,
        "metadata_created:[2024-01-01T00:00:00 TO 2024-12-31T23:59:59.999]",
        &["a2", "b1"],
    );
    fq_is(
        &idx,
        "metadata_created:[2025-01-01T00:00:00.000Z TO NOW]",
        &["b2"],
    );
    fq_is(
        &idx,
        "metadata_created:[\"2025-01-01T00:00:00Z\" TO *]",
        &["b2"],
    );
    fq_err(&idx, "metadata_modified:[2024 TO *]");
    fq_err(&idx, "metadata_modified:[yesterday TO *]");
    fq_err(&idx, "metadata_modified:[2024-13-01T00:00:00Z TO *]");
    fq_err(&idx, "metadata_modified:[NOW-1FORTNIGHT TO *]");
    fq_err(&idx, "metadata_modified:[NOW-DAY TO *]");
    fq_err(&idx, "metadata_modified:2024-01-*");
    fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z TO]");
    fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z TO *");
    fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z *]");
}

#[test]
fn occurrences() {
    let count = |hay: &str, needle: &str| {
        let mut v = Vec::new();
        for_each_match(hay, needle, |p| v.push(p));
        v
    };
    assert_eq!(count("公園と公園公園", "公園"), vec![0, 9, 15]);
    assert_eq!(count("aaaa", "aa"), vec![0, 2]);
    assert_eq!(count("abcab", "ab"), vec![0, 3]);
    assert_eq!(count("abc", ""), Vec::<usize>::new());
    assert_eq!(count("", "a"), Vec::<usize>::new());
    assert_eq!(count("aab", "ab"), vec![1]);
}

#[test]
fn date_math() {
    let n = at("2025-06-02T13:45:30.250Z");
    let d = |s: &str| parse_date_math(s, n);
    assert_eq!(d("NOW"), Ok(n));
    assert_eq!(d("NOW/DAY"), Ok(at("2025-06-02T00:00:00Z")));
    assert_eq!(d("NOW/HOUR"), Ok(at("2025-06-02T13:00:00Z")));
    assert_eq!(d("NOW/MONTH"), Ok(at("2025-06-01")));
    assert_eq!(d("NOW/YEAR"), Ok(at("2025-01-01")));
    assert_eq!(d("NOW/SECOND"), Ok(at("2025-06-02T13:45:30Z")));
    assert_eq!(d("NOW-1DAY"), Ok(at("2025-06-01T13:45:30.25Z")));
    assert_eq!(d("NOW+2HOURS"), Ok(at("2025-06-02T15:45:30.25")));
    assert_eq!(d("NOW-1YEAR/DAY"), Ok(at("2024-06-02")));
    assert_eq!(d("NOW/DAY+1DAY-1SECOND"), Ok(at("2025-06-02T23:59:59Z")));
    assert_eq!(d("2024-01-31T00:00:00Z+1MONTH"), Ok(at("2024-02-29")));
    assert_eq!(d("2024-01-01T10:20Z"), Ok(at("2024-01-01T10:20:00Z")));
    assert_eq!(d("now/day"), Err(BAD_DATE));
    for bad in [
        "2024-1-1",
        "2024-02-30",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01X",
        "NOW-",
        "NOW-1",
        "NOW-1DAYX1",
        "NOW+99999999999999999999DAYS",
        "NOW+9999999999999DAYS",
        "NOW+999999999YEARS",
        "NOW/FORTNIGHT",
        "NOW１DAY",
        "",
    ] {
        assert!(d(bad).is_err(), "{bad}");
    }
}
const BAD_DATE: &str = "expected a date like 2024-01-01T00:00:00Z or NOW";

#[test]
fn private_datasets() {
    let idx = fixture();
    q_is(&idx, "予算", &[]);
    fq_is(&idx, "id:c1", &[]);
    let mut r = req("予算", &[]);
    r.private_orgs = strs(&["org-c-id"]);
    assert_eq!(run(&idx, &r).ids, strs(&["c1"]));
    r.private_orgs = strs(&["org-a-id"]);
    assert_eq!(run(&idx, &r).ids, Vec::<String>::new());
    let mut r = req("", &["capacity:private"]);
    r.private_orgs = strs(&["org-c-id", "org-a-id"]);
    assert_eq!(run(&idx, &r).ids, strs(&["c1"]));
    r.fq = strs(&["res_format:csv"]);
    assert_eq!(run(&idx, &r).ids, strs(&["a1", "a2", "a3", "c1"]));
    // Private documents never show in facets either.
    let r = SearchRequest {
        facet_fields: strs(&["tags"]),
        facet_limit: -1,
        ..SearchRequest::default()
    };
    let res = run(&idx, &r);
    assert!(!res.facets[0].1.iter().any(|(v, _)| v == "予算"));
    assert_eq!(res.count, 5);
}

fn sorted(idx: &Index, query: &str, sort: &str) -> Vec<String> {
    let mut r = req(query, &[]);
    r.sort = Some(sort.to_owned());
    run(idx, &r).ids
}

#[test]
fn sorting() {
    let idx = fixture();
    let s = |sort: &str| sorted(&idx, "", sort);
    assert_eq!(s("id asc"), strs(&["a1", "a2", "a3", "b1", "b2"]));
    assert_eq!(s("id desc"), strs(&["b2", "b1", "a3", "a2", "a1"]));
    assert_eq!(s("name asc"), strs(&["b1", "a2", "a3", "b2", "a1"]));
    assert_eq!(s("name desc"), strs(&["a1", "b2", "a3", "a2", "b1"]));
    assert_eq!(s("title_string asc"), strs(&["b1", "b2", "a3", "a2", "a1"]));
    assert_eq!(
        s("title_string desc"),
        strs(&["a1", "a2", "a3", "b2", "b1"])
    );
    assert_eq!(
        s("metadata_modified desc"),
        strs(&["b2", "b1", "a2", "a1", "a3"])
    );
    assert_eq!(
        s("metadata_modified asc"),
        strs(&["a1", "a3", "a2", "b1", "b2"])
    );
    assert_eq!(
        s("metadata_created asc"),
        strs(&["a1", "a3", "a2", "b1", "b2"])
    );
    assert_eq!(
        s("metadata_created desc"),
        strs(&["b2", "b1", "a2", "a3", "a1"])
    );
    assert_eq!(
        s("num_resources desc"),
        strs(&["a3", "a1", "b1", "a2", "b2"])
    );
    assert_eq!(
        s("num_resources asc"),
        strs(&["a2", "b2", "a1", "b1", "a3"])
    );
    assert_eq!(
        s("num_tags asc, name asc"),
        strs(&["a3", "b1", "a2", "b2", "a1"])
    );
    assert_eq!(
        s("num_tags asc,id desc"),
        strs(&["a3", "b2", "b1", "a2", "a1"])
    );
    assert_eq!(
        s("  NAME  ASC ".to_lowercase().as_str()),
        strs(&["b1", "a2", "a3", "b2", "a1"])
    );
    assert_eq!(s("name DESC"), strs(&["a1", "b2", "a3", "a2", "b1"]));
    // Score: title ×10, tags ×5, notes ×1; ties by metadata_modified desc.
    assert_eq!(
        sorted(&idx, "一覧", "score desc, metadata_modified desc"),
        strs(&["b1", "a1", "a2"])
    );
    assert_eq!(sorted(&idx, "公園", "score desc"), strs(&["a1", "a3"]));
    // Without a q every score is 0, so the default sorts by modification.
    assert_eq!(
        s("score desc, metadata_modified desc"),
        strs(&["b2", "b1", "a2", "a1", "a3"])
    );
    let default = |query: &str| {
        run(
            &idx,
            &SearchRequest {
                q: Some(query.into()),
                ..SearchRequest::default()
            },
        )
        .ids
    };
    assert_eq!(default(""), strs(&["b2", "b1", "a2", "a1", "a3"]));
    assert_eq!(default("一覧"), strs(&["b1", "a1", "a2"]));
    // Negated terms do not score.
    assert_eq!(
        sorted(&idx, "一覧 -バス", "score desc"),
        strs(&["a1", "a2"])
    );
    // Bad sorts.
    let err = |sort: &str| {
        idx.search(
            &SearchRequest {
                sort: Some(sort.into()),
                ..SearchRequest::default()
            },
            now(),
        )
    };
    assert!(matches!(
        err("foo asc"),
        Err(SearchError::UnknownSortField(_))
    ));
    assert!(matches!(
        err("views_recent desc"),
        Err(SearchError::UnknownSortField(_))
    ));
    assert!(matches!(err("name up"), Err(SearchError::InvalidSort(_))));
    assert!(matches!(err("name"), Err(SearchError::InvalidSort(_))));
    assert!(matches!(
        err("name asc desc"),
        Err(SearchError::InvalidSort(_))
    ));
    assert!(matches!(
        err("name asc, bogus desc"),
        Err(SearchError::UnknownSortField(_))
    ));
    assert_eq!(
        err("name asc, bogus desc").unwrap_err().to_string(),
        "Unknown sort field: bogus"
    );
    // Empty sort means the default.
    assert_eq!(s(""), strs(&["b2", "b1", "a2", "a1", "a3"]));
    assert_eq!(s(" , "), strs(&["b2", "b1", "a2", "a1", "a3"]));
}

fn many(n: usize) -> Index {
    let docs = (0..n)
        .map(|i| {
            let mut d = Doc::new(
                format!("id-{:04}", (i * 7919) % n),
                format!("name-{}", i % 10),
            );
            d.title = format!("データ{}", i % 3);
            // Many ties on purpose.
            d.metadata_modified = at("2024-01-01T00:00:00Z") + TimeDelta::days((i % 4) as i64);
            d.res_url = vec!["https://example.jp/x.csv".to_owned(); i % 2];
            d
        })
        .collect();
    Index::new(docs)
}

#[test]
fn paging_is_stable() {
    let n = 57;
    let idx = many(n);
    assert_eq!(idx.len(), n);
    for sort in [
        "id asc",
        "metadata_modified desc",
        "name asc, num_resources desc",
        "score desc",
    ] {
        for rows in [1, 10, 13] {
            let mut seen = Vec::new();
            let mut start = 0;
            loop {
                let r = SearchRequest {
                    q: Some("データ".into()),
                    sort: Some(sort.into()),
                    rows,
                    start,
                    ..SearchRequest::default()
                };
                let res = run(&idx, &r);
                assert_eq!(res.count, n);
                if res.ids.is_empty() {
                    break;
                }
                assert!(res.ids.len() <= rows);
                seen.extend(res.ids);
                start += rows;
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), n, "{sort} rows={rows}");
            assert_eq!(seen.len(), n);
            if sort == "id asc" {
                assert_eq!(seen, unique);
            }
        }
    }
    // Past the end and zero rows.
    let r = SearchRequest {
        start: 1000,
        ..SearchRequest::default()
    };
    assert_eq!(
        run(&idx, &r),
        SearchResult {
            count: n,
            ids: vec![],
            facets: vec![]
        }
    );
    let r = SearchRequest {
        rows: 0,
        start: usize::MAX,
        ..SearchRequest::default()
    };
    assert_eq!(run(&idx, &r).count, n);
}

fn facet<'a>(res: &'a SearchResult, name: &str) -> &'a [(String, usize)] {
    &res.facets.iter().find(|(n, _)| n == name).expect("facet").1
}

fn pairs(v: &[(&str, usize)]) -> Vec<(String, usize)> {
    v.iter().map(|(s, c)| ((*s).to_owned(), *c)).collect()
}

#[test]
fn facets() {
    let idx = fixture();
    let fields = [
        "organization",
        "tags",
        "res_format",
        "license_id",
        "groups",
        "extras_spatial",
        "capacity",
        "bogus",
        "tags",
    ];
    let mut r = SearchRequest {
        facet_fields: strs(&fields),
        rows: 1,
        ..SearchRequest::default()
    };
    let res = run(&idx, &r);
    assert_eq!(res.ids.len(), 1);
    assert_eq!(res.facets.len(), 8);
    assert_eq!(
        res.facets
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        fields[..8].to_vec()
    );
    assert_eq!(
        facet(&res, "organization"),
        pairs(&[("city-a", 2), ("city-b", 2)])
    );
    assert_eq!(
        facet(&res, "res_format"),
        pairs(&[("CSV", 3), ("GTFS", 1), ("PDF", 1), ("XLSX", 1), ("ZIP", 1)])
    );
    assert_eq!(
        facet(&res, "license_id"),
        pairs(&[("cc-by", 1), ("odc-by", 1)])
    );
    assert_eq!(
        facet(&res, "groups"),
        pairs(&[("parks", 1), ("welfare", 1)])
    );
    assert_eq!(facet(&res, "extras_spatial"), pairs(&[("東京都", 1)]));
    assert_eq!(facet(&res, "capacity"), pairs(&[("public", 5)]));
    assert_eq!(facet(&res, "bogus"), pairs(&[]));
    assert_eq!(facet(&res, "tags").len(), 8);
    assert_eq!(facet(&res, "tags")[0], ("公園".to_owned(), 2));

    r.facet_limit = 2;
    let res = run(&idx, &r);
    assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2), ("バス", 1)]));
    r.facet_limit = 0;
    assert_eq!(facet(&run(&idx, &r), "tags"), pairs(&[]));
    r.facet_limit = -1;
    r.facet_mincount = 2;
    let res = run(&idx, &r);
    assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2)]));
    assert_eq!(facet(&res, "res_format"), pairs(&[("CSV", 3)]));

    // Facets count every match, not just the page; and follow q and fq.
    let r = SearchRequest {
        q: Some("公園".into()),
        fq: strs(&["res_format:csv"]),
        facet_fields: strs(&["tags", "organization", "metadata_modified", "num_resources"]),
        rows: 0,
        ..SearchRequest::default()
    };
    let res = run(&idx, &r);
    assert_eq!(res.count, 2);
    assert!(res.ids.is_empty());
    assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2), ("観光", 1)]));
    assert_eq!(facet(&res, "organization"), pairs(&[("city-a", 1)]));
    assert_eq!(
        facet(&res, "metadata_modified"),
        pairs(&[("2024-03-01T00:00:00Z", 2)])
    );
    assert_eq!(facet(&res, "num_resources"), pairs(&[("2", 1), ("3", 1)]));

    // mincount 0 lists values of other documents with a zero count.
    let r = SearchRequest {
        fq: strs(&["organization:city-b"]),
        facet_fields: strs(&["organization", "extras_spatial"]),
        facet_mincount: 0,
        ..SearchRequest::default()
    };
    let res = run(&idx, &r);
    assert_eq!(
        facet(&res, "organization"),
        pairs(&[("city-b", 2), ("city-a", 0), ("city-c", 0)])
    );
    assert_eq!(facet(&res, "extras_spatial"), pairs(&[("東京都", 0)]));
}

#[test]
fn upsert_and_remove() {
    let mut idx = fixture();
    assert_eq!(idx.len(), 6);
    assert!(!idx.is_empty());
    let mut a1 = idx.get("a1").expect("a1").clone();
    a1.title = "市営プール一覧".into();
    a1.notes = String::new();
    a1.tags = strs(&["プール"]);
    a1.res_format = strs(&["JSON"]);
    idx.upsert(a1);
    assert_eq!(idx.len(), 6);
    q_is(&idx, "公園", &["a3"]);
    q_is(&idx, "ぷーる", &["a1"]);
    fq_is(&idx, "tags:公園", &["a3"]);
    fq_is(&idx, "res_format:json", &["a1"]);
    idx.remove("b1");
    idx.remove("b1");
    idx.remove("nope");
    assert_eq!(idx.len(), 5);
    assert!(idx.get("b1").is_none());
    q_is(&idx, "バス", &[]);
    fq_is(&idx, "tags:バス", &[]);
    let r = SearchRequest {
        facet_fields: strs(&["tags", "res_format"]),
        facet_mincount: 0,
        facet_limit: -1,
        ..SearchRequest::default()
    };
    let res = run(&idx, &r);
    assert!(
        !facet(&res, "tags")
            .iter()
            .any(|(v, _)| v == "バス" || v == "観光")
    );
    assert!(
        facet(&res, "tags")
            .iter()
            .any(|(v, c)| v == "予算" && *c == 0)
    );
    assert!(!facet(&res, "res_format").iter().any(|(v, _)| v == "GTFS"));
    // The freed slot is reused and the postings stay consistent.
    let mut d = Doc::new("d1", "new-bus");
    d.title = "バス路線".into();
    idx.upsert(d);
    q_is(&idx, "バス", &["d1"]);
    q_is(&idx, "一覧", &["a1", "a2"]);
    assert_eq!(idx.len(), 6);
    // Duplicate ids at construction: the last wins.
    let idx = Index::new(vec![Doc::new("x", "first"), Doc::new("x", "second")]);
    assert_eq!(idx.len(), 1);
    fq_is(&idx, "name:second", &["x"]);
    assert!(Index::new(vec![]).is_empty());
}

/// Postings and interned slot lists after many updates equal those of
/// an index built from scratch.
#[test]
fn incremental_updates_match_rebuild() {
    let mut rng = Lcg(3);
    let words = ["公園", "バス", "子育て", "csv", "データ", "一覧", "ａｂｃ"];
    let mut idx = Index::default();
    let mut live: HashMap<String, Doc> = HashMap::new();
    for step in 0..400 {
        let id = format!("d{}", rng.next() % 40);
        if rng.next().is_multiple_of(4) {
            idx.remove(&id);
            live.remove(&id);
        } else {
            let mut d = Doc::new(id.clone(), format!("n{step}"));
            d.title = (0..3).map(|_| *rng.pick(&words)).collect();
            d.tags = (0..2).map(|_| (*rng.pick(&words)).to_owned()).collect();
            d.res_format = vec![(*rng.pick(&["CSV", "csv", "PDF"])).to_owned()];
            d.organization = format!("o{}", rng.next() % 3);
            idx.upsert(d.clone());
            live.insert(id, d);
        }
    }
    assert_eq!(idx.len(), live.len());
    let fresh = Index::new(live.values().cloned().collect());
    // Slots differ between the two; compare by ids.
    let ids_of = |index: &Index, slots: &[u32]| {
        let mut v: Vec<String> = slots
            .iter()
            .filter_map(|&s| {
                index
                    .slots
                    .get(s as usize)?
                    .as_ref()
                    .map(|e| e.doc.id.clone())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(idx.postings.len(), fresh.postings.len());
    for (g, slots) in &fresh.postings {
        let mine = idx.postings.get(g).expect("gram");
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids_of(&idx, mine), ids_of(&fresh, slots));
    }
    for f in INTERN_FIELDS {
        let (a, b) = (idx.interners.get(f), fresh.interners.get(f));
        for (key, &id) in &b.map {
            let mine = a
                .map
                .get(key)
                .and_then(|&i| a.slots.get(i as usize))
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                ids_of(&idx, &mine),
                ids_of(&fresh, &b.slots[id as usize]),
                "{key}"
            );
        }
    }
    let r = SearchRequest {
        q: Some("公園".into()),
        facet_fields: strs(&["tags", "res_format", "organization"]),
        rows: 1000,
        ..SearchRequest::default()
    };
    let (mut x, mut y) = (run(&idx, &r), run(&fresh, &r));
    x.ids.sort();
    y.ids.sort();
    assert_eq!(x.ids, y.ids);
    assert_eq!(x.facets[0], y.facets[0]);
    assert_eq!(x.facets[2], y.facets[2]);
}

#[test]
fn facet_display_follows_live_documents() {
    let mut d = Doc::new("x", "x");
    d.res_format = strs(&["csv"]);
    let mut idx = Index::new(vec![d]);
    let mut d = Doc::new("y", "y");
    d.res_format = strs(&["CSV"]);
    idx.upsert(d);
    let r = SearchRequest {
        facet_fields: strs(&["res_format"]),
        ..SearchRequest::default()
    };
    assert_eq!(facet(&run(&idx, &r), "res_format"), pairs(&[("csv", 2)]));
    idx.remove("x");
    idx.remove("y");
    let mut d = Doc::new("z", "z");
    d.res_format = strs(&["Csv"]);
    idx.upsert(d);
    assert_eq!(facet(&run(&idx, &r), "res_format"), pairs(&[("Csv", 1)]));
}

#[test]
fn syntax_errors() {
    let idx = fixture();
    let deep = format!("{}tags:公園{}", "(".repeat(40), ")".repeat(40));
    let not_chain = format!("{}tags:公園", "NOT ".repeat(40));
    let many_clauses = "tags:x ".repeat(2000);
    for bad in [
        "(((",
        "\"",
        "a:[",
        "\\",
        ":",
        "-",
        "+",
        "!",
        "AND",
        "OR",
        "NOT",
        "&&",
        "||",
        "tags:",
        "tags: ",
        "tags:(a",
        "tags:a)",
        "(tags:a",
        "()",
        "(",
        ")",
        "a AND",
        "AND a",
        "a OR",
        "OR a",
        "a AND AND b",
        "a OR OR b",
        "tags:\"abc",
        "tags:[a TO b",
        "tags:[a b]",
        "tags:[a TO b c]",
        "tags:[TO b]",
        "tags:a\\",
        "\"abc\\",
        ":x",
        "tags:()",
        "tags:(OR a)",
        "- tags:a",
        "NOT",
        "a NOT",
        "tags:^",
        "^",
        deep.as_str(),
        not_chain.as_str(),
        many_clauses.as_str(),
    ] {
        fq_err(&idx, bad);
    }
    let e = idx.search(&req("", &["tags:(a"]), now()).unwrap_err();
    assert!(e.to_string().starts_with("Invalid search query: "), "{e}");
    // Nesting below the limit is fine.
    let ok = format!("{}tags:公園{}", "(".repeat(20), ")".repeat(20));
    fq_is(&idx, &ok, &["a1", "a3"]);
}

/// A tiny deterministic generator for fuzzing.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() as usize) % v.len()]
    }
}

#[test]
fn never_panics() {
    let idx = fixture();
    let long_word = "公".repeat(10_000);
    let long_ascii = "a".repeat(10_000);
    let long_parens = "(".repeat(10_000);
    let long_close = ")".repeat(10_000);
    let long_minus = "-".repeat(10_000);
    let long_not = "NOT ".repeat(3_000);
    let long_colon = "a:".repeat(5_000);
    let long_quote = "\"".repeat(10_001);
    let long_star = format!("title:{}", "*a".repeat(5_000));
    let long_range = format!("metadata_modified:[NOW{} TO *]", "-1DAY".repeat(2_000));
    let long_escape = "\\".repeat(10_001);
    let mut inputs: Vec<String> = [
        "(((",
        "\"",
        "a:[",
        "\\",
        ":",
        "-",
        "AND",
        "😀",
        "tags:😀",
        "\u{0}",
        "tags:\u{0}",
        "\u{0}:\u{0}",
        "*",
        "**",
        "*:*",
        "*:a",
        "*:[a TO b]",
        "a:*",
        "title:*",
        "title:**",
        "title:\\*",
        "[",
        "]",
        "{",
        "}",
        "[a TO b]",
        "tags:{* TO *}",
        "a^",
        "a^^2",
        "\"a\"~",
        "\"a\"~2^3",
        "~",
        "/",
        "?",
        "title:?",
        "&&&&",
        "||||",
        "!!",
        "+-!x",
        "NOT-x",
        "a\u{3000}b",
        "\u{3000}",
        "\u{200b}",
        "\u{ffff}",
        "\u{10ffff}",
        "ｔａｇｓ：公園",
        "tags\\:x:y",
        "extras_\\ :x",
        "e\u{301}",
        "\u{1f}",
        "num_resources:99999999999999999999",
        "num_resources:[-9223372036854775808 TO 9223372036854775807]",
        "metadata_modified:[0000-01-01 TO 9999-12-31]",
        "metadata_modified:[NOW+999999DAYS TO *]",
        "metadata_modified:NOW/MILLI",
        "title:[a TO b]",
        "text:[* TO *]",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    inputs.extend([
        long_word,
        long_ascii,
        long_parens,
        long_close,
        long_minus,
        long_not,
        long_colon,
        long_quote,
        long_star,
        long_range,
        long_escape,
    ]);
    let alphabet = [
        "(",
        ")",
        "\"",
        ":",
        "\\",
        "-",
        "+",
        "!",
        "*",
        "^",
        "~",
        "[",
        "]",
        "{",
        "}",
        " ",
        "\u{3000}",
        "AND",
        "OR",
        "NOT",
        "&&",
        "||",
        "TO",
        "tags",
        "title",
        "metadata_modified",
        "NOW",
        "/DAY",
        "-1DAY",
        "2024-01-01",
        "公園",
        "ｶ",
        "😀",
        "\u{0}",
        "a",
        "extras_x",
        "num_tags",
        "1",
    ];
    let mut rng = Lcg(42);
    for _ in 0..3_000 {
        let len = 1 + rng.next() % 12;
        let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        inputs.push(s);
    }
    for s in &inputs {
        for r in [
            req(s, &[]),
            req("", &[s]),
            SearchRequest {
                sort: Some(s.clone()),
                facet_fields: vec![s.clone()],
                ..SearchRequest::default()
            },
        ] {
            let _ = idx.search(&r, now());
        }
    }
    // Odd documents index and search too.
    let mut odd = Doc::new("\u{0}", "😀");
    odd.title = inputs.join(" ");
    odd.tags = inputs.iter().take(50).cloned().collect();
    odd.extras = vec![
        (String::new(), String::new()),
        ("\u{0}".into(), "\u{1f}".into()),
    ];
    let mut idx = fixture();
    idx.upsert(odd);
    for s in inputs.iter().take(200) {
        let _ = idx.search(&req(s, &[s]), now());
    }
    idx.remove("\u{0}");
    assert_eq!(idx.len(), 6);
}

// -- performance ---------------------------------------------------------

const WORDS: &[&str] = &[
    "公園",
    "子育て",
    "支援",
    "施設",
    "一覧",
    "人口",
    "統計",
    "予算",
    "決算",
    "観光",
    "バス",
    "停留所",
    "避難所",
    "防災",
    "図書館",
    "保育所",
    "介護",
    "福祉",
    "道路",
    "橋梁",
    "水道",
    "下水道",
    "ごみ",
    "収集",
    "地区",
    "年齢別",
    "世帯",
    "推計",
    "駐車場",
    "トイレ",
    "AED",
    "Wi-Fi",
    "文化財",
    "イベント",
    "学校",
    "給食",
    "献立",
    "病院",
    "診療所",
    "選挙",
    "投票所",
    "農業",
    "漁業",
    "商店街",
    "空き家",
    "住宅",
    "市営",
    "県立",
    "令和",
    "データ",
];
const FORMATS: &[&str] = &[
    "CSV", "XLSX", "PDF", "JSON", "GeoJSON", "ZIP", "HTML", "csv",
];

const KANJI: &str = "市町村県区都道府庁課係局部室所館園場校院署駅港橋川山森林野原田畑海湖池島岬谷坂台丘浜\
        北南東西中上下新古大小高低長短明暗春夏秋冬朝昼夜年月日時分週期間回数量額率費税金銀銅鉄石土木火水\
        人口世帯住民戸籍選挙議会条例規則計画予算決算財政資産債務契約入札工事道路交通運輸車両船舶航空郵便電話\
        情報通信放送教育学習文化芸術体育競技観光宿泊飲食商業工業農業林業漁業鉱業建設製造販売医療保健衛生福祉\
        介護子育保育児童生徒学生高齢障害者支援相談窓口手続申請届出証明発行交付登録変更廃止休止再開設置管理運営";

/// Pseudo-words of two or three kanji, so that most words are rare as
/// in real catalogues.
fn vocabulary(rng: &mut Lcg) -> Vec<String> {
    let kanji: Vec<char> = KANJI.chars().filter(|c| !c.is_whitespace()).collect();
    (0..3000)
        .map(|i| (0..2 + i % 2).map(|_| *rng.pick(&kanji)).collect())
        .collect()
}

/// `dense`: notes drawn from only 50 words, so that every common word
/// occurs in most documents (a stress case); otherwise 1 word in 10 is
/// a common one and the rest come from a large vocabulary.
fn big_index(n: usize, dense: bool) -> Index {
    let mut rng = Lcg(7);
    let vocab = vocabulary(&mut rng);
    let docs = (0..n)
        .map(|i| {
            let mut d = Doc::new(
                format!("{:08x}-0000-4000-8000-{:012x}", rng.next(), i),
                format!("dataset-{i}"),
            );
            let word = |rng: &mut Lcg| {
                if dense || rng.next().is_multiple_of(10) {
                    (*rng.pick(WORDS)).to_owned()
                } else {
                    rng.pick(&vocab).clone()
                }
            };
            d.title = (0..3).map(|_| word(&mut rng)).collect::<String>()
                + *rng.pick(&["一覧", "データ", "統計", "情報"]);
            d.notes = (0..110)
                .map(|_| word(&mut rng))
                .collect::<Vec<_>>()
                .join("");
            let ntags = 3 + (rng.next() % 4) as usize;
            d.tags = (0..ntags).map(|_| (*rng.pick(WORDS)).to_owned()).collect();
            let nres = 1 + (rng.next() % 5) as usize;
            d.res_format = (0..nres).map(|_| (*rng.pick(FORMATS)).to_owned()).collect();
            d.res_name = (0..nres)
                .map(|k| format!("{}{}", rng.pick(WORDS), k))
                .collect();
            d.res_url = (0..nres)
                .map(|k| format!("https://example.jp/{i}/{k}.csv"))
                .collect();
            d.organization = format!("org-{}", rng.next() % 40);
            d.owner_org = format!("{}-id", d.organization);
            d.groups = vec![format!("group-{}", rng.next() % 12)];
            d.license_id = (*rng.pick(&["cc-by-4.0", "cc0-1.0", "odc-by"])).to_owned();
            d.private = rng.next().is_multiple_of(20);
            d.metadata_created =
                at("2020-01-01T00:00:00Z") + TimeDelta::hours((rng.next() % 40_000) as i64);
            d.metadata_modified =
                d.metadata_created + TimeDelta::hours((rng.next() % 5_000) as i64);
            d
        })
        .collect();
    Index::new(docs)
}

fn timed(label: &str, mut f: impl FnMut() -> usize) {
    let mut wall = Vec::new();
    let mut n = 0;
    for _ in 0..300 {
        let t = std::time::Instant::now();
        n = f();
        wall.push(t.elapsed());
    }
    wall.sort();
    println!(
        "{label}: count={n} min={:?} median={:?} p99={:?}",
        wall[0], wall[150], wall[296]
    );
}

/// `cargo test --release -- --ignored --nocapture perf`
#[test]
#[ignore]
fn perf() {
    for dense in [false, true] {
        println!(
            "--- {} ---",
            if dense { "dense (stress)" } else { "realistic" }
        );
        perf_run(dense);
    }
}

fn perf_run(dense: bool) {
    let t = std::time::Instant::now();
    let mut idx = big_index(10_000, dense);
    println!("build 10k: {:?}", t.elapsed());
    let grams: usize = idx.postings.values().map(Vec::len).sum();
    let text: usize = idx.slots.iter().flatten().map(|e| e.all.len()).sum();
    println!(
        "postings: {} keys, {grams} entries; normalised text {text} bytes",
        idx.postings.len()
    );
    let facets = strs(&["organization", "groups", "tags", "res_format", "license_id"]);
    let base = SearchRequest {
        facet_fields: facets,
        private_orgs: strs(&["org-1-id"]),
        ..SearchRequest::default()
    };
    let cases: Vec<(&str, SearchRequest)> = vec![
        (
            "q 2 terms + 2 fq + 5 facets",
            SearchRequest {
                q: Some("公園 子育て".into()),
                fq: strs(&["organization:org-3", "res_format:CSV"]),
                ..base.clone()
            },
        ),
        (
            "q 2 terms + 5 facets",
            SearchRequest {
                q: Some("図書館 防災".into()),
                ..base.clone()
            },
        ),
        (
            "q 1 kanji + 5 facets",
            SearchRequest {
                q: Some("市".into()),
                ..base.clone()
            },
        ),
        (
            "q 1 kanji + 5 facets, id asc",
            SearchRequest {
                q: Some("市".into()),
                sort: Some("id asc".into()),
                ..base.clone()
            },
        ),
        (
            "q 1 kanji, id asc, no facets",
            SearchRequest {
                q: Some("市".into()),
                sort: Some("id asc".into()),
                facet_fields: vec![],
                ..base.clone()
            },
        ),
        ("no q (all docs) + 5 facets", base.clone()),
        (
            "fq date range + sort title",
            SearchRequest {
                fq: strs(&["metadata_modified:[NOW-1YEAR TO NOW]"]),
                sort: Some("title_string asc".into()),
                ..base.clone()
            },
        ),
        (
            "fielded q + OR",
            SearchRequest {
                q: Some("tags:(公園 OR バス) AND title:一覧 -res_format:PDF".into()),
                ..base.clone()
            },
        ),
    ];
    for (label, r) in &cases {
        timed(label, || idx.search(r, now()).expect("search").count);
    }
    for f in ["organization", "groups", "tags", "res_format", "license_id"] {
        let r = SearchRequest {
            facet_fields: strs(&[f]),
            ..base.clone()
        };
        timed(&format!("no q, facet {f}"), || {
            idx.search(&r, now()).expect("search").count
        });
    }
    let mut times = Vec::new();
    for i in 0..200 {
        let mut d = idx
            .get(&format!("{:08x}", 0))
            .cloned()
            .unwrap_or_else(|| Doc::new("upsert-test", "x"));
        d.title = format!("更新{i}公園一覧");
        d.notes = "公園".repeat(150);
        let t = std::time::Instant::now();
        idx.upsert(d);
        times.push(t.elapsed());
    }
    times.sort();
    println!("upsert: median={:?} p99={:?}", times[100], times[198]);
}
