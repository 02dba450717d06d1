//! In-memory search engine behind the CKAN `package_search` action.
//!
//! CKAN hands searching to Solr; this module replaces Solr for a catalogue of
//! some tens of thousands of datasets. It understands the subset of the
//! Lucene/Solr query syntax that CKAN clients send in `q` and `fq`, CKAN's
//! sort strings, and facet counting.
//!
//! Free text is matched Japanese-aware: document text and query terms are
//! normalised (NFKC, lowercase, katakana folded to hiragana, whitespace
//! collapsed) and a term matches when it is a substring of the normalised
//! text, so `公園` finds `市立公園一覧` without any word segmentation. A
//! posting list of character bigrams (and single characters) narrows the
//! candidates before the substring check.
//!
//! The engine is domain logic, pure and without I/O: the catalogue's service
//! builds one [`Doc`] per dataset and keeps an [`Index`] of them; the CKAN
//! adapter and the pages turn their parameters into a [`SearchRequest`].
//!
//! - `doc` and `request`: what is indexed, asked and answered;
//! - `text` and `grams`: normalisation and the n-gram posting lists;
//! - `fields`, `interner` and `entry`: the searchable fields and an indexed
//!   document;
//! - `parser`, `query` and `dates`: the query language, compiled into
//!   predicates, with Solr's date math;
//! - `sort` and `facets`: ordering hits and counting facet values;
//! - `index`: the index itself.

mod dates;
mod doc;
mod entry;
mod facets;
mod fields;
mod grams;
mod index;
mod interner;
mod parser;
mod query;
mod request;
mod sort;
mod text;

#[cfg(test)]
mod tests;

pub use doc::Doc;
pub use index::Index;
pub use request::{SearchError, SearchRequest, SearchResult};
