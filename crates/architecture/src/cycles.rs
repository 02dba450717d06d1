//! Rings in the module graph: the strongly connected components (Tarjan).

use std::collections::HashMap;

use crate::model::{Edge, ModuleId, Workspace};

/// Crates of the workspace whose modules depend on each other in a ring.
/// Each entry is one ring (a strongly connected component), as module names.
pub fn cycles(ws: &Workspace, edges: &[Edge]) -> Vec<Vec<ModuleId>> {
    let mut out = Vec::new();
    for name in ws.crates.keys() {
        let nodes: Vec<ModuleId> = ws.crates[name]
            .modules
            .keys()
            .map(|p| ModuleId {
                krate: name.clone(),
                path: p.clone(),
            })
            .collect();
        let index: HashMap<&ModuleId, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
        let mut adj = vec![Vec::new(); nodes.len()];
        for e in edges {
            if let (Some(&a), Some(&b)) = (index.get(&e.from), index.get(&e.to)) {
                adj[a].push(b);
            }
        }
        for scc in tarjan(&adj) {
            if scc.len() > 1 {
                let mut ring: Vec<ModuleId> = scc.into_iter().map(|i| nodes[i].clone()).collect();
                ring.sort();
                out.push(ring);
            }
        }
    }
    out
}

fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adj[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(scc);
        }
    }
    let n = adj.len();
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}
