//! IRIs that every RDF parser reads alike: path segments, percent-encoding
//! of what an IRI may not carry, http(s) and `mailto:` IRIs.

/// A path segment: everything but RFC 3986 unreserved characters is
/// percent-encoded, and the dot segments `.` and `..` are encoded too.
pub(super) fn segment(s: &str) -> String {
    if s == "." || s == ".." {
        return s.replace('.', "%2E");
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

fn push_pct(out: &mut String, b: u8) {
    out.push('%');
    for nibble in [b >> 4, b & 0x0f] {
        // Below 16: always a hex digit, written in upper case.
        out.extend(char::from_digit(u32::from(nibble), 16).map(|c| c.to_ascii_uppercase()));
    }
}

/// RFC 3987 `ucschar`.
fn ucschar(c: char) -> bool {
    let cp = u32::from(c);
    let plane = cp >> 16;
    let low = cp & 0xffff;
    matches!(cp, 0xa0..=0xd7ff | 0xf900..=0xfdcf | 0xfdf0..=0xffef)
        || ((1..=13).contains(&plane) && low <= 0xfffd)
        || (plane == 14 && (0x1000..=0xfffd).contains(&low))
}

/// Percent-encodes what may not appear in an IRI: controls, space, `<>"{}|\^``,
/// `[` and `]` (IPv6 host literals are handled by [`encode_authority`]), a `%`
/// that does not start a `%XX` escape, a second `#`, and non-ASCII characters
/// outside `ucschar`. In an authority every non-ASCII character and `@` are
/// encoded as well: Python's `urllib` (used by rdflib's RDF/XML parser)
/// rejects hosts whose NFKC form contains `/?#@:`, such as full-width `／`.
fn encode_iri_part(s: &str, authority: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut fragment = false;
    for (i, c) in s.char_indices() {
        match c {
            '%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                out.push_str(if hex { "%" } else { "%25" });
            }
            '#' if fragment => out.push_str("%23"),
            '#' => {
                fragment = true;
                out.push('#');
            }
            '@' if authority => out.push_str("%40"),
            c if c.is_ascii_graphic()
                && !matches!(
                    c,
                    '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`' | '[' | ']'
                ) =>
            {
                out.push(c)
            }
            c if !authority && !c.is_ascii() && ucschar(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    push_pct(&mut out, b);
                }
            }
        }
    }
    out
}

/// The authority of an http(s) IRI, encoded; `None` when the host is empty or
/// a bracketed host is not an IPv6 address with an optional numeric port.
fn encode_authority(auth: &str) -> Option<String> {
    let (userinfo, hostport) = match auth.rfind('@') {
        Some(i) => (auth.get(..i), auth.get(i + 1..)?),
        None => (None, auth),
    };
    if hostport.is_empty() || hostport.starts_with(':') {
        return None;
    }
    let mut out = String::with_capacity(auth.len());
    if let Some(u) = userinfo {
        out.push_str(&encode_iri_part(u, true));
        out.push('@');
    }
    if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if host.parse::<std::net::Ipv6Addr>().is_err() || !port_ok {
            return None;
        }
        out.push('[');
        out.push_str(host);
        out.push(']');
        out.push_str(after);
    } else {
        out.push_str(&encode_iri_part(hostport, true));
    }
    Some(out)
}

/// Drops an empty query (`/a?` → `/a`) and empty path parameters on the last
/// segment (`/a;` → `/a`), which `urllib` loses when rdflib's RDF/XML parser
/// resolves IRIs, so that every syntax gives the same graph.
fn normalise_tail(tail: &str) -> String {
    let (before_fragment, fragment) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
    let (path, query) =
        before_fragment.split_at(before_fragment.find('?').unwrap_or(before_fragment.len()));
    let query = if query == "?" { "" } else { query };
    let last = path.rfind('/').map_or(0, |i| i + 1);
    let path = match path.get(last..).and_then(|segment| segment.find(';')) {
        Some(j) if last + j + 1 == path.len() => path.get(..last + j).unwrap_or(path),
        _ => path,
    };
    format!("{path}{query}{fragment}")
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// An absolute `http://` or `https://` IRI (scheme lower-cased, forbidden
/// characters percent-encoded), or `None` for anything else.
pub(super) fn http_iri(raw: &str) -> Option<String> {
    let s = raw.trim();
    let (scheme, rest) = if let Some(rest) = strip_prefix_ci(s, "https://") {
        ("https://", rest)
    } else {
        ("http://", strip_prefix_ci(s, "http://")?)
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let authority = encode_authority(authority)?;
    let tail = normalise_tail(&encode_iri_part(tail, false));
    Some(format!("{scheme}{authority}{tail}"))
}

/// A `mailto:` IRI for an e-mail address (with or without the scheme).
pub(super) fn mailto(raw: &str) -> Option<String> {
    let s = raw.trim();
    let address = strip_prefix_ci(s, "mailto:").unwrap_or(s).trim();
    if address.is_empty() {
        return None;
    }
    Some(format!("mailto:{}", encode_iri_part(address, false)))
}
