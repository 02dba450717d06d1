//! DCAT serialisation of CKAN package dictionaries.
//!
//! CKAN `package_show` dictionaries are mapped to RDF the way ckanext-dcat's
//! `euro_dcat_ap` profile maps them, and the graph is written as Turtle,
//! RDF/XML, JSON-LD or N3 by small serialisers in this module. The output is
//! deterministic: the same input always gives the same bytes.
//!
//! # URI rules
//!
//! `{site}` is [`Site::url`] with trailing slashes removed (and `http://localhost`
//! if it is not an absolute http(s) URL). `{id}` and the other path segments
//! are percent-encoded: every byte other than `A-Z a-z 0-9 - . _ ~` becomes
//! `%XX`, and a segment that is exactly `.` or `..` has its dots encoded.
//!
//! | node | URI |
//! | --- | --- |
//! | catalog (`dcat:Catalog`) | `{site}/` |
//! | dataset (`dcat:Dataset`) | `{site}/dataset/{id}` (`name` if `id` is missing, a blank node if both are) |
//! | distribution (`dcat:Distribution`) | `{site}/dataset/{id}/resource/{resource id}` (a blank node without a resource id or dataset id) |
//! | publisher (`foaf:Organization`) | `{site}/organization/{organization id}` (`name` if `id` is missing, else a blank node) |
//! | theme (`dcat:theme`) | `{site}/group/{group name}` |
//! | contact point (`vcard:Organization`) | extras `contact_uri` when it is an absolute http(s) URL, else a blank node |
//! | page (`hydra:PagedCollection`) | [`page_url`]`(paging.base, paging.page)` |
//!
//! External URLs (landing pages, resource URLs, licence URLs, e-mail
//! addresses) are used only when they are absolute `http://`, `https://` or
//! (for e-mail) `mailto:` IRIs with a non-empty host; anything else is
//! skipped. The same cleaning applies to the site URL and the page URLs:
//!
//! - percent-encoded: controls, space, `<`, `>`, `"`, `{`, `}`, `|`, `\`, `^`,
//!   `` ` ``, `[` and `]` (except around an IPv6 host), a `%` not followed by
//!   two hex digits, a second `#`, non-ASCII characters outside RFC 3987's
//!   `ucschar`, and in the authority every non-ASCII character (full-width
//!   `／` or `：` in a host would otherwise break Python's `urllib`);
//! - a bracketed host that is not an IPv6 address makes the URL unusable;
//! - an empty query (`/a?` → `/a`) and empty parameters on the last path
//!   segment (`/a;` → `/a`) are dropped, as RDF/XML parsers built on `urllib`
//!   (rdflib) drop them, so that every syntax gives the same graph.
//!
//! Hydra page links are the cleaned IRIs of [`page_url`], written as plain
//! literals like ckanext-dcat writes them; when `Paging::base` is not an
//! absolute http(s) URL the page node is a blank node.
//!
//! # Mapping
//!
//! Dataset: `dct:title` (title), `dct:description` (notes), `dcat:keyword`
//! (each tag's name), `dct:identifier` (extras `identifier`, else id),
//! `dct:issued` / `dct:modified` (metadata_created / metadata_modified),
//! `owl:versionInfo` (version), `dcat:landingPage` (url, typed
//! `foaf:Document`), `dct:language` (extras `language`, a code or a JSON
//! list of codes, else the site language), `dct:publisher`
//! (the organisation, `foaf:Organization` with `foaf:name` = title or name),
//! `dcat:contactPoint` (`vcard:Organization` with `vcard:fn` and
//! `vcard:hasEmail <mailto:…>`, from extras `contact_name` / `contact_email`,
//! else maintainer / maintainer_email, else author / author_email),
//! `dcat:theme` (groups), `dct:license`, `dcat:distribution`.
//!
//! Distribution: `dct:title` (name), `dct:description`, `dcat:accessURL`
//! (url) plus `dcat:downloadURL` when url_type is `upload`, `dct:format`
//! (format) and `dcat:mediaType` (mimetype) — a format that looks like a
//! media type (`text/csv`) with no other mimetype becomes `dcat:mediaType`,
//! as in ckanext-dcat, and http(s) values are written as IRIs —,
//! `dcat:byteSize` (size), `dct:issued` / `dct:modified` (created /
//! last_modified), `dct:license`.
//!
//! Catalogue: `dct:title`, `dct:description`, `dct:language`,
//! `foaf:homepage` (`{site}/`), `dct:modified` (if given), `dcat:dataset`.
//! Page: `hydra:totalItems`, `hydra:itemsPerPage`, `hydra:firstPage`,
//! `hydra:lastPage` (`ceil(total / per page)`, at least 1), `hydra:nextPage`
//! and `hydra:previousPage` when they exist.
//!
//! Extras `spatial` and `temporal` are ignored. Missing, null, blank or
//! wrongly typed values are skipped; no input makes these functions panic.
//!
//! # Literals
//!
//! Strings are plain literals without a language tag, like ckanext-dcat
//! writes them. Characters that XML 1.0 forbids (U+0000–U+0008, U+000B,
//! U+000C, U+000E–U+001F, U+FFFE, U+FFFF) are dropped in every syntax, so the
//! four formats always give isomorphic graphs. Timestamps (CKAN's naive ISO
//! times, which mean UTC) become `xsd:dateTime` values in UTC with a `Z`
//! (`2026-11-22T03:46:26.123456Z`); a bare date becomes `xsd:date`; anything
//! unparsable is kept as a plain literal, as ckanext-dcat does. Sizes are
//! `xsd:decimal`, Hydra counts `xsd:integer`, Hydra page links plain literals.
//!
//! # Licences
//!
//! `dct:license` (on the dataset and on every distribution, typed
//! `dct:LicenseDocument`) is `license_url` when that is an absolute http(s)
//! URL, else `license_id` when that is one, else the id looked up in
//! [`license_uri`]'s table; with none of these no licence triple is written.
//!
//! # Modules
//!
//! DCAT is a protocol of the web layer: the `/catalog.*` routes and the
//! dataset pages' `{id}.ttl` links serve it; no service needs it.
//! `format` holds what is asked, `mapping` the package → graph mapping,
//! `rdf` the graph, `iri` the IRI cleaning, and `turtle`, `rdf_xml` and
//! `json_ld` one serialiser each.

mod format;
mod iri;
mod json_ld;
mod mapping;
mod rdf;
mod rdf_xml;
mod turtle;

#[cfg(test)]
mod tests;

pub use format::{Format, Paging, Site, license_uri, page_url};
pub use mapping::{catalog, dataset};
