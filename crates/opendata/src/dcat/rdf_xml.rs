//! RDF/XML: one `rdf:Description` per subject.

use super::rdf::{Graph, Node, Ns, Object, Used, xml_char};

/// XML character data / attribute value escaping. CR, LF and tab are written
/// as character references where XML would normalise them.
fn xml_escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

fn xml_node_attr(node: &Node, about: bool, out: &mut String) {
    match node {
        Node::Iri(iri) => {
            out.push_str(if about {
                "rdf:about=\""
            } else {
                "rdf:resource=\""
            });
            xml_escape(iri, true, out);
        }
        Node::Blank(n) => {
            out.push_str("rdf:nodeID=\"b");
            out.push_str(&n.to_string());
        }
    }
    out.push('"');
}

pub(super) fn rdf_xml(g: &Graph) -> String {
    let mut used = Used::new();
    used.mark(Ns::Rdf);
    let mut body = String::new();
    for s in &g.order {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        body.push_str("  <rdf:Description ");
        xml_node_attr(s, true, &mut body);
        body.push_str(">\n");
        for (p, objects) in props {
            used.mark(p.ns);
            for o in objects {
                body.push_str("    <");
                body.push_str(p.ns.prefix());
                body.push(':');
                body.push_str(p.local);
                match o {
                    Object::Node(n) => {
                        body.push(' ');
                        xml_node_attr(n, false, &mut body);
                        body.push_str("/>\n");
                    }
                    Object::Literal(v, dt) => {
                        if let Some(dt) = dt {
                            body.push_str(" rdf:datatype=\"");
                            xml_escape(&dt.iri(), true, &mut body);
                            body.push('"');
                        }
                        body.push('>');
                        xml_escape(v, false, &mut body);
                        body.push_str("</");
                        body.push_str(p.ns.prefix());
                        body.push(':');
                        body.push_str(p.local);
                        body.push_str(">\n");
                    }
                }
            }
        }
        body.push_str("  </rdf:Description>\n");
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
    for ns in used.namespaces() {
        out.push_str("\n  xmlns:");
        out.push_str(ns.prefix());
        out.push_str("=\"");
        out.push_str(ns.iri());
        out.push('"');
    }
    out.push_str(">\n");
    out.push_str(&body);
    out.push_str("</rdf:RDF>\n");
    out
}
