//! The NGSI-v2 API's tests: entities from tables, every route, filters,
//! tenancy, the query language and regular expressions, and odd input that
//! must never fail hard.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request as HttpRequest, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::order::OrderBy;
use super::pattern;
use super::query::parse_q;
use super::request::parse_service_path;
use super::*;
use crate::entities::{DEFAULT_ID_PREFIX, Entity, EntitySet, entities_from_table};
use crate::standard::{template, validate};

const AED_CSV: &str = "全国地方公共団体コード,ID,地方公共団体名,名称,所在地_連結表記,緯度,経度,設置位置,利用可能曜日,開始時間,終了時間,小児対応設備の有無,URL\n\
        242012,A-001,三重県津市,津市役所,三重県津市西丸之内23-1,34.7186,136.5056,1階ロビー,\"月,火,水,木,金\",08:30,17:15,有,https://www.city.tsu.lg.jp/\n\
        242012,A-002,三重県津市,津市図書館,三重県津市西丸之内37-8,34.7200,136.5030,2階カウンター,月～土,09:00,19:00,無,\n\
        242012,,三重県津市,津駅,三重県津市羽所町,34.7343,136.5107,改札横,毎日,05:00,24:00,有,\n\
        242012,A 4/あ,三重県津市,久居駅,三重県津市久居新町,34.6780,136.4680,駅前,,,,,\n";

const FACILITY_CSV: &str = "全国地方公共団体コード,ID,名称,所在地_連結表記,緯度,経度,説明\n\
        242012,F-1,津市役所,三重県津市西丸之内23-1,34.7186,136.5056,本庁舎\n\
        242012,F-2,津市図書館,三重県津市西丸之内37-8,,,\n";

const CHILDCARE_CSV: &str = "全国地方公共団体コード,ID,名称,種別,所在地_連結表記,収容定員,認可等年月日\n\
        242012,C-1,ひかり保育園,認可私立保育所,三重県津市1,90,2015-04-01\n\
        242012,C-2,みどり幼稚園,公立幼稚園,三重県津市2,120,1980-04-01\n";

fn entities(key: &str, csv: &str) -> Vec<Entity> {
    let table =
        validate(template(key).unwrap(), csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    entities_from_table(&table, DEFAULT_ID_PREFIX)
}

fn sets() -> Vec<EntitySet> {
    let mut other = entities("public_facility", FACILITY_CSV);
    other.truncate(1);
    vec![
        EntitySet {
            tenant: "Tsu".into(),
            service_path: "/opendata/aed".into(),
            entities: entities("aed", AED_CSV),
        },
        EntitySet {
            tenant: "tsu".into(),
            service_path: "/opendata/facility/".into(),
            entities: entities("public_facility", FACILITY_CSV),
        },
        EntitySet {
            tenant: "tsu".into(),
            service_path: "/childcare".into(),
            entities: entities("childcare_facility", CHILDCARE_CSV),
        },
        EntitySet {
            tenant: "other".into(),
            service_path: String::new(),
            entities: other,
        },
    ]
}

#[derive(Clone)]
struct Fixed(Arc<Vec<EntitySet>>);

impl Provider for Fixed {
    fn entity_sets(&self) -> impl Future<Output = Arc<Vec<EntitySet>>> + Send {
        let sets = self.0.clone();
        async move { sets }
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

async fn call(method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let app: Router = router(Fixed(Arc::new(sets())));
    let mut request = HttpRequest::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

async fn get(uri: &str) -> Reply {
    call("GET", uri, &[]).await
}

fn ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap_or(""))
        .collect()
}

fn bad(reply: &Reply, description: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"error": "BadRequest", "description": description})
    );
}

#[test]
fn entities_from_a_table() {
    let aed = entities("aed", AED_CSV);
    assert_eq!(aed.len(), 4);
    assert_eq!(aed[0].id, "urn:ngsi-ld:AED:242012:A-001");
    assert_eq!(aed[0].entity_type, "AED");
    // No ID: the row number; characters Orion refuses become `_`.
    assert_eq!(aed[2].id, "urn:ngsi-ld:AED:242012:3");
    assert_eq!(aed[3].id, "urn:ngsi-ld:AED:242012:A_4__");
    assert_eq!(aed[0].attr("latitude"), Some(("Number", &json!(34.7186))));
    assert_eq!(aed[0].attr("name"), Some(("Text", &json!("津市役所"))));
    assert_eq!(
        aed[0].attr("url"),
        Some(("URL", &json!("https://www.city.tsu.lg.jp/")))
    );
    assert_eq!(
        aed[0].attr("location"),
        Some((
            "geo:json",
            &json!({"type": "Point", "coordinates": [136.5056, 34.7186]})
        ))
    );
    assert_eq!(aed[1].attr("url"), None, "empty cells are left out");
    assert_eq!(aed[3].attr("availableDays"), None);
    let facility = entities("public_facility", FACILITY_CSV);
    assert_eq!(facility[1].attr("location"), None);
    let childcare = entities("childcare_facility", CHILDCARE_CSV);
    assert_eq!(childcare[0].attr("capacity"), Some(("Number", &json!(90))));
    assert_eq!(
        childcare[0].attr("authorizationDate"),
        Some(("DateTime", &json!("2015-04-01T00:00:00.000Z")))
    );
    // Repeated ids get a suffix; ids stay within 256 characters.
    let csv = format!(
        "全国地方公共団体コード,ID,名称,所在地_連結表記,設置位置\n242012,x,a,b,c\n242012,x ,a,b,c\n242012,{long},a,b,c\n242012,{long}!,a,b,c\n",
        long = "y".repeat(300)
    );
    let table = crate::standard::Table {
        template: template("aed").unwrap(),
        rows: csv
            .lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                let mut row = vec![String::new(); template("aed").unwrap().columns.len()];
                row[0] = cells[0].into();
                row[1] = cells[1].into();
                row
            })
            .collect(),
    };
    let list = entities_from_table(&table, "");
    assert_eq!(list[0].id, "AED:242012:x");
    assert_eq!(list[1].id, "AED:242012:x-2");
    assert_eq!(list[2].id.chars().count(), 256);
    assert_eq!(list[3].id.chars().count(), 256);
    assert!(list[3].id.ends_with("-2"));
    let unique: HashSet<&str> = list.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unique.len(), 4);
    assert_eq!(
        entities_from_table(&table, "aed_tsu")[0].id,
        "aed_tsu:AED:242012:x"
    );
    assert_eq!(
        entities_from_table(&table, "urn:x:")[0].id,
        "urn:x:AED:242012:x"
    );
}

#[test]
fn regex_subset() {
    let m = |p: &str, t: &str| pattern::Regex::new(p).unwrap().is_match(t);
    assert!(m("^urn:ngsi-ld:AED:.*", "urn:ngsi-ld:AED:242012:1"));
    assert!(!m("^AED", "urn:ngsi-ld:AED"));
    assert!(m("AED", "urn:ngsi-ld:AED:1"));
    assert!(m("A-00[12]$", "x:A-002"));
    assert!(!m("A-00[12]$", "x:A-003"));
    assert!(m("^[^:]+:[a-z-]+$", "urn:ngsi-ld"));
    assert!(m("^(Public|Childcare)Facility$", "ChildcareFacility"));
    assert!(!m("^(Public|Childcare)Facility$", "AED"));
    assert!(m("^\\d{6}$", "242012"));
    assert!(!m("^\\d{6}$", "24201"));
    assert!(m("^a{2,3}$", "aaa"));
    assert!(!m("^a{2,3}$", "aaaa"));
    assert!(m("^ab?c+$", "acc"));
    assert!(m("x{", "ax{"));
    assert!(m("図書館", "津市図書館"));
    assert!(m("^.*$", ""));
    assert!(m("", "anything"));
    assert!(m("a\\.b", "a.b"));
    assert!(!m("a\\.b", "axb"));
    assert!(m("[\\d-]+", "12-3"));
    for bad in [
        "(", ")", "[a-", "*a", "a{5,2}", "\\b", "(?=a)", "a{1001}", "[z-a]",
    ] {
        assert!(pattern::Regex::new(bad).is_err(), "{bad}");
    }
    assert!(pattern::Regex::new(&"(".repeat(100)).is_err());
    assert!(pattern::Regex::new(&"a".repeat(2000)).is_err());
    assert!(pattern::Regex::new("(a{1000}){1000}").is_err());
    // Patterns that make backtracking engines explode stay fast.
    let started = Instant::now();
    let evil = pattern::Regex::new("^(a*)*(a|aa)*b$").unwrap();
    assert!(!evil.is_match(&"a".repeat(5000)));
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn q_language() {
    let aed = entities("aed", AED_CSV);
    let childcare = entities("childcare_facility", CHILDCARE_CSV);
    let matching = |list: &[Entity], q: &str| -> Vec<String> {
        let statements = parse_q(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        list.iter()
            .filter(|e| statements.iter().all(|s| s.matches(e)))
            .map(|e| e.id.rsplit(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(matching(&aed, "pediatricEquipment==有"), ["A-001", "3"]);
    assert_eq!(matching(&aed, "pediatricEquipment!=有"), ["A-002"]);
    assert_eq!(matching(&aed, "latitude>34.72"), ["3"]);
    assert_eq!(matching(&aed, "latitude>=34.72"), ["A-002", "3"]);
    assert_eq!(matching(&aed, "latitude<34.7"), ["A_4__"]);
    assert_eq!(matching(&aed, "latitude==34.7..34.72"), ["A-001", "A-002"]);
    assert_eq!(matching(&aed, "latitude!=34.7..34.72"), ["3", "A_4__"]);
    assert_eq!(
        matching(&aed, "latitude==34.7186,34.678"),
        ["A-001", "A_4__"]
    );
    assert_eq!(matching(&aed, "name~=図書|駅$"), ["A-002", "3", "A_4__"]);
    assert_eq!(matching(&aed, "url"), ["A-001"]);
    assert_eq!(matching(&aed, "!url;pediatricEquipment"), ["A-002", "3"]);
    assert_eq!(matching(&aed, "startTime<09:00"), ["A-001", "3"]);
    assert_eq!(matching(&aed, "availableDays=='月,火,水,木,金'"), ["A-001"]);
    assert_eq!(
        matching(&aed, "identifier=='A-001',A-002"),
        ["A-001", "A-002"]
    );
    assert_eq!(
        matching(&aed, "location.type==Point;latitude<34.71"),
        ["A_4__"]
    );
    // Numbers as strings: 1 matches "1" (unquoted), '90' does not match 90.
    assert_eq!(matching(&childcare, "capacity==90"), ["C-1"]);
    assert_eq!(matching(&childcare, "capacity=='90'"), Vec::<String>::new());
    assert_eq!(matching(&childcare, "capacity>100"), ["C-2"]);
    assert_eq!(
        matching(&childcare, "authorizationDate>2000-01-01"),
        ["C-1"]
    );
    assert_eq!(
        matching(
            &childcare,
            "authorizationDate==1970-01-01..1990-12-31T23:59:59Z"
        ),
        ["C-2"]
    );
    assert_eq!(
        matching(&childcare, "facilityType=='認可私立保育所'"),
        ["C-1"]
    );
    for bad in [
        "a==", "==1", "a>1,2", "a=='x", "a~=(", "a>1..2", "a..b", "a==1..",
    ] {
        assert!(parse_q(bad).is_err(), "{bad}");
    }
    assert!(parse_q(";;").unwrap().is_empty());
}

#[tokio::test]
async fn version_and_entry_points() {
    let reply = get("/version").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["orion"]["version"], ORION_COMPAT_VERSION);
    assert!(
        reply.body["orion"]["uptime"]
            .as_str()
            .unwrap()
            .ends_with(" s")
    );
    assert_eq!(reply.body["orion"]["compiled_by"], "madoguchi");
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    for uri in ["/v2", "/v2/"] {
        let reply = get(uri).await;
        assert_eq!(reply.body["entities_url"], "/v2/entities");
        assert_eq!(reply.body["registrations_url"], "/v2/registrations");
    }
    let reply = get("/version/").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn listing_and_paging() {
    let reply = get("/v2/entities?options=count").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["fiware-total-count"], "9");
    assert_eq!(ids(&reply.body).len(), 9);
    let first = &reply.body[0];
    assert_eq!(first["id"], "urn:ngsi-ld:AED:242012:A-001");
    assert_eq!(first["type"], "AED");
    assert_eq!(
        first["name"],
        json!({"type": "Text", "value": "津市役所", "metadata": {}})
    );
    assert!(
        reply
            .text
            .starts_with("[{\"id\":\"urn:ngsi-ld:AED:242012:A-001\",\"type\":\"AED\",")
    );
    assert!(reply.headers.get("fiware-total-count").is_some());
    assert!(
        get("/v2/entities")
            .await
            .headers
            .get("fiware-total-count")
            .is_none()
    );

    let page = get("/v2/entities/?limit=2&offset=1&options=count").await;
    assert_eq!(page.headers["fiware-total-count"], "9");
    assert_eq!(
        ids(&page.body),
        ["urn:ngsi-ld:AED:242012:A-002", "urn:ngsi-ld:AED:242012:3"]
    );
    assert_eq!(ids(&get("/v2/entities?offset=100").await.body).len(), 0);

    bad(
        &get("/v2/entities?limit=0").await,
        "Bad pagination limit: /0/ [a value of ZERO is unacceptable]",
    );
    bad(
        &get("/v2/entities?limit=abc").await,
        "Bad pagination limit: /abc/ [must be a decimal number]",
    );
    bad(
        &get("/v2/entities?limit=-1").await,
        "Bad pagination limit: /-1/ [must be a decimal number]",
    );
    bad(
        &get("/v2/entities?limit=1001").await,
        "Bad pagination limit: /1001/ [max: 1000]",
    );
    bad(
        &get("/v2/entities?limit=99999999999999999999999").await,
        "Bad pagination limit: /99999999999999999999999/ [max: 1000]",
    );
    bad(
        &get("/v2/entities?offset=x").await,
        "Bad pagination offset: /x/ [must be a decimal number]",
    );
    bad(
        &get("/v2/entities?type=").await,
        "Empty right-hand-side for URI param /type/",
    );
    bad(
        &get("/v2/entities?options=bogus").await,
        "Invalid value for URI param /options/",
    );
    assert_eq!(get("/v2/entities?limit=1000").await.status, StatusCode::OK);
}

#[tokio::test]
async fn filters_and_options() {
    let reply = get("/v2/entities?type=PublicFacility,ChildcareFacility&limit=100").await;
    assert_eq!(ids(&reply.body).len(), 5);
    let reply = get("/v2/entities?id=urn:ngsi-ld:AED:242012:A-002,urn:ngsi-ld:AED:242012:3").await;
    assert_eq!(ids(&reply.body).len(), 2);
    let reply = get("/v2/entities?idPattern=%5Eurn:ngsi-ld:AED:242012:A-00%5B12%5D$").await;
    assert_eq!(
        ids(&reply.body),
        [
            "urn:ngsi-ld:AED:242012:A-001",
            "urn:ngsi-ld:AED:242012:A-002"
        ]
    );
    let reply = get("/v2/entities?typePattern=Facility$&options=count").await;
    assert_eq!(reply.headers["fiware-total-count"], "5");
    let reply = get("/v2/entities?q=pediatricEquipment==%E6%9C%89;latitude%3E34.72").await;
    assert_eq!(ids(&reply.body), ["urn:ngsi-ld:AED:242012:3"]);
    let reply = get("/v2/entities?q=capacity%3E=100&attrs=name,capacity&options=keyValues").await;
    assert_eq!(
        reply.body,
        json!([{"id": "urn:ngsi-ld:ChildcareFacility:242012:C-2", "type": "ChildcareFacility", "name": "みどり幼稚園", "capacity": 120}])
    );
    let reply =
        get("/v2/entities?type=AED&attrs=identifier,nope,name&options=values&limit=2").await;
    assert_eq!(
        reply.body,
        json!([["A-001", null, "津市役所"], ["A-002", null, "津市図書館"]])
    );
    let reply = get("/v2/entities?type=AED&attrs=pediatricEquipment&options=unique").await;
    assert_eq!(reply.body, json!([["有"], ["無"], [null]]));
    let reply = get("/v2/entities?type=AED&attrs=*&options=keyValues&limit=1").await;
    assert_eq!(reply.body[0]["installationLocation"], "1階ロビー");

    let reply = get("/v2/entities?type=AED&orderBy=!latitude").await;
    assert_eq!(
        ids(&reply.body),
        [
            "urn:ngsi-ld:AED:242012:3",
            "urn:ngsi-ld:AED:242012:A-002",
            "urn:ngsi-ld:AED:242012:A-001",
            "urn:ngsi-ld:AED:242012:A_4__"
        ]
    );
    let reply = get("/v2/entities?orderBy=url,!id&type=AED").await;
    assert_eq!(ids(&reply.body)[3], "urn:ngsi-ld:AED:242012:A-001");
    assert_eq!(ids(&reply.body)[0], "urn:ngsi-ld:AED:242012:A_4__");

    // Nearest first within 2 km of 津市役所.
    let reply = get("/v2/entities?georel=near;maxDistance:2000&geometry=point&coords=34.7186,136.5056&options=count").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        ids(&reply.body),
        [
            "urn:ngsi-ld:AED:242012:A-001",
            "urn:ngsi-ld:PublicFacility:242012:F-1",
            "urn:ngsi-ld:PublicFacility:242012:F-1",
            "urn:ngsi-ld:AED:242012:A-002",
            "urn:ngsi-ld:AED:242012:3"
        ]
    );
    let reply =
        get("/v2/entities?georel=coveredBy&geometry=box&coords=34.70,136.50;34.73,136.51").await;
    assert_eq!(ids(&reply.body).len(), 4);
    bad(
        &get("/v2/entities?georel=near&geometry=point&coords=34,136").await,
        "Invalid query: near needs a point and maxDistance or minDistance",
    );

    bad(
        &get("/v2/entities?q=a%3E1,2").await,
        "a list is only allowed with == and != in /a>1,2/",
    );
    bad(
        &get("/v2/entities?q=a==").await,
        "empty right-hand-side in q-item",
    );
    bad(
        &get("/v2/entities?q=%3E3").await,
        "empty left-hand-side in q-item",
    );
    bad(
        &get("/v2/entities?q=a%3Cb%3E==3").await,
        "invalid character found in URI param /q/",
    );
    bad(
        &get("/v2/entities?coords=1,2").await,
        "Invalid query: URI param /coords/ used without /geometry/",
    );
    bad(
        &get("/v2/entities?id=a&idPattern=b").await,
        "Incompatible parameters: id, IdPattern",
    );
    bad(
        &get("/v2/entities?type=a&typePattern=b").await,
        "Incompatible parameters: type, typePattern",
    );
    assert_eq!(
        get("/v2/entities?idPattern=(").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn forbidden_characters() {
    for uri in [
        "/v2/entities?type=%3Cscript%3E",
        "/v2/entities?attrs=name;x",
        "/v2/entities?orderBy=(name)",
        "/v2/entities?id=a'b",
        "/v2/entities?x%3Cy=1",
        "/v2/types?options=count%22",
    ] {
        bad(&get(uri).await, "invalid character in URI parameter");
    }
    // q and idPattern may use them.
    assert_eq!(
        get("/v2/entities?q=name==%27a%27").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get("/v2/entities?idPattern=(AED)").await.status,
        StatusCode::OK
    );
    bad(&get("/v2/entities/a%3Cb").await, "invalid character in URI");
    bad(&get("/v2/types/(x)").await, "invalid character in URI");
}

#[tokio::test]
async fn tenancy_headers() {
    let reply = call(
        "GET",
        "/v2/entities?options=count",
        &[("Fiware-Service", "TSU")],
    )
    .await;
    assert_eq!(reply.headers["fiware-total-count"], "8");
    let reply = call(
        "GET",
        "/v2/entities?options=count",
        &[("Fiware-Service", "other")],
    )
    .await;
    assert_eq!(reply.headers["fiware-total-count"], "1");
    let reply = call(
        "GET",
        "/v2/entities?options=count",
        &[("Fiware-Service", "nobody")],
    )
    .await;
    assert_eq!(reply.headers["fiware-total-count"], "0");
    let path = |p: &'static str| [("Fiware-Service", "tsu"), ("Fiware-ServicePath", p)];
    let count = |r: &Reply| {
        r.headers["fiware-total-count"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        count(&call("GET", "/v2/entities?options=count", &path("/opendata/aed")).await),
        "4"
    );
    assert_eq!(
        count(&call("GET", "/v2/entities?options=count", &path("/opendata")).await),
        "0"
    );
    assert_eq!(
        count(&call("GET", "/v2/entities?options=count", &path("/opendata/#")).await),
        "6"
    );
    assert_eq!(
        count(
            &call(
                "GET",
                "/v2/entities?options=count",
                &path("/opendata/facility/")
            )
            .await
        ),
        "2"
    );
    assert_eq!(
        count(&call("GET", "/v2/entities?options=count", &path("/#")).await),
        "8"
    );
    assert_eq!(
        count(
            &call(
                "GET",
                "/v2/entities?options=count",
                &path("/childcare, /opendata/aed")
            )
            .await
        ),
        "6"
    );
    let root = [("Fiware-ServicePath", "/")];
    assert_eq!(
        count(&call("GET", "/v2/entities?options=count", &root).await),
        "1"
    );

    bad(
        &call("GET", "/v2/entities", &[("Fiware-Service", "tsu-city")]).await,
        "bad character in tenant name - only underscore and alphanumeric characters are allowed",
    );
    bad(
        &call(
            "GET",
            "/v2/entities",
            &[("Fiware-Service", &"a".repeat(51))],
        )
        .await,
        "bad length - a tenant name can be max 50 characters long",
    );
    bad(
        &call("GET", "/v2/entities", &[("Fiware-ServicePath", "opendata")]).await,
        "Only /absolute/ Service Paths allowed [a service path must begin with /]",
    );
    bad(
        &call("GET", "/v2/types", &[("Fiware-ServicePath", "/open-data")]).await,
        "a component of ServicePath contains an illegal character",
    );
    bad(
        &call("GET", "/v2/entities", &[("Fiware-ServicePath", "/a/#/b")]).await,
        "a component of ServicePath contains an illegal character",
    );
    bad(
        &call(
            "GET",
            "/v2/entities",
            &[("Fiware-ServicePath", "/1/2/3/4/5/6/7/8/9/10/11")],
        )
        .await,
        "too many components in ServicePath",
    );
    bad(
        &call(
            "GET",
            "/v2/entities",
            &[("Fiware-ServicePath", &format!("/{}", "x".repeat(51)))],
        )
        .await,
        "component-name too long in ServicePath",
    );
    bad(
        &call(
            "GET",
            "/v2/entities",
            &[("Fiware-ServicePath", "/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k")],
        )
        .await,
        "too many service paths - a maximum of ten service paths is allowed",
    );
}

#[tokio::test]
async fn single_entity_and_attributes() {
    let id = "urn:ngsi-ld:AED:242012:A-001";
    let reply = get(&format!("/v2/entities/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["location"]["type"], "geo:json");
    let reply = get(&format!("/v2/entities/{id}/?options=keyValues&attrs=name")).await;
    assert_eq!(
        reply.body,
        json!({"id": id, "type": "AED", "name": "津市役所"})
    );
    let reply = get(&format!(
        "/v2/entities/{id}?type=AED&options=values&attrs=name,openingHours"
    ))
    .await;
    assert_eq!(reply.body, json!(["津市役所", null]));

    let not_found = json!({"error": "NotFound", "description": "The requested entity has not been found. Check type and id"});
    let reply = get(&format!("/v2/entities/{id}?type=PublicFacility")).await;
    assert_eq!(
        (reply.status, &reply.body),
        (StatusCode::NOT_FOUND, &not_found)
    );
    let reply = get("/v2/entities/nope").await;
    assert_eq!(
        (reply.status, &reply.body),
        (StatusCode::NOT_FOUND, &not_found)
    );

    // The same id in two tenants: ambiguous unless the tenant is given.
    let twice = "urn:ngsi-ld:PublicFacility:242012:F-1";
    let reply = get(&format!("/v2/entities/{twice}")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.body,
        json!({"error": "TooManyResults", "description": "More than one matching entity. Please refine your query"})
    );
    let reply = call(
        "GET",
        &format!("/v2/entities/{twice}"),
        &[("Fiware-Service", "other")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = get(&format!("/v2/entities/{id}/attrs?attrs=name,latitude")).await;
    assert_eq!(
        reply.body,
        json!({"name": {"type": "Text", "value": "津市役所", "metadata": {}}, "latitude": {"type": "Number", "value": 34.7186, "metadata": {}}})
    );
    let reply = get(&format!("/v2/entities/{id}/attrs/latitude")).await;
    assert_eq!(
        reply.body,
        json!({"type": "Number", "value": 34.7186, "metadata": {}})
    );
    let reply = get(&format!("/v2/entities/{id}/attrs/nope")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        json!({"error": "NotFound", "description": "The entity does not have such an attribute"})
    );
    let reply = get(&format!("/v2/entities/{id}/attrs/location/value")).await;
    assert_eq!(
        reply.body,
        json!({"type": "Point", "coordinates": [136.5056, 34.7186]})
    );
    let reply = get(&format!("/v2/entities/{id}/attrs/name/value")).await;
    assert_eq!(reply.body, json!("津市役所"));
    let reply = call(
        "GET",
        &format!("/v2/entities/{id}/attrs/name/value"),
        &[("Accept", "text/plain")],
    )
    .await;
    assert_eq!(reply.text, "津市役所");
}

#[tokio::test]
async fn types() {
    let reply = get("/v2/types?options=count").await;
    assert_eq!(reply.headers["fiware-total-count"], "3");
    let list = reply.body.as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(names, ["AED", "ChildcareFacility", "PublicFacility"]);
    assert_eq!(list[0]["count"], 4);
    assert_eq!(list[0]["attrs"]["latitude"], json!({"types": ["Number"]}));
    assert_eq!(list[0]["attrs"]["location"], json!({"types": ["geo:json"]}));
    assert_eq!(list[2]["count"], 3);
    let reply = get("/v2/types?options=values&limit=2&offset=1").await;
    assert_eq!(reply.body, json!(["ChildcareFacility", "PublicFacility"]));
    let reply = call("GET", "/v2/types/", &[("Fiware-Service", "other")]).await;
    assert_eq!(reply.body.as_array().unwrap().len(), 1);

    let reply = get("/v2/types/ChildcareFacility").await;
    assert_eq!(reply.body["count"], 2);
    assert_eq!(
        reply.body["attrs"]["authorizationDate"],
        json!({"types": ["DateTime"]})
    );
    let reply = get("/v2/types/Nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        json!({"error": "NotFound", "description": "Entity type not found"})
    );
    bad(
        &get("/v2/types?limit=0").await,
        "Bad pagination limit: /0/ [a value of ZERO is unacceptable]",
    );
}

#[tokio::test]
async fn read_only_and_unknown_routes() {
    for (method, uri) in [
        ("POST", "/v2/entities"),
        ("DELETE", "/v2/entities/urn:ngsi-ld:AED:242012:A-001"),
        ("PATCH", "/v2/entities/x/attrs"),
        ("PUT", "/v2/entities/x/attrs/name/value"),
        ("POST", "/v2/subscriptions"),
        ("POST", "/v2/entities/"),
    ] {
        let reply = call(method, uri, &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(reply.body["error"], "MethodNotAllowed");
        assert_eq!(reply.headers[header::ALLOW], "GET");
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    }
    for uri in ["/v2/nothing", "/v2/entities/a/b/c/d/e", "/v2/op/update"] {
        bad(
            &get(uri).await,
            "Service not found. Check your URL as probably it is wrong.",
        );
    }
    assert_eq!(get("/v2/subscriptions?options=count").await.body, json!([]));
    assert_eq!(get("/v2/registrations").await.body, json!([]));
    assert_eq!(
        get("/v2/subscriptions/abc").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A small xorshift generator for the fuzz tests.
fn pseudo_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn parsers_survive_any_input() {
    let alphabet: Vec<char> = "ab.*+?|()[]{}^$\\-,;:=!<>~'\"0123456789 あ%#/"
        .chars()
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let aed = entities("aed", AED_CSV);
    for round in 0..3000 {
        let len = (pseudo_random(&mut seed) % 24) as usize + round % 3;
        let text: String = (0..len)
            .map(|_| alphabet[(pseudo_random(&mut seed) % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(regex) = pattern::Regex::new(&text) {
            for e in &aed {
                let _ = regex.is_match(&e.id);
            }
        }
        if let Ok(statements) = parse_q(&text) {
            for e in &aed {
                let _ = statements.iter().all(|s| s.matches(e));
            }
        }
        let _ = parse_service_path(&text);
        let _ = OrderBy::parse(Some(&text), None);
    }
}

#[tokio::test]
async fn router_survives_any_query() {
    let pieces = [
        "q=",
        "idPattern=",
        "type=",
        "id=",
        "attrs=",
        "orderBy=",
        "options=",
        "limit=",
        "offset=",
        "georel=",
        "geometry=",
        "coords=",
        "mq=",
        "typePattern=",
        "&",
        "=",
        "%",
        "%2",
        "%E3%81",
        "%FF",
        "a",
        "1",
        ",",
        ";",
        "..",
        "!",
        "'",
        "(",
        ">",
        "<",
        "~",
        "near",
        "maxDistance:",
        "point",
        "box",
        "count",
        "keyValues",
        "values",
        "*",
        "..",
    ];
    let paths = [
        "/v2/entities?",
        "/v2/entities/urn:ngsi-ld:AED:242012:A-001?",
        "/v2/entities/urn:ngsi-ld:AED:242012:A-001/attrs?",
        "/v2/types?",
        "/v2/types/AED?",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let app: Router = router(Fixed(Arc::new(sets())));
    for _ in 0..1500 {
        let path = paths[(pseudo_random(&mut seed) % paths.len() as u64) as usize];
        let mut uri = path.to_string();
        for _ in 0..(pseudo_random(&mut seed) % 8) {
            uri.push_str(pieces[(pseudo_random(&mut seed) % pieces.len() as u64) as usize]);
        }
        let Ok(request) = HttpRequest::builder().uri(uri.as_str()).body(Body::empty()) else {
            continue;
        };
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{uri}: {status}"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(serde_json::from_slice::<Value>(&bytes).is_ok(), "{uri}");
    }
}

#[tokio::test]
async fn odd_requests_never_fail_hard() {
    for uri in [
        "/v2/entities?q=%FF%FE",
        "/v2/entities?q=%",
        "/v2/entities?q=a%2",
        "/v2/entities?idPattern=%E3%81%82*",
        "/v2/entities?orderBy=!",
        "/v2/entities?orderBy=a..b",
        "/v2/entities?attrs=,,,",
        "/v2/entities?options=,",
        "/v2/entities?georel=near;maxDistance:x&geometry=point&coords=1,2",
        "/v2/entities?georel=coveredBy&geometry=polygon&coords=1,2;3,4",
        "/v2/entities?coords=a,b",
        "/v2/entities/%FF",
        "/v2/entities/%E3%81%82/attrs/%E3%81%82/value",
        "/v2/types/%E3%81%82",
    ] {
        let reply = get(uri).await;
        assert!(
            reply.status.is_success() || reply.status.is_client_error(),
            "{uri}: {}",
            reply.status
        );
        assert!(
            reply.body.is_object() || reply.body.is_array(),
            "{uri}: {}",
            reply.text
        );
    }
}
