//! JSON-LD: a `@context` of the prefixes used and a `@graph` of nodes.

use super::rdf::{Graph, Node, Object, RDF_TYPE, Used, split_iri, xml_char};

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if !xml_char(c) => {}
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_node_id(node: &Node, out: &mut String) {
    match node {
        Node::Iri(iri) => json_string(iri, out),
        Node::Blank(n) => json_string(&format!("_:b{n}"), out),
    }
}

pub(super) fn json_ld(g: &Graph) -> String {
    let mut used = Used::new();
    let mut body = String::new();
    for (k, s) in g.order.iter().enumerate() {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        body.push_str(if k == 0 {
            "\n    {\n      \"@id\": "
        } else {
            ",\n    {\n      \"@id\": "
        });
        json_node_id(s, &mut body);
        for (p, objects) in props {
            body.push_str(",\n      ");
            // rdf:type with IRI objects goes to @type; anything else stays a
            // property so nothing is lost.
            let types: Vec<&str> = if *p == RDF_TYPE {
                objects
                    .iter()
                    .filter_map(|o| match o {
                        Object::Node(Node::Iri(iri)) => Some(iri.as_str()),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if *p == RDF_TYPE && types.len() == objects.len() {
                body.push_str("\"@type\": [");
                for (j, t) in types.iter().enumerate() {
                    if j > 0 {
                        body.push_str(", ");
                    }
                    match split_iri(t) {
                        Some((ns, local)) => {
                            used.mark(ns);
                            json_string(&format!("{}:{local}", ns.prefix()), &mut body);
                        }
                        None => json_string(t, &mut body),
                    }
                }
                body.push(']');
                continue;
            }
            used.mark(p.ns);
            json_string(&format!("{}:{}", p.ns.prefix(), p.local), &mut body);
            body.push_str(": [");
            for (j, o) in objects.iter().enumerate() {
                if j > 0 {
                    body.push_str(", ");
                }
                match o {
                    Object::Node(n) => {
                        body.push_str("{\"@id\": ");
                        json_node_id(n, &mut body);
                        body.push('}');
                    }
                    Object::Literal(v, dt) => {
                        body.push_str("{\"@value\": ");
                        json_string(v, &mut body);
                        if let Some(dt) = dt {
                            used.mark(dt.ns);
                            body.push_str(", \"@type\": ");
                            json_string(&format!("{}:{}", dt.ns.prefix(), dt.local), &mut body);
                        }
                        body.push('}');
                    }
                }
            }
            body.push(']');
        }
        body.push_str("\n    }");
    }
    let mut out = String::from("{\n  \"@context\": {");
    for (i, ns) in used.namespaces().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        json_string(ns.prefix(), &mut out);
        out.push_str(": ");
        json_string(ns.iri(), &mut out);
    }
    out.push_str("\n  },\n  \"@graph\": [");
    out.push_str(&body);
    out.push_str("\n  ]\n}\n");
    out
}
