//! DCAT's tests: every syntax parsed back to the same triples, the mapping
//! of full, minimal and broken packages, IRI cleaning and paging.

use serde_json::{Value, json};

use super::iri::{http_iri, mailto, segment};
use super::mapping::{add_dataset, package_license, site_base};
use super::rdf::{Graph, Node, Object, RDF_TYPE, date_object};
use super::*;

const SITE: Site<'static> = Site {
    url: "http://127.0.0.1:8080",
    title: "テスト市オープンデータ",
    description: "Test catalogue",
    language: "ja",
    modified: Some("2026-11-22T03:46:26.123456"),
};

const ALL: [Format; 4] = [Format::Turtle, Format::RdfXml, Format::JsonLd, Format::N3];

fn full() -> Value {
    json!({
        "id": "3f1e2d4c-0000-4000-8000-000000000001",
        "name": "population",
        "title": "人口統計",
        "notes": "町丁別の人口",
        "url": "https://www.city.example.jp/population.html",
        "version": "1.0",
        "maintainer": "総務課",
        "maintainer_email": "soumu@city.example.jp",
        "license_id": "cc-by-4.0",
        "license_title": "CC BY 4.0",
        "metadata_created": "2026-11-22T03:46:26.123456",
        "metadata_modified": "2026-11-23T00:00:00",
        "organization": {"id": "org-1", "name": "soumu", "title": "総務課"},
        "tags": [{"name": "人口", "display_name": "人口"}, {"name": "統計"}],
        "groups": [{"name": "population", "title": "人口"}],
        "extras": [{"key": "identifier", "value": "JP-123"}],
        "resources": [{
            "id": "r1",
            "name": "人口CSV",
            "description": "CSV版",
            "format": "CSV",
            "mimetype": "text/csv",
            "url": "http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv",
            "url_type": "upload",
            "size": 1024,
            "created": "2026-11-22T03:46:26.123456",
            "last_modified": null
        }]
    })
}

/// The graph as canonical N-Triples-like lines, for comparisons.
fn triples(g: &Graph) -> Vec<String> {
    let node = |n: &Node| match n {
        Node::Iri(i) => format!("<{i}>"),
        Node::Blank(b) => format!("_:b{b}"),
    };
    let mut out = Vec::new();
    for s in &g.order {
        for (p, objs) in g.props.get(s).map(Vec::as_slice).unwrap_or(&[]) {
            for o in objs {
                let o = match o {
                    Object::Node(n) => node(n),
                    Object::Literal(v, Some(dt)) => format!("{v:?}^^<{}>", dt.iri()),
                    Object::Literal(v, None) => format!("{v:?}"),
                };
                out.push(format!("{} <{}> {o}", node(s), p.iri()));
            }
        }
    }
    out.sort();
    out
}

/// Reads our own JSON-LD shape back into the same line form.
fn triples_from_json_ld(text: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(text).expect("valid JSON");
    let ctx = doc["@context"].as_object().expect("context").clone();
    let expand = |s: &str| -> String {
        if let Some((p, l)) = s.split_once(':')
            && let Some(ns) = ctx.get(p).and_then(Value::as_str)
        {
            return format!("{ns}{l}");
        }
        s.to_owned()
    };
    let term = |s: &str| {
        if s.starts_with("_:") {
            s.to_owned()
        } else {
            format!("<{s}>")
        }
    };
    let mut out = Vec::new();
    for node in doc["@graph"].as_array().expect("graph") {
        let id = term(node["@id"].as_str().expect("id"));
        for (k, v) in node.as_object().expect("node") {
            if k == "@id" {
                continue;
            }
            for o in v.as_array().expect("array") {
                if k == "@type" {
                    out.push(format!(
                        "{id} <{}> <{}>",
                        RDF_TYPE.iri(),
                        expand(o.as_str().expect("type"))
                    ));
                    continue;
                }
                let o = if let Some(i) = o.get("@id").and_then(Value::as_str) {
                    term(i)
                } else {
                    let v = o["@value"].as_str().expect("value");
                    match o.get("@type").and_then(Value::as_str) {
                        Some(t) => format!("{v:?}^^<{}>", expand(t)),
                        None => format!("{v:?}"),
                    }
                };
                out.push(format!("{id} <{}> {o}", expand(k)));
            }
        }
    }
    out.sort();
    out
}

fn graph_of(package: &Value) -> Graph {
    let mut g = Graph::default();
    add_dataset(&mut g, "http://127.0.0.1:8080", &SITE, package);
    g
}

#[test]
fn extensions_and_media_types() {
    assert_eq!(Format::from_extension("ttl"), Some(Format::Turtle));
    assert_eq!(Format::from_extension("rdf"), Some(Format::RdfXml));
    assert_eq!(Format::from_extension("xml"), Some(Format::RdfXml));
    assert_eq!(Format::from_extension("jsonld"), Some(Format::JsonLd));
    assert_eq!(Format::from_extension("n3"), Some(Format::N3));
    assert_eq!(Format::from_extension(".TTL"), Some(Format::Turtle));
    assert_eq!(Format::from_extension("json"), None);
    assert_eq!(Format::from_extension(""), None);
    assert_eq!(Format::Turtle.media_type(), "text/turtle; charset=utf-8");
    assert_eq!(
        Format::RdfXml.media_type(),
        "application/rdf+xml; charset=utf-8"
    );
    assert_eq!(Format::JsonLd.media_type(), "application/ld+json");
    assert_eq!(Format::N3.media_type(), "text/n3; charset=utf-8");
    for f in ALL {
        assert_eq!(Format::from_extension(f.extension()), Some(f));
    }
}

#[test]
fn full_package_turtle() {
    let ttl = dataset(Format::Turtle, &SITE, &full());
    let ds = "<http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001>";
    assert!(
        ttl.starts_with("@prefix rdf:") || ttl.starts_with("@prefix dcat:"),
        "{ttl}"
    );
    assert!(ttl.contains(&format!("{ds} a dcat:Dataset")), "{ttl}");
    assert!(ttl.contains("dct:title \"人口統計\""));
    assert!(ttl.contains("dcat:keyword \"人口\",\n        \"統計\""));
    assert!(ttl.contains("dct:identifier \"JP-123\""));
    assert!(ttl.contains("dct:issued \"2026-11-22T03:46:26.123456Z\"^^xsd:dateTime"));
    assert!(ttl.contains("dct:modified \"2026-11-23T00:00:00Z\"^^xsd:dateTime"));
    assert!(ttl.contains("owl:versionInfo \"1.0\""));
    assert!(ttl.contains("dcat:landingPage <https://www.city.example.jp/population.html>"));
    assert!(ttl.contains("<https://www.city.example.jp/population.html> a foaf:Document"));
    assert!(ttl.contains("dct:publisher <http://127.0.0.1:8080/organization/org-1>"));
    assert!(ttl.contains(
        "<http://127.0.0.1:8080/organization/org-1> a foaf:Organization ;\n    foaf:name \"総務課\""
    ));
    assert!(ttl.contains("dcat:contactPoint _:b0"));
    assert!(ttl.contains("_:b0 a vcard:Organization ;\n    vcard:fn \"総務課\" ;\n    vcard:hasEmail <mailto:soumu@city.example.jp>"));
    assert!(ttl.contains("dcat:theme <http://127.0.0.1:8080/group/population>"));
    assert!(ttl.contains("dct:license <https://creativecommons.org/licenses/by/4.0/>"));
    assert!(ttl.contains("<https://creativecommons.org/licenses/by/4.0/> a dct:LicenseDocument"));
    assert!(ttl.contains("dct:language \"ja\""));
    let dist = "<http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001/resource/r1>";
    assert!(ttl.contains(&format!("dcat:distribution {dist}")));
    assert!(ttl.contains(&format!("{dist} a dcat:Distribution")));
    assert!(ttl.contains("dct:format \"CSV\""));
    assert!(ttl.contains("dcat:mediaType \"text/csv\""));
    assert!(ttl.contains("dcat:byteSize \"1024\"^^xsd:decimal"));
    assert!(
        ttl.contains(
            "dcat:accessURL <http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv>"
        )
    );
    assert!(ttl.contains(
        "dcat:downloadURL <http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv>"
    ));
    assert!(!ttl.contains("hydra"));
    // N3 is written in the common Turtle/N3 syntax.
    assert_eq!(dataset(Format::N3, &SITE, &full()), ttl);
}

#[test]
fn full_package_rdf_xml() {
    let xml = dataset(Format::RdfXml, &SITE, &full());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF"));
    assert!(xml.contains("xmlns:dcat=\"http://www.w3.org/ns/dcat#\""));
    assert!(xml.contains(
            "<rdf:Description rdf:about=\"http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001\">"
        ));
    assert!(xml.contains("<rdf:type rdf:resource=\"http://www.w3.org/ns/dcat#Dataset\"/>"));
    assert!(xml.contains("<dct:title>人口統計</dct:title>"));
    assert!(xml.contains(
            "<dct:issued rdf:datatype=\"http://www.w3.org/2001/XMLSchema#dateTime\">2026-11-22T03:46:26.123456Z</dct:issued>"
        ));
    assert!(xml.contains("<dcat:contactPoint rdf:nodeID=\"b0\"/>"));
    assert!(xml.contains("<rdf:Description rdf:nodeID=\"b0\">"));
    assert!(xml.contains(
            "<dcat:byteSize rdf:datatype=\"http://www.w3.org/2001/XMLSchema#decimal\">1024</dcat:byteSize>"
        ));
    assert!(xml.trim_end().ends_with("</rdf:RDF>"));
    assert_eq!(
        xml.matches("<rdf:Description ").count(),
        xml.matches("</rdf:Description>").count()
    );
}

#[test]
fn full_package_json_ld_round_trips() {
    let text = dataset(Format::JsonLd, &SITE, &full());
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
    let g = graph_of(&full());
    assert_eq!(triples_from_json_ld(&text), triples(&g));
    assert!(g.seen.len() > 30);
}

#[test]
fn minimal_package() {
    let pkg = json!({"id": "only-id"});
    let g = graph_of(&pkg);
    assert_eq!(
        triples(&g),
        vec![
            "<http://127.0.0.1:8080/dataset/only-id> <http://purl.org/dc/terms/identifier> \"only-id\"",
            "<http://127.0.0.1:8080/dataset/only-id> <http://purl.org/dc/terms/language> \"ja\"",
            "<http://127.0.0.1:8080/dataset/only-id> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset>",
        ]
    );
    for f in ALL {
        let out = dataset(f, &SITE, &pkg);
        assert!(out.contains("only-id"), "{f:?}: {out}");
    }
    assert_eq!(
        triples_from_json_ld(&dataset(Format::JsonLd, &SITE, &pkg)),
        triples(&g)
    );
}

#[test]
fn tolerates_nulls_and_wrong_types() {
    let pkgs = [
        json!(null),
        json!([]),
        json!("x"),
        json!({}),
        json!({"id": null, "name": null, "title": 5, "tags": "x", "groups": {}, "extras": [1, null, {"key": 2}],
                   "organization": null, "resources": [null, 3, {"id": null, "size": "abc", "url": 7}]}),
        json!({"id": "a", "organization": {"title": "no id"}, "resources": [{"size": -3.5, "format": "text/csv"}],
                   "metadata_created": "yesterday", "metadata_modified": "99999-01-01T00:00:00"}),
    ];
    for pkg in &pkgs {
        for f in ALL {
            let out = dataset(f, &SITE, pkg);
            assert!(out.contains("Dataset"), "{f:?}");
        }
        let json = dataset(Format::JsonLd, &SITE, pkg);
        assert_eq!(triples_from_json_ld(&json), triples(&graph_of(pkg)));
    }
    let g = graph_of(&pkgs[5]);
    let t = triples(&g).join("\n");
    assert!(
        t.contains("<http://www.w3.org/ns/dcat#byteSize> \"-3.5\"^^"),
        "{t}"
    );
    assert!(
        t.contains("<http://www.w3.org/ns/dcat#mediaType> \"text/csv\""),
        "{t}"
    );
    assert!(!t.contains("/format>"), "{t}");
    assert!(
        t.contains("<http://purl.org/dc/terms/issued> \"yesterday\"\n"),
        "{t}"
    );
    assert!(
        t.contains("<http://purl.org/dc/terms/modified> \"99999-01-01T00:00:00\"\n"),
        "{t}"
    );
    assert!(
        t.contains("<http://xmlns.com/foaf/0.1/name> \"no id\""),
        "{t}"
    );
}

fn nasty() -> Value {
    let s = "q\"uote \\ back\nnew\r\nline\ttab <>&'\" ]]> 🍣 日本語 \u{0}\u{8}\u{b}\u{c}\u{1f}\u{fffe}\u{ffff}end";
    json!({
        "id": "weird id/with?chars#and%",
        "title": s,
        "notes": "\"\"\"triple\"\"\" ''' ends with quote\"",
        "url": "http://example.com/a b<c>\"d{e}|f\\g^h`i/日本?x=1&y=2#frag#more",
        "version": s,
        "maintainer": s,
        "maintainer_email": "mailto:a b@example.com",
        "license_url": "not a url",
        "license_id": "pdl-1.0",
        "tags": [{"name": s}, {"name": "  "}, {"name": "🍣"}],
        "organization": {"id": "org/../1", "title": s},
        "extras": [{"key": "identifier", "value": s}],
        "resources": [{
            "id": "..",
            "name": s,
            "url": "javascript:alert(1)",
            "format": s,
            "size": 1.5
        }, {
            "id": "r2",
            "url": "HTTPS://例え.jp/パス name.csv?q=%zz&r=%41",
            "url_type": "",
            "size": "2048"
        }]
    })
}

#[test]
fn nasty_strings_are_escaped() {
    let pkg = nasty();
    let ttl = dataset(Format::Turtle, &SITE, &pkg);
    assert!(
        ttl.contains("\"q\\\"uote \\\\ back\\nnew\\r\\nline\\ttab <>&'\\\" ]]> 🍣 日本語 end\"")
    );
    assert!(!ttl.contains('\u{0}') && !ttl.contains('\u{fffe}') && !ttl.contains('\u{b}'));
    assert!(ttl.contains("<http://127.0.0.1:8080/dataset/weird%20id%2Fwith%3Fchars%23and%25>"));
    assert!(ttl.contains(
        "<http://example.com/a%20b%3Cc%3E%22d%7Be%7D%7Cf%5Cg%5Eh%60i/日本?x=1&y=2#frag%23more>"
    ));
    assert!(ttl.contains("<mailto:a%20b@example.com>"));
    assert!(
        ttl.contains("<https://www.digital.go.jp/resources/open_data/public_data_license_v1.0>")
    );
    assert!(ttl.contains("/resource/%2E%2E>"));
    assert!(ttl.contains("<http://127.0.0.1:8080/organization/org%2F..%2F1>"));
    assert!(ttl.contains("<https://%E4%BE%8B%E3%81%88.jp/パス%20name.csv?q=%25zz&r=%41>"));
    assert!(!ttl.contains("javascript"));
    assert!(ttl.contains("\"1.5\"^^xsd:decimal") && ttl.contains("\"2048\"^^xsd:decimal"));

    let xml = dataset(Format::RdfXml, &SITE, &pkg);
    assert!(xml.contains(
            "<dct:title>q&quot;uote \\ back\nnew&#13;\nline\ttab &lt;&gt;&amp;'&quot; ]]&gt; 🍣 日本語 end</dct:title>"
        ));
    assert!(!xml.contains("]]>"));
    assert!(!xml.contains('\u{0}') && !xml.contains('\u{ffff}') && !xml.contains('\u{c}'));

    let json = dataset(Format::JsonLd, &SITE, &pkg);
    assert!(!json.contains('\u{0}') && !json.contains('\u{1f}'));
    assert_eq!(triples_from_json_ld(&json), triples(&graph_of(&pkg)));
    // Blank keyword is skipped, the others kept.
    assert_eq!(json.matches("dcat:keyword").count(), 1);
    assert_eq!(
        triples(&graph_of(&pkg))
            .iter()
            .filter(|t| t.contains("#keyword>"))
            .count(),
        2
    );
}

#[test]
fn iri_cleaning() {
    let iri = |s: &str| http_iri(s).unwrap_or_default();
    assert_eq!(iri("http://[::1]:8080/x"), "http://[::1]:8080/x");
    assert_eq!(iri("http://[::1]/a[b]"), "http://[::1]/a%5Bb%5D");
    assert_eq!(iri("http://[zz]/"), "");
    assert_eq!(iri("http://[::1]x/"), "");
    assert_eq!(iri("http://a[b/"), "http://a%5Bb/");
    assert_eq!(iri("http://u@v@h.jp:80/"), "http://u%40v@h.jp:80/");
    assert_eq!(iri("http://@/"), "");
    assert_eq!(iri("http://:80/"), "");
    assert_eq!(
        iri("https://example.jp／data"),
        "https://example.jp%EF%BC%8Fdata"
    );
    assert_eq!(iri("http://h/a?"), "http://h/a");
    assert_eq!(iri("http://h/a?#f"), "http://h/a#f");
    assert_eq!(iri("http://h/a?q"), "http://h/a?q");
    assert_eq!(iri("http://h/a;"), "http://h/a");
    assert_eq!(iri("http://h/a;?q"), "http://h/a?q");
    assert_eq!(iri("http://h/a;;"), "http://h/a;;");
    assert_eq!(iri("http://h/x;y/a"), "http://h/x;y/a");
    assert_eq!(iri("http://h/a#"), "http://h/a#");
    assert_eq!(iri("http://h?"), "http://h");
    assert_eq!(
        http_iri(" https://x.jp/a "),
        Some("https://x.jp/a".to_owned())
    );
    assert_eq!(http_iri("HTTP://x.jp"), Some("http://x.jp".to_owned()));
    assert_eq!(http_iri("http://"), None);
    assert_eq!(http_iri("http:///path"), None);
    assert_eq!(http_iri("/relative/path"), None);
    assert_eq!(http_iri("ftp://x.jp/"), None);
    assert_eq!(http_iri("mailto:a@b"), None);
    assert_eq!(
        http_iri("http://x/\u{e000}\u{80}\u{fffe}"),
        Some("http://x/%EE%80%80%C2%80%EF%BF%BE".to_owned())
    );
    assert_eq!(mailto("MAILTO: a@b.jp"), Some("mailto:a@b.jp".to_owned()));
    assert_eq!(mailto("  "), None);
    assert_eq!(mailto("mailto:"), None);
    assert_eq!(segment("."), "%2E");
    assert_eq!(segment("a.b"), "a.b");
    assert_eq!(segment("日"), "%E6%97%A5");
    assert_eq!(site_base("http://h:1/"), "http://h:1");
    assert_eq!(site_base("not a url"), "http://localhost");
}

#[test]
fn dates() {
    let dt = |v: &str| match date_object(v) {
        Object::Literal(v, Some(d)) => format!("{v}^^{}", d.local),
        Object::Literal(v, None) => v,
        Object::Node(_) => String::new(),
    };
    assert_eq!(
        dt("2026-11-22T03:46:26.123456"),
        "2026-11-22T03:46:26.123456Z^^dateTime"
    );
    assert_eq!(dt("2026-11-22T03:46:26"), "2026-11-22T03:46:26Z^^dateTime");
    assert_eq!(
        dt("2026-11-22 03:46:26.5"),
        "2026-11-22T03:46:26.500Z^^dateTime"
    );
    assert_eq!(
        dt("2026-11-22T12:00:00+09:00"),
        "2026-11-22T03:00:00Z^^dateTime"
    );
    assert_eq!(dt("2026-11-22"), "2026-11-22^^date");
    assert_eq!(dt("2026-13-01"), "2026-13-01");
    assert_eq!(dt("令和8年"), "令和8年");
}

fn paging(page: u64, total: u64) -> Paging {
    Paging {
        page,
        items_per_page: 10,
        total_items: total,
        base: "http://127.0.0.1:8080/catalog.ttl?q=x".to_owned(),
    }
}

fn catalog_triples(p: &Paging, packages: &[Value]) -> Vec<String> {
    let json = catalog(Format::JsonLd, &SITE, packages, p);
    triples_from_json_ld(&json)
}

fn hydra(triples: &[String], page_node: &str, local: &str) -> Vec<String> {
    let prefix = format!("<{page_node}> <http://www.w3.org/ns/hydra/core#{local}> ");
    triples
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

#[test]
fn page_urls() {
    assert_eq!(
        page_url("http://h/catalog.ttl", 2),
        "http://h/catalog.ttl?page=2"
    );
    assert_eq!(
        page_url("http://h/catalog.ttl?", 2),
        "http://h/catalog.ttl?page=2"
    );
    assert_eq!(
        page_url("http://h/catalog.ttl?q=x&", 2),
        "http://h/catalog.ttl?q=x&page=2"
    );
    assert_eq!(
        page_url("http://h/catalog.ttl?q=x", 2),
        "http://h/catalog.ttl?q=x&page=2"
    );
}

#[test]
fn paging_first_middle_last() {
    let node = |n: u64| format!("http://127.0.0.1:8080/catalog.ttl?q=x&page={n}");
    let lit = |n: u64| {
        vec![format!(
            "\"http://127.0.0.1:8080/catalog.ttl?q=x&page={n}\""
        )]
    };
    let int = |n: u64| {
        vec![format!(
            "\"{n}\"^^<http://www.w3.org/2001/XMLSchema#integer>"
        )]
    };

    let first = catalog_triples(&paging(1, 25), &[full()]);
    let n = node(1);
    assert_eq!(hydra(&first, &n, "totalItems"), int(25));
    assert_eq!(hydra(&first, &n, "itemsPerPage"), int(10));
    assert_eq!(hydra(&first, &n, "firstPage"), lit(1));
    assert_eq!(hydra(&first, &n, "lastPage"), lit(3));
    assert_eq!(hydra(&first, &n, "nextPage"), lit(2));
    assert!(hydra(&first, &n, "previousPage").is_empty());
    assert!(first.contains(&format!(
            "<{n}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/hydra/core#PagedCollection>"
        )));

    let middle = catalog_triples(&paging(2, 25), &[]);
    let n = node(2);
    assert_eq!(hydra(&middle, &n, "nextPage"), lit(3));
    assert_eq!(hydra(&middle, &n, "previousPage"), lit(1));
    assert_eq!(hydra(&middle, &n, "lastPage"), lit(3));

    let last = catalog_triples(&paging(3, 25), &[]);
    let n = node(3);
    assert!(hydra(&last, &n, "nextPage").is_empty());
    assert_eq!(hydra(&last, &n, "previousPage"), lit(2));

    let empty = catalog_triples(&paging(0, 0), &[]);
    let n = node(1);
    assert_eq!(hydra(&empty, &n, "lastPage"), lit(1));
    assert_eq!(hydra(&empty, &n, "totalItems"), int(0));
    assert!(
        hydra(&empty, &n, "nextPage").is_empty() && hydra(&empty, &n, "previousPage").is_empty()
    );

    let ttl = catalog(Format::Turtle, &SITE, &[], &paging(2, 25));
    assert!(
        ttl.contains("<http://127.0.0.1:8080/catalog.ttl?q=x&page=2> a hydra:PagedCollection ;")
    );
    assert!(ttl.contains("hydra:totalItems \"25\"^^xsd:integer"));
    assert!(ttl.contains("hydra:nextPage \"http://127.0.0.1:8080/catalog.ttl?q=x&page=3\""));
    let xml = catalog(Format::RdfXml, &SITE, &[], &paging(2, 25));
    assert!(xml.contains("rdf:about=\"http://127.0.0.1:8080/catalog.ttl?q=x&amp;page=2\""));
    assert!(xml.contains(
        "<hydra:previousPage>http://127.0.0.1:8080/catalog.ttl?q=x&amp;page=1</hydra:previousPage>"
    ));

    let zero = Paging {
        items_per_page: 0,
        ..paging(1, 5)
    };
    let t = catalog_triples(&zero, &[]);
    assert_eq!(hydra(&t, &node(1), "lastPage"), lit(1));
}

#[test]
fn catalog_page() {
    let other = json!({"id": "second", "title": "Second", "organization": {"id": "org-1", "title": "総務課"}});
    let pkgs = [full(), other, full()];
    let t = catalog_triples(&paging(1, 2), &pkgs);
    let cat = "<http://127.0.0.1:8080/>";
    for expected in [
        format!(
            "{cat} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Catalog>"
        ),
        format!("{cat} <http://purl.org/dc/terms/title> \"テスト市オープンデータ\""),
        format!("{cat} <http://purl.org/dc/terms/description> \"Test catalogue\""),
        format!("{cat} <http://purl.org/dc/terms/language> \"ja\""),
        format!("{cat} <http://xmlns.com/foaf/0.1/homepage> {cat}"),
        format!(
            "{cat} <http://purl.org/dc/terms/modified> \"2026-11-22T03:46:26.123456Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>"
        ),
        format!("{cat} <http://www.w3.org/ns/dcat#dataset> <http://127.0.0.1:8080/dataset/second>"),
        format!(
            "{cat} <http://www.w3.org/ns/dcat#dataset> <http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001>"
        ),
    ] {
        assert!(t.contains(&expected), "missing {expected}");
    }
    // Repeated packages and the shared organisation are written once.
    let org_names = t
        .iter()
        .filter(|l| {
            l.starts_with(
                "<http://127.0.0.1:8080/organization/org-1> <http://xmlns.com/foaf/0.1/name>",
            )
        })
        .count();
    assert_eq!(org_names, 1);
    assert_eq!(t.iter().filter(|l| l.contains("#dataset> ")).count(), 2);
    let ttl = catalog(Format::Turtle, &SITE, &pkgs, &paging(1, 2));
    assert_eq!(ttl.matches("a dcat:Dataset").count(), 2);
    assert!(ttl.contains("<http://127.0.0.1:8080/> a dcat:Catalog"));
}

#[test]
fn deterministic() {
    for f in ALL {
        let a = catalog(f, &SITE, &[full(), nasty()], &paging(1, 2));
        let b = catalog(f, &SITE, &[full(), nasty()], &paging(1, 2));
        assert_eq!(a, b);
    }
}

#[test]
fn languages() {
    let langs = |pkg: Value| -> Vec<String> {
        triples(&graph_of(&pkg))
            .into_iter()
            .filter(|t| t.contains("/language> "))
            .collect()
    };
    assert_eq!(langs(json!({"id": "a"})).len(), 1);
    let list =
        langs(json!({"id": "a", "extras": [{"key": "language", "value": "[\"en\", \"ja\"]"}]}));
    assert_eq!(list.len(), 2);
    assert!(list.iter().any(|t| t.ends_with("\"en\"")));
    let single = langs(json!({"id": "a", "extras": [{"key": "language", "value": "en"}]}));
    assert_eq!(single.len(), 1);
    assert!(single.iter().all(|t| t.ends_with("\"en\"")));
}

#[test]
fn licences() {
    assert_eq!(
        license_uri("CC-BY-4.0"),
        Some("https://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(license_uri("cc-zero"), license_uri("cc0-1.0"));
    assert_eq!(
        license_uri("gov-jp-2.0"),
        Some("https://www.digital.go.jp/resources/open_data/")
    );
    assert_eq!(license_uri("other-closed"), None);
    let with_url =
        json!({"id": "a", "license_id": "cc-by-4.0", "license_url": "https://example.org/l"});
    assert_eq!(
        package_license(&with_url).as_deref(),
        Some("https://example.org/l")
    );
    let unknown = json!({"id": "a", "license_id": "other-open", "resources": [{"id": "r"}]});
    assert!(
        !triples(&graph_of(&unknown))
            .iter()
            .any(|t| t.contains("license"))
    );
}
