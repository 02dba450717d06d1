//! CKAN's package dictionaries mapped to DCAT, as ckanext-dcat's
//! `euro_dcat_ap` profile maps them, and the document written in the asked
//! syntax.

use serde_json::Value;

use super::format::{Format, Paging, Site, license_uri, page_url};
use super::iri::{http_iri, mailto, segment};
use super::json_ld::json_ld;
use super::rdf::*;
use super::rdf_xml::rdf_xml;
use super::turtle::turtle;

/// One dataset (`package_show` dictionary) with its distributions.
pub fn dataset(format: Format, site: &Site, package: &Value) -> String {
    let mut g = Graph::default();
    let base = site_base(site.url);
    add_dataset(&mut g, &base, site, package);
    render(format, &g)
}

/// A catalogue page: the catalogue, the datasets of this page and the Hydra
/// paging description.
pub fn catalog(format: Format, site: &Site, packages: &[Value], paging: &Paging) -> String {
    let mut g = Graph::default();
    let base = site_base(site.url);
    let cat = Node::Iri(format!("{base}/"));
    g.a(&cat, DCAT_CATALOG);
    g.text(&cat, DCT_TITLE, Some(site.title));
    g.text(&cat, DCT_DESCRIPTION, Some(site.description));
    g.text(&cat, DCT_LANGUAGE, Some(site.language));
    g.link(&cat, FOAF_HOMEPAGE, &cat);
    if let Some(m) = site.modified.map(clean_text)
        && !m.trim().is_empty()
    {
        g.add(&cat, DCT_MODIFIED, date_object(&m));
    }
    add_paging(&mut g, paging);
    for package in packages {
        let ds = add_dataset(&mut g, &base, site, package);
        g.link(&cat, DCAT_DATASET, &ds);
    }
    render(format, &g)
}

pub(super) fn site_base(url: &str) -> String {
    match http_iri(url) {
        Some(iri) => iri.trim_end_matches('/').to_owned(),
        None => "http://localhost".to_owned(),
    }
}

/// A JSON string or number as text, without XML-forbidden characters;
/// `None` when missing, null, another type, or blank.
fn scalar(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => clean_text(s),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if s.trim().is_empty() { None } else { Some(s) }
}

fn field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(scalar)
}

/// An entry of `extras` (`[{key, value}]`), or a top-level field of the same
/// name (as ckanext-scheming stores custom fields).
fn extra(package: &Value, key: &str) -> Option<String> {
    package
        .get("extras")
        .and_then(Value::as_array)
        .and_then(|extras| {
            extras
                .iter()
                .find(|e| e.get("key").and_then(Value::as_str) == Some(key))
                .and_then(|e| e.get("value"))
                .and_then(scalar)
        })
        .or_else(|| field(package, key))
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn add_dataset(g: &mut Graph, base: &str, site: &Site, package: &Value) -> Node {
    let id = field(package, "id").or_else(|| field(package, "name"));
    let ds = match &id {
        Some(id) => Node::Iri(format!("{base}/dataset/{}", segment(id))),
        None => g.blank(),
    };
    g.a(&ds, DCAT_DATASET_CLASS);
    g.text(&ds, DCT_TITLE, field(package, "title").as_deref());
    g.text(&ds, DCT_DESCRIPTION, field(package, "notes").as_deref());
    for tag in array(package, "tags") {
        let keyword = match tag {
            Value::Object(_) => field(tag, "name").or_else(|| field(tag, "display_name")),
            other => scalar(other),
        };
        g.text(&ds, DCAT_KEYWORD, keyword.as_deref());
    }
    let identifier = extra(package, "identifier").or_else(|| field(package, "id"));
    g.text(&ds, DCT_IDENTIFIER, identifier.as_deref());
    g.date(&ds, DCT_ISSUED, field(package, "metadata_created"));
    g.date(&ds, DCT_MODIFIED, field(package, "metadata_modified"));
    g.text(&ds, OWL_VERSION_INFO, field(package, "version").as_deref());
    if let Some(url) = field(package, "url").as_deref().and_then(http_iri) {
        let page = Node::Iri(url);
        g.link(&ds, DCAT_LANDING_PAGE, &page);
        g.a(&page, FOAF_DOCUMENT);
    }
    // Language: extras `language` (a code or a JSON list of codes, as
    // ckanext-dcat stores it), else the site language.
    match extra(package, "language") {
        Some(lang) => match serde_json::from_str::<Vec<Value>>(&lang) {
            Ok(list) => {
                for code in &list {
                    g.text(&ds, DCT_LANGUAGE, scalar(code).as_deref());
                }
            }
            Err(_) => g.text(&ds, DCT_LANGUAGE, Some(&lang)),
        },
        None => g.text(&ds, DCT_LANGUAGE, Some(site.language)),
    }

    // Publisher: the owning organisation.
    if let Some(org) = package.get("organization").filter(|o| o.is_object()) {
        let org_node = match field(org, "id").or_else(|| field(org, "name")) {
            Some(oid) => Node::Iri(format!("{base}/organization/{}", segment(&oid))),
            None => g.blank(),
        };
        g.link(&ds, DCT_PUBLISHER, &org_node);
        g.a(&org_node, FOAF_ORGANIZATION);
        let org_name = field(org, "title").or_else(|| field(org, "name"));
        g.text(&org_node, FOAF_NAME, org_name.as_deref());
    }

    // Contact point: extras contact_*, else maintainer, else author.
    let contact_name = extra(package, "contact_name")
        .or_else(|| field(package, "maintainer"))
        .or_else(|| field(package, "author"));
    let contact_email = extra(package, "contact_email")
        .or_else(|| field(package, "maintainer_email"))
        .or_else(|| field(package, "author_email"))
        .as_deref()
        .and_then(mailto);
    let contact_uri = extra(package, "contact_uri").as_deref().and_then(http_iri);
    if contact_name.is_some() || contact_email.is_some() || contact_uri.is_some() {
        let contact = match contact_uri {
            Some(uri) => Node::Iri(uri),
            None => g.blank(),
        };
        g.link(&ds, DCAT_CONTACT_POINT, &contact);
        g.a(&contact, VCARD_ORGANIZATION);
        g.text(&contact, VCARD_FN, contact_name.as_deref());
        if let Some(email) = contact_email {
            g.link(&contact, VCARD_HAS_EMAIL, &Node::Iri(email));
        }
    }

    // Themes: the groups the dataset belongs to.
    for group in array(package, "groups") {
        if let Some(gname) = field(group, "name") {
            g.link(
                &ds,
                DCAT_THEME,
                &Node::Iri(format!("{base}/group/{}", segment(&gname))),
            );
        }
    }

    let license = package_license(package).map(Node::Iri);
    if let Some(lic) = &license {
        g.link(&ds, DCT_LICENSE, lic);
        g.a(lic, DCT_LICENSE_DOCUMENT);
    }

    for resource in array(package, "resources") {
        let dist = match (&id, field(resource, "id")) {
            (Some(id), Some(rid)) => Node::Iri(format!(
                "{base}/dataset/{}/resource/{}",
                segment(id),
                segment(&rid)
            )),
            _ => g.blank(),
        };
        g.link(&ds, DCAT_DISTRIBUTION, &dist);
        add_distribution(g, &dist, resource, license.as_ref());
    }
    ds
}

fn add_distribution(g: &mut Graph, dist: &Node, resource: &Value, license: Option<&Node>) {
    g.a(dist, DCAT_DISTRIBUTION_CLASS);
    g.text(dist, DCT_TITLE, field(resource, "name").as_deref());
    g.text(
        dist,
        DCT_DESCRIPTION,
        field(resource, "description").as_deref(),
    );
    if let Some(url) = field(resource, "url").as_deref().and_then(http_iri) {
        let url = Node::Iri(url);
        g.link(dist, DCAT_ACCESS_URL, &url);
        if field(resource, "url_type").as_deref() == Some("upload") {
            g.link(dist, DCAT_DOWNLOAD_URL, &url);
        }
    }

    // Like ckanext-dcat: a format that looks like a media type (and is not
    // contradicted by `mimetype`) is written as dcat:mediaType instead.
    let mut format = field(resource, "format");
    let mut mimetype = field(resource, "mimetype");
    if let Some(f) = format.clone()
        && mimetype.as_ref().is_none_or(|m| *m == f)
    {
        let is_http = f.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("http"));
        if f.contains("iana.org/assignments/media-types") || (!is_http && f.contains('/')) {
            mimetype = Some(f);
            format = None;
        } else {
            mimetype = None;
        }
    }
    if let Some(m) = mimetype {
        g.add(dist, DCAT_MEDIA_TYPE, iri_or_literal(&m));
    }
    if let Some(f) = format {
        g.add(dist, DCT_FORMAT, iri_or_literal(&f));
    }

    if let Some(size) = byte_size(resource.get("size")) {
        g.typed(dist, DCAT_BYTE_SIZE, size, XSD_DECIMAL);
    }
    g.date(dist, DCT_ISSUED, field(resource, "created"));
    g.date(dist, DCT_MODIFIED, field(resource, "last_modified"));
    if let Some(lic) = license {
        g.link(dist, DCT_LICENSE, lic);
    }
}

pub(super) fn package_license(package: &Value) -> Option<String> {
    if let Some(url) = field(package, "license_url").as_deref().and_then(http_iri) {
        return Some(url);
    }
    let id = field(package, "license_id")?;
    http_iri(&id).or_else(|| license_uri(&id).map(str::to_owned))
}

fn iri_or_literal(value: &str) -> Object {
    match http_iri(value) {
        Some(iri) => Object::Node(Node::Iri(iri)),
        None => Object::Literal(value.to_owned(), None),
    }
}

/// `dcat:byteSize` lexical form (an `xsd:decimal`) of a JSON number or a
/// numeric string.
fn byte_size(v: Option<&Value>) -> Option<String> {
    fn from_f64(f: f64) -> Option<String> {
        // `Display` for f64 never uses exponent notation, so the result is a
        // valid xsd:decimal.
        f.is_finite().then(|| f.to_string())
    }
    match v? {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                n.as_f64().and_then(from_f64)
            }
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(u) = s.parse::<u64>() {
                Some(u.to_string())
            } else if let Ok(i) = s.parse::<i64>() {
                Some(i.to_string())
            } else {
                s.parse::<f64>().ok().and_then(from_f64)
            }
        }
        _ => None,
    }
}

fn add_paging(g: &mut Graph, paging: &Paging) {
    let page = paging.page.max(1);
    let last = if paging.items_per_page == 0 {
        1
    } else {
        paging.total_items.div_ceil(paging.items_per_page).max(1)
    };
    let url = |n: u64| {
        let raw = page_url(&paging.base, n);
        http_iri(&raw).unwrap_or_else(|| clean_text(&raw))
    };
    let node = match http_iri(&page_url(&paging.base, page)) {
        Some(iri) => Node::Iri(iri),
        None => g.blank(),
    };
    g.a(&node, HYDRA_PAGED_COLLECTION);
    g.typed(
        &node,
        HYDRA_TOTAL_ITEMS,
        paging.total_items.to_string(),
        XSD_INTEGER,
    );
    g.typed(
        &node,
        HYDRA_ITEMS_PER_PAGE,
        paging.items_per_page.to_string(),
        XSD_INTEGER,
    );
    g.text(&node, HYDRA_FIRST_PAGE, Some(&url(1)));
    g.text(&node, HYDRA_LAST_PAGE, Some(&url(last)));
    if page < last {
        g.text(&node, HYDRA_NEXT_PAGE, Some(&url(page + 1)));
    }
    if page > 1 {
        g.text(&node, HYDRA_PREVIOUS_PAGE, Some(&url(page - 1)));
    }
}

pub(super) fn render(format: Format, g: &Graph) -> String {
    match format {
        Format::Turtle | Format::N3 => turtle(g),
        Format::RdfXml => rdf_xml(g),
        Format::JsonLd => json_ld(g),
    }
}
