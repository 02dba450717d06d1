//! URL-encoded data: form fields as submitted, parsing and encoding them,
//! and the one check every redirect target passes.

/// Submitted form fields in order; a name may repeat (check boxes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of `name`, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Every field's name, in order (a name given twice comes twice).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

/// Parses `application/x-www-form-urlencoded` bytes (invalid UTF-8 is replaced, never fatal).
pub fn parse_urlencoded(body: &[u8]) -> FormData {
    FormData(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// Percent-encodes a URL query component.
pub fn encode_component(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Where a redirect after signing in may go: only a path of this site. The
/// target is parsed as a browser parses it (WHATWG URL: tabs and newlines
/// removed, `\` read as `/`, leading spaces dropped) and resolved against
/// this origin; anything that lands elsewhere (`//evil.example`,
/// `/\t/evil.example`, `https://evil.example`) gives `default`. What comes
/// back is the parsed path, query and fragment, percent-encoded.
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    let Some(next) = next else {
        return default.to_string();
    };
    let Ok(base) = url::Url::parse("https://madoguchi.invalid/") else {
        return default.to_string();
    };
    match base.join(next) {
        Ok(target)
            if next.starts_with('/')
                && target.origin() == base.origin()
                && target.username().is_empty()
                && target.password().is_none() =>
        {
            let mut out = target.path().to_string();
            if let Some(q) = target.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = target.fragment() {
                out.push('#');
                out.push_str(f);
            }
            out
        }
        _ => default.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_kept_and_bad_bytes_are_not_fatal() {
        let f = parse_urlencoded(b"a=1&b=%E3%81%82&a=2&c=%FF");
        assert_eq!(f.get_all("a"), vec!["1", "2"]);
        assert_eq!(f.get("b"), Some("あ"));
        assert!(f.get("c").is_some());
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/applications"), "/"), "/applications");
        assert_eq!(safe_next(Some("//evil.example/"), "/"), "/");
        assert_eq!(safe_next(Some("https://evil.example/"), "/"), "/");
        assert_eq!(safe_next(Some("/\\evil.example"), "/"), "/");
        assert_eq!(safe_next(None, "/x"), "/x");
        // What browsers read as another host, however it is written.
        for evil in [
            "/\t/evil.example",
            "/%09/evil.example/..",
            "/\n/evil.example",
            " //evil.example",
            "\\evil.example",
            "/\\/evil.example",
            "https:evil.example",
            "applications",
            "javascript:alert(1)",
        ] {
            let to = safe_next(Some(evil), "/home");
            assert!(
                to == "/home" || (to.starts_with('/') && !to.starts_with("//")),
                "{evil:?} → {to:?}"
            );
            assert!(
                !to.contains("evil.example") || to.starts_with("/%"),
                "{evil:?} → {to:?}"
            );
        }
        assert_eq!(safe_next(Some("/\t/evil.example"), "/home"), "/home");
        assert_eq!(
            safe_next(Some("/procedures/3/apply?x=1#top"), "/"),
            "/procedures/3/apply?x=1#top"
        );
        assert_eq!(safe_next(Some("/a b"), "/"), "/a%20b");
    }
}
