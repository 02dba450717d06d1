//! Turtle (and N3, the same text): prefixed names where they are safe,
//! `a` for `rdf:type`.

use super::rdf::{Graph, Node, Object, RDF_TYPE, Used, split_iri, xml_char};

fn turtle_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out.push('"');
}

fn turtle_iri(iri: &str, used: &mut Used, out: &mut String) {
    if let Some((ns, local)) = split_iri(iri) {
        used.mark(ns);
        out.push_str(ns.prefix());
        out.push(':');
        out.push_str(local);
    } else {
        out.push('<');
        out.push_str(iri);
        out.push('>');
    }
}

fn turtle_node(node: &Node, used: &mut Used, out: &mut String) {
    match node {
        Node::Iri(iri) => turtle_iri(iri, used, out),
        Node::Blank(n) => {
            out.push_str("_:b");
            out.push_str(&n.to_string());
        }
    }
}

pub(super) fn turtle(g: &Graph) -> String {
    let mut used = Used::new();
    let mut body = String::new();
    for s in &g.order {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        turtle_node(s, &mut used, &mut body);
        for (i, (p, objects)) in props.iter().enumerate() {
            body.push_str(if i == 0 { " " } else { " ;\n    " });
            if *p == RDF_TYPE {
                body.push('a');
            } else {
                used.mark(p.ns);
                body.push_str(p.ns.prefix());
                body.push(':');
                body.push_str(p.local);
            }
            for (j, o) in objects.iter().enumerate() {
                body.push_str(if j == 0 { " " } else { ",\n        " });
                match o {
                    Object::Node(n) => turtle_node(n, &mut used, &mut body),
                    Object::Literal(v, dt) => {
                        turtle_string(v, &mut body);
                        if let Some(dt) = dt {
                            used.mark(dt.ns);
                            body.push_str("^^");
                            body.push_str(dt.ns.prefix());
                            body.push(':');
                            body.push_str(dt.local);
                        }
                    }
                }
            }
        }
        body.push_str(" .\n\n");
    }
    let mut out = String::new();
    for ns in used.namespaces() {
        out.push_str("@prefix ");
        out.push_str(ns.prefix());
        out.push_str(": <");
        out.push_str(ns.iri());
        out.push_str("> .\n");
    }
    out.push('\n');
    out.push_str(&body);
    out
}
