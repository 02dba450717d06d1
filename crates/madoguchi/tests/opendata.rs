//! The open-data catalogue's pages end to end, on SQLite and PostgreSQL: the
//! demo catalogue searched, read (DCAT links, the CP932 CSV decoded in its
//! preview) and browsed by publisher and group; staff creating, editing and
//! deleting datasets and adding files, with the standard datasets' checks;
//! other local governments and signed-out visitors kept out; API tokens made
//! on the page working against CKAN's API; paper counts reaching the monthly
//! dataset; and hand-edited search URLs never failing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Client, DEMO_PASSWORD, TestApp, backends};
use serde_json::json;

const TSU_ADMIN: &str = "admin@city.tsu.example.jp";
const TOYAMA_ADMIN: &str = "admin@pref.toyama.example.jp";

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn staff(t: &TestApp, email: &str) -> Client {
    let mut c = t.client();
    let res = c.page_sign_in(email, DEMO_PASSWORD, true).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{email}: {}", res.text());
    c
}

/// The value of the first `<option>` of a `<select>` with this id.
fn first_option(page: &str, select_id: &str) -> String {
    let start = page
        .find(&format!("id=\"{select_id}\""))
        .unwrap_or_else(|| panic!("no select {select_id}"));
    let rest = &page[start..];
    let at = rest.find("<option value=\"").unwrap() + "<option value=\"".len();
    rest[at..at + rest[at..].find('"').unwrap()].to_string()
}

/// The `value` of the element with this id.
fn value_of(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id}: {page}"));
    let rest = &page[start..];
    let at = rest.find("value=\"").unwrap() + "value=\"".len();
    rest[at..at + rest[at..].find('"').unwrap()].to_string()
}

fn resource_id(t: &TestApp, dataset: &str, index: usize) -> String {
    let e = t
        .app
        .opendata
        .catalogue
        .get(dataset)
        .unwrap_or_else(|| panic!("no dataset {dataset}"));
    e.dataset.resources[index].id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalogue_is_searched_read_and_browsed() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = t.client();

        let all = c.get("/dataset").await;
        assert_eq!(all.status, StatusCode::OK, "{backend:?}");
        let text = all.text();
        assert!(text.contains("件のデータセットがあります"), "{text}");
        assert!(
            text.contains("<a href=\"/dataset\">オープンデータ</a>"),
            "the layout links the catalogue"
        );

        // Free text finds the parks; a one-kanji tag filters.
        let parks = c.get(&format!("/dataset?q={}", enc("公園"))).await;
        assert_eq!(parks.status, StatusCode::OK);
        let text = parks.text();
        assert!(
            text.contains("href=\"/dataset/tsu-koen-ichiran\""),
            "{text}"
        );
        assert!(text.contains("津市 市立公園一覧"));
        assert!(
            text.contains("<span class=\"tag\">CSV</span>"),
            "format badges"
        );
        let sea = c.get(&format!("/dataset?tags={}", enc("海"))).await;
        let text = sea.text();
        assert!(
            text.contains("href=\"/dataset/tsu-kaisuiyokujo\""),
            "{text}"
        );
        assert!(!text.contains("href=\"/dataset/tsu-koen-ichiran\""));
        assert!(text.contains("1件のデータセットがあります"), "{text}");
        // Facets combine (AND); the chosen one can be removed.
        let both = c
            .get("/dataset?groups=bousai&organization=tsu-city&sort=name")
            .await;
        let text = both.text();
        assert!(text.contains("href=\"/dataset/tsu-aed\""), "{text}");
        assert!(!text.contains("href=\"/dataset/fukushima-kinkyu-hinanbasho\""));
        assert!(text.contains("この条件を外す"));
        assert!(
            text.contains("value=\"bousai\" checked"),
            "the facet is ticked"
        );

        // A standard dataset: DCAT alternates in the head, the API, NGSI.
        let aed = c.get("/dataset/tsu-aed").await;
        assert_eq!(aed.status, StatusCode::OK);
        let text = aed.text();
        for (ty, ext) in [
            ("text/turtle", "ttl"),
            ("application/rdf+xml", "rdf"),
            ("application/ld+json", "jsonld"),
            ("text/n3", "n3"),
        ] {
            let link =
                format!("<link rel=\"alternate\" type=\"{ty}\" href=\"/dataset/tsu-aed.{ext}\"");
            let head = &text[..text.find("</head>").unwrap()];
            assert!(head.contains(&link), "{link} in {head}");
        }
        assert!(text.contains("/api/3/action/package_show?id=tsu-aed"));
        assert!(text.contains("/v2/entities?type=AED"), "the NGSI note");
        assert!(
            text.contains("クリエイティブ・コモンズ 表示 4.0"),
            "licence title"
        );
        assert!(
            text.contains("href=\"/dataset?tags=AED\""),
            "tags link to the search"
        );
        let ttl = c.get("/dataset/tsu-aed.ttl").await;
        assert_eq!(ttl.status, StatusCode::OK);
        assert!(
            ttl.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/turtle")
        );
        assert_eq!(
            c.get("/dataset/no-such-dataset.ttl").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.get("/dataset/no-such-dataset").await.status,
            StatusCode::NOT_FOUND
        );

        // The CP932 file, decoded in an accessible table.
        let rid = resource_id(&t, "tsu-koen-ichiran", 0);
        let preview = c
            .get(&format!("/dataset/tsu-koen-ichiran/resource/{rid}"))
            .await;
        assert_eq!(preview.status, StatusCode::OK);
        let text = preview.text();
        assert!(text.contains("岩田川河畔公園"), "{text}");
        assert!(text.contains("<th scope=\"col\">名称</th>"));
        assert!(text.contains("role=\"region\" tabindex=\"0\" aria-label="));
        assert!(text.contains("<caption>"));
        assert!(text.contains("全10行を表示しています"), "{text}");
        assert!(text.contains(&format!(
            "href=\"/dataset/{}/resource/{rid}/download/koen-ichiran.csv\"",
            t.app.opendata.catalogue.get("tsu-koen-ichiran").unwrap().dataset.id
        )));
        // A link resource: metadata and the link, no preview.
        let pdf = resource_id(&t, "fukushima-kinkyu-hinanbasho", 1);
        let text = c
            .get(&format!(
                "/dataset/fukushima-kinkyu-hinanbasho/resource/{pdf}"
            ))
            .await
            .text();
        assert!(
            text.contains(
                "href=\"https://www.pref.fukushima.example.jp/bousai/hinanbasho-map.pdf\""
            )
        );
        assert!(!text.contains("<table"));

        // The templates, and their CSV header line.
        let templates = c.get("/dataset/templates").await;
        assert_eq!(templates.status, StatusCode::OK);
        let text = templates.text();
        assert!(text.contains("AED設置箇所一覧") && text.contains("installationLocation"));
        let csv = c.get("/dataset/templates/aed.csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
        assert!(csv.text().contains("全国地方公共団体コード,ID,"));
        assert_eq!(
            c.get("/dataset/templates/nope.csv").await.status,
            StatusCode::NOT_FOUND
        );

        // Publishers and groups.
        let orgs = c.get("/organization").await.text();
        assert!(
            orgs.contains("href=\"/organization/tsu-city\"") && orgs.contains("津市"),
            "{orgs}"
        );
        let tsu = c.get("/organization/tsu-city").await.text();
        assert!(tsu.contains("href=\"/dataset/tsu-aed\""), "{tsu}");
        assert!(!tsu.contains("href=\"/dataset/toyama-kanko-irikomi\""));
        let groups = c.get("/group").await.text();
        assert!(groups.contains("href=\"/group/kanko\""));
        let kanko = c.get("/group/kanko").await.text();
        assert!(
            kanko.contains("href=\"/dataset/toyama-kanko-irikomi\""),
            "{kanko}"
        );
        assert_eq!(
            c.get("/organization/nope").await.status,
            StatusCode::NOT_FOUND
        );

        // English.
        let en = c.get("/dataset?lang=en").await.text();
        assert!(
            en.contains("<html lang=\"en\">") && en.contains("Find open data"),
            "{en}"
        );

        // Tsu's private dataset: not for the public.
        assert_eq!(
            c.get("/dataset/tsu-gomi-sokuho").await.status,
            StatusCode::NOT_FOUND
        );
        let found = c.get(&format!("/dataset?q={}", enc("ごみ"))).await.text();
        assert!(!found.contains("tsu-gomi-sokuho"));
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edited_search_urls_never_fail() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = t.client();
        // Field syntax must be right (plain words never fail: a stray quote is ignored).
        let bad = c.get("/dataset?q=title:%22%E5%85%AC%E5%9C%92").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend:?}");
        let text = bad.text();
        assert!(text.contains("キーワードを読み取れませんでした"), "{text}");
        assert!(text.contains("<title>エラー:"), "the title says so");
        let stray = c.get("/dataset?q=%22%E5%85%AC%E5%9C%92").await;
        assert!(
            matches!(stray.status, StatusCode::OK | StatusCode::BAD_REQUEST),
            "{}",
            stray.status
        );
        for q in [
            "q=(((",
            "q=title:",
            "q=AND",
            "q=*:*",
            "q=%5Ba%20TO",
            "q=%FF%FE",
            "q=a%5C",
            "sort=xyz",
            "sort=",
            "page=-1",
            "page=abc",
            "page=99999999999999999999999",
            "page=400",
            "tags=%22",
            "tags=a%5C%22b",
            "organization=%00",
            "res_format=&license_id=",
            "q=%E5%85%AC%E5%9C%92&tags=%22&tags=%22%22&groups=x)",
        ] {
            let res = c.get(&format!("/dataset?{q}")).await;
            assert!(
                res.status.is_success() || res.status == StatusCode::BAD_REQUEST,
                "{q}: {} {}",
                res.status,
                res.text()
            );
        }
        let long = "公".repeat(5000);
        assert!(
            c.get(&format!("/dataset?q={}", enc(&long)))
                .await
                .status
                .as_u16()
                < 500
        );
        for path in [
            "/dataset/x/resource/y",
            "/dataset/tsu-aed/resource/nope",
            "/organization/%22",
            "/group/nope",
            "/dataset/..%2F",
        ] {
            let res = c.get(path).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        }
        assert!(
            c.get("/organization/tsu-city?page=zz")
                .await
                .status
                .is_success()
        );
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_create_edit_fill_and_delete_datasets() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = staff(&t, TSU_ADMIN).await;
        let list = c.get("/staff/opendata").await;
        assert_eq!(list.status, StatusCode::OK, "{backend:?}");
        let text = list.text();
        assert!(
            text.contains("tsu-aed") && text.contains("tsu-gomi-sokuho"),
            "private ones too"
        );
        assert!(!text.contains("toyama-kanko-irikomi"));

        // An invalid name: the error summary, in Japanese.
        let form = c.get("/staff/opendata/new").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let owner = first_option(&form.text(), "owner_org");
        let fields = |name: &'static str, title: &'static str, template: &'static str| {
            vec![
                ("name", name),
                ("title", title),
                ("notes", "一行目\n<script>alert(1)</script>"),
                ("license_id", "pdl-1.0"),
                ("tags", "テスト、公園"),
                ("groups", "kanko"),
                ("standard_template", template),
            ]
        };
        let mut f = fields("Bad Name!", "", "");
        f.push(("_csrf", &csrf));
        f.push(("owner_org", &owner));
        let res = c.post_form("/staff/opendata/new", &f).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = res.text();
        assert!(text.contains("class=\"error-summary\""), "{text}");
        assert!(text.contains("半角の英小文字"), "{text}");
        assert!(text.contains("タイトルを入力してください"));
        assert!(text.contains("href=\"#name\"") && text.contains("href=\"#title\""));

        // A valid one, then its resource page.
        let mut f = fields("tsu-test-data", "テスト用データ", "");
        f.push(("_csrf", &csrf));
        f.push(("owner_org", &owner));
        let res = c.post_form("/staff/opendata/new", &f).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let next = res.location();
        assert!(next.ends_with("/resources/new?created=1"), "{next}");
        let id = t
            .app
            .opendata
            .catalogue
            .get("tsu-test-data")
            .expect("created")
            .dataset
            .id
            .clone();
        assert_eq!(
            next,
            format!("/staff/opendata/{id}/resources/new?created=1")
        );
        let page = c.get("/dataset/tsu-test-data").await.text();
        assert!(page.contains("テスト用データ") && page.contains("公共データ利用規約"));
        assert!(
            page.contains("&#60;script&#62;") && !page.contains("<script>alert"),
            "notes are text"
        );

        // The same name again.
        let res = c.post_form("/staff/opendata/new", &f).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text().contains("この名前はすでに使われています"),
            "{}",
            res.text()
        );

        // Edit.
        let edit = c.get(&format!("/staff/opendata/{id}/edit")).await;
        assert_eq!(edit.status, StatusCode::OK);
        assert!(edit.text().contains("value=\"kanko\" checked"));
        let mut f = fields("tsu-test-data", "テスト用データ（改訂）", "");
        f.push(("_csrf", &csrf));
        f.push(("owner_org", &owner));
        f.push(("private", "1"));
        let res = c.post_form(&format!("/staff/opendata/{id}/edit"), &f).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let page = c.get("/dataset/tsu-test-data").await.text();
        assert!(
            page.contains("テスト用データ（改訂）") && page.contains("非公開"),
            "{page}"
        );
        assert_eq!(
            t.client().get("/dataset/tsu-test-data").await.status,
            StatusCode::NOT_FOUND
        );

        // A file, then a link.
        let res = c
            .post_multipart(
                &format!("/staff/opendata/{id}/resources/new"),
                &[
                    ("_csrf", &csrf),
                    ("name", "テスト表"),
                    ("description", "試しの表です。"),
                ],
                &[("file", "test.csv", "名称,値\r\n公園A,1\r\n".as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert!(res.location().starts_with("/staff/opendata?done=resource"));
        let res = c
            .post_multipart(
                &format!("/staff/opendata/{id}/resources/new"),
                &[
                    ("_csrf", &csrf),
                    ("url", "https://www.city.tsu.example.jp/test.pdf"),
                ],
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let page = c.get("/dataset/tsu-test-data").await.text();
        assert!(
            page.contains("テスト表")
                && page.contains("href=\"https://www.city.tsu.example.jp/test.pdf\""),
            "{page}"
        );
        // Neither a file nor a link.
        let res = c
            .post_multipart(
                &format!("/staff/opendata/{id}/resources/new"),
                &[("_csrf", &csrf)],
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("ファイルを選ぶか"));

        // A standard dataset refuses a CSV with errors, naming rows and columns.
        let mut f = fields("tsu-aed-test", "AEDテスト", "aed");
        f.push(("_csrf", &csrf));
        f.push(("owner_org", &owner));
        let res = c.post_form("/staff/opendata/new", &f).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let aed_id = t
            .app
            .opendata
            .catalogue
            .get("tsu-aed-test")
            .unwrap()
            .dataset
            .id
            .clone();
        let bad = "全国地方公共団体コード,ID,名称,所在地_連結表記,設置位置,緯度,経度\r\n\
                   242012,1,津市テスト会館,三重県津市丸之内1番地,玄関,95.5,136.5\r\n\
                   242012,2,,三重県津市丸之内2番地,ロビー,34.7,136.5\r\n";
        let res = c
            .post_multipart(
                &format!("/staff/opendata/{aed_id}/resources/new"),
                &[("_csrf", &csrf)],
                &[("file", "aed.csv", bad.as_bytes())],
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        let text = res.text();
        let summary = &text[text.find("error-summary").unwrap()..];
        assert!(
            summary.contains("2行目") && summary.contains("緯度"),
            "{summary}"
        );
        assert!(
            summary.contains("3行目") && summary.contains("名称"),
            "{summary}"
        );
        assert!(text.contains("ファイルに2件の誤りがあります"), "{text}");
        assert!(
            t.app
                .opendata
                .catalogue
                .get("tsu-aed-test")
                .unwrap()
                .dataset
                .resources
                .is_empty(),
            "nothing is added"
        );

        // Delete (after confirming), then restore.
        let confirm = c.get(&format!("/staff/opendata/{id}/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.text().contains("削除しますか"));
        let res = c
            .post_form(&format!("/staff/opendata/{id}/delete"), &[("_csrf", &csrf)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            c.get("/dataset/tsu-test-data").await.status,
            StatusCode::NOT_FOUND
        );
        let list = c.get("/staff/opendata").await.text();
        assert!(
            list.contains("削除済み") && list.contains(&format!("/staff/opendata/{id}/restore"))
        );
        let res = c
            .post_form(
                &format!("/staff/opendata/{id}/restore"),
                &[("_csrf", &csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(c.get("/dataset/tsu-test-data").await.status, StatusCode::OK);

        // English error messages.
        let mut f = fields("x", "t", "");
        f.push(("_csrf", &csrf));
        f.push(("owner_org", &owner));
        let res = c.post_form("/staff/opendata/new?lang=en", &f).await;
        assert!(
            res.text().contains("at least 2 characters"),
            "{}",
            res.text()
        );
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_local_governments_and_signed_out_visitors_are_kept_out() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let tsu_aed = t
            .app
            .opendata
            .catalogue
            .get("tsu-aed")
            .unwrap()
            .dataset
            .id
            .clone();

        let mut anon = t.client();
        for path in [
            "/staff/opendata",
            "/staff/opendata/new",
            "/staff/opendata/tokens",
            "/staff/opendata/paper-counts",
        ] {
            let res = anon.get(path).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
            assert!(
                res.location().starts_with("/staff/signin?next="),
                "{path}: {}",
                res.location()
            );
        }
        let res = anon
            .post_form(&format!("/staff/opendata/{tsu_aed}/delete"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(t.app.opendata.catalogue.get("tsu-aed").is_some());

        // Staff without the administrator's or the DX office's role.
        let mut section = staff(&t, "staff@city.tsu.example.jp").await;
        assert_eq!(
            section.get("/staff/opendata").await.status,
            StatusCode::FORBIDDEN
        );

        // Toyama's administrator: not Tsu's datasets, nor its private one.
        let mut toyama = staff(&t, TOYAMA_ADMIN).await;
        assert_eq!(toyama.get("/staff/opendata").await.status, StatusCode::OK);
        let csrf = toyama.get("/staff/opendata/new").await.csrf();
        let edit = toyama.get(&format!("/staff/opendata/{tsu_aed}/edit")).await;
        assert!(
            matches!(edit.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{}",
            edit.status
        );
        let res = toyama
            .post_form(
                &format!("/staff/opendata/{tsu_aed}/edit"),
                &[
                    ("_csrf", &csrf),
                    ("name", "tsu-aed"),
                    ("title", "乗っ取り"),
                    ("license_id", "cc-by-4.0"),
                ],
            )
            .await;
        assert!(
            matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{}",
            res.status
        );
        let res = toyama
            .post_form(
                &format!("/staff/opendata/{tsu_aed}/delete"),
                &[("_csrf", &csrf)],
            )
            .await;
        assert!(
            matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{}",
            res.status
        );
        let res = toyama
            .post_multipart(
                &format!("/staff/opendata/{tsu_aed}/resources/new"),
                &[("_csrf", &csrf), ("url", "https://evil.example.jp/x.csv")],
                &[],
            )
            .await;
        assert!(
            matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{}",
            res.status
        );
        let aed = t.app.opendata.catalogue.get("tsu-aed").unwrap();
        assert_eq!(aed.dataset.title, "津市 AED設置箇所一覧");
        assert!(
            aed.dataset
                .resources
                .iter()
                .all(|r| !r.url.contains("evil"))
        );
        assert_eq!(
            toyama.get("/dataset/tsu-gomi-sokuho").await.status,
            StatusCode::NOT_FOUND
        );
        let rid = resource_id(&t, "tsu-gomi-sokuho", 0);
        assert_eq!(
            toyama
                .get(&format!("/dataset/tsu-gomi-sokuho/resource/{rid}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let found = toyama
            .get(&format!("/dataset?q={}", enc("ごみ")))
            .await
            .text();
        assert!(!found.contains("tsu-gomi-sokuho"));

        // Tsu's own staff see it, in the search too.
        let mut tsu = staff(&t, TSU_ADMIN).await;
        let page = tsu.get("/dataset/tsu-gomi-sokuho").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("非公開"));
        let found = tsu.get(&format!("/dataset?q={}", enc("ごみ"))).await.text();
        assert!(
            found.contains("href=\"/dataset/tsu-gomi-sokuho\""),
            "{found}"
        );
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_the_page_writes_through_the_api() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = staff(&t, TSU_ADMIN).await;
        let page = c.get("/staff/opendata/tokens").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        let res = c
            .post_form(
                "/staff/opendata/tokens",
                &[("_csrf", &csrf), ("action", "create"), ("name", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("用途を入力してください"));
        let res = c
            .post_form(
                "/staff/opendata/tokens",
                &[
                    ("_csrf", &csrf),
                    ("action", "create"),
                    ("name", "夜間の自動更新"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let text = res.text();
        assert!(text.contains("readonly"));
        let token = value_of(&text, "new-token");
        assert!(token.starts_with("mdg_"), "{token}");
        // Shown once only.
        assert!(
            !c.get("/staff/opendata/tokens")
                .await
                .text()
                .contains(&token)
        );

        let mut api = t.client();
        let body = json!({"name": "token-made", "title": "トークンで作成", "notes": "APIから"});
        let res = api
            .request(
                Method::POST,
                "/api/3/action/package_create",
                Some("application/json"),
                serde_json::to_vec(&body).unwrap(),
                &[("authorization", token.as_str())],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["success"], true);
        assert_eq!(res.json()["result"]["organization"]["name"], "tsu-city");
        assert!(c.get("/staff/opendata").await.text().contains("token-made"));

        // Revoked, it no longer writes.
        let list = c.get("/staff/opendata/tokens").await.text();
        let start = list.find("name=\"action\" value=\"revoke\"").unwrap();
        let rest = &list[start..];
        let at = rest.find("name=\"id\" value=\"").unwrap() + "name=\"id\" value=\"".len();
        let token_id = rest[at..at + rest[at..].find('"').unwrap()].to_string();
        let res = c
            .post_form(
                "/staff/opendata/tokens",
                &[("_csrf", &csrf), ("action", "revoke"), ("id", &token_id)],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let body = json!({"name": "token-made-2"});
        let res = api
            .request(
                Method::POST,
                "/api/3/action/package_create",
                Some("application/json"),
                serde_json::to_vec(&body).unwrap(),
                &[("authorization", token.as_str())],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_counts_reach_the_monthly_dataset() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = staff(&t, TSU_ADMIN).await;
        let page = c.get("/staff/opendata/paper-counts").await;
        assert_eq!(page.status, StatusCode::OK, "{backend:?}");
        let csrf = page.csrf();
        assert!(
            page.text().contains("value=\"tsu-bulky-waste\""),
            "{}",
            page.text()
        );

        let res = c
            .post_form(
                "/staff/opendata/paper-counts",
                &[
                    ("_csrf", &csrf),
                    ("procedure", "tsu-bulky-waste"),
                    ("month", "2025-13"),
                    ("count", "abc"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = res.text();
        assert!(
            text.contains("2025-04 のように") && text.contains("0以上の整数"),
            "{text}"
        );

        for count in ["7", "１２件"] {
            let res = c
                .post_form(
                    "/staff/opendata/paper-counts",
                    &[
                        ("_csrf", &csrf),
                        ("procedure", "tsu-bulky-waste"),
                        ("month", "2025年4月"),
                        ("count", count),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        }
        let page = c
            .get("/staff/opendata/paper-counts?done=saved")
            .await
            .text();
        assert!(
            page.contains("件数を記録しました") && page.contains("2025-04"),
            "{page}"
        );

        let d =
            opendata::store::dataset_by_publisher_key(&t.app.platform.db, "applications:242012")
                .await
                .unwrap()
                .expect("the monthly dataset");
        let r = &d.resources[0];
        let csv = c
            .get(&format!("/dataset/{}/resource/{}/download", d.id, r.id))
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        let text = csv.text();
        let line = text
            .lines()
            .find(|l| l.contains(",2025-04,tsu-bulky-waste,"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.ends_with(",12"),
            "the second count replaced the first: {line}"
        );
        t.finish().await;
    }
}
