#!/usr/bin/env python3
"""The DCAT leg of the compatibility suite: rdflib, a real RDF client, parses
every format madoguchi serves for its catalogue and for one dataset.

    dcat_suite.py --url http://127.0.0.1:PORT [--dataset shiritsu-koen]

Runs after ckan_suite.py has seeded the instance (more than 100 public
datasets, so the catalogue has a second page). Reads the expected values
(title, tags, resources, publisher) from the CKAN API itself.

Prints one `PASS name` or `FAIL name: reason` line per check and a summary;
exits non-zero when any check fails.
"""

import argparse
import sys
import traceback

import requests
from rdflib import RDF, Graph, Literal, Namespace
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")

# extension -> (media type, rdflib parser)
FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "rdf": ("application/rdf+xml", "xml"),
    "xml": ("application/rdf+xml", "xml"),
    "jsonld": ("application/ld+json", "json-ld"),
    "n3": ("text/n3", "n3"),
}


class Fail(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise Fail(message)


def eq(actual, expected, what):
    if actual != expected:
        raise Fail(f"{what}: expected {short(expected)}, got {short(actual)}")


def short(value, limit=600):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


class Suite:
    def __init__(self, url, dataset):
        self.url = url.rstrip("/")
        self.dataset = dataset
        self.http = requests.Session()
        self.passed = 0
        self.failed = []

    def check(self, name, fn):
        try:
            fn()
        except Fail as e:
            self.failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - every error is a failed check
            self.failed.append(name)
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            print(f"FAIL {name}: {short(detail, 1500)}", flush=True)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)

    def action(self, name, **params):
        r = self.http.post(f"{self.url}/api/3/action/{name}", json=params, timeout=60)
        body = r.json()
        expect(body.get("success"), f"{name}: {short(body)}")
        return body["result"]

    def fetch(self, path, ext, params=None):
        """GETs path.ext, checks the media type, parses it with rdflib."""
        media, parser = FORMATS[ext]
        url = f"{self.url}{path}.{ext}"
        r = self.http.get(url, params=params, timeout=120)
        eq(r.status_code, 200, f"GET {path}.{ext} {params or ''} status")
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
        eq(ctype, media, f"{path}.{ext} Content-Type")
        g = Graph()
        try:
            g.parse(data=r.content, format=parser, publicID=url)
        except Exception as e:  # noqa: BLE001 - the parser's complaint is the finding
            raise Fail(f"rdflib cannot parse {path}.{ext} as {parser}: {e}\n{short(r.text, 800)}")
        expect(len(g) > 0, f"{path}.{ext}: empty graph")
        return g

    @staticmethod
    def datasets(g):
        return set(g.subjects(RDF.type, DCAT.Dataset))

    @staticmethod
    def titles(g):
        return {str(g.value(d, DCT.title)) for d in Suite.datasets(g)}

    @staticmethod
    def without_paging(g):
        """The graph less its Hydra paging description, whose node is named
        after the page's own URL (and so its extension)."""
        paging = {s for s, p, o in g if str(p).startswith(str(HYDRA)) or str(o).startswith(str(HYDRA))}
        out = Graph()
        for s, p, o in g:
            if s not in paging and not str(p).startswith(str(HYDRA)):
                out.add((s, p, o))
        return out

    @staticmethod
    def assert_isomorphic(g1, g2, what):
        if not isomorphic(g1, g2):
            _, only1, only2 = graph_diff(to_isomorphic(g1), to_isomorphic(g2))
            lines1 = sorted(" ".join(t.n3() for t in triple) for triple in only1)[:8]
            lines2 = sorted(" ".join(t.n3() for t in triple) for triple in only2)[:8]
            raise Fail(f"{what}: graphs differ\n  only in the first: {lines1}\n  only in the second: {lines2}")

    def run(self):
        pkg = self.action("package_show", id=self.dataset)
        graphs = {}

        def dataset_formats():
            for ext in FORMATS:
                graphs[ext] = self.fetch(f"/dataset/{self.dataset}", ext)

        self.check("GET /dataset/{name}.{ttl,rdf,xml,jsonld,n3}: media types, rdflib parses each", dataset_formats)

        def dataset_content():
            expect(graphs, "no graphs")
            for ext, g in graphs.items():
                found = self.datasets(g)
                eq(len(found), 1, f"{ext}: dcat:Dataset nodes")
                d = next(iter(found))
                eq([str(t) for t in g.objects(d, DCT.title)], [pkg["title"]], f"{ext}: dct:title")
                eq(sorted(str(k) for k in g.objects(d, DCAT.keyword)), sorted(t["name"] for t in pkg["tags"]),
                   f"{ext}: dcat:keyword")
                dists = list(g.objects(d, DCAT.distribution))
                eq(len(dists), pkg["num_resources"], f"{ext}: dcat:distribution count")
                urls = set()
                for dist in dists:
                    expect((dist, RDF.type, DCAT.Distribution) in g, f"{ext}: {dist} is a dcat:Distribution")
                    urls |= {str(u) for u in g.objects(dist, DCAT.accessURL)}
                    urls |= {str(u) for u in g.objects(dist, DCAT.downloadURL)}
                for res in pkg["resources"]:
                    expect(res["url"] in urls, f"{ext}: no accessURL/downloadURL {res['url']} in {sorted(urls)}")
                for dist in dists:
                    expect(g.value(dist, DCAT.accessURL) is not None, f"{ext}: {dist} has a dcat:accessURL")
                licences = list(g.objects(d, DCT.license))
                for dist in dists:
                    licences += list(g.objects(dist, DCT.license))
                expect(licences, f"{ext}: no dct:license on the dataset or its distributions")
                publisher = g.value(d, DCT.publisher)
                expect(publisher is not None, f"{ext}: no dct:publisher")
                literals = {str(o) for o in g.objects(publisher) if isinstance(o, Literal)}
                expect(pkg["organization"]["title"] in literals,
                       f"{ext}: the publisher is not named {pkg['organization']['title']!r}: {sorted(literals)}")

        self.check("dataset graph: dct:title, dcat:keyword per tag, distributions with accessURL, dct:license, "
                   "dct:publisher named as the organization", dataset_content)

        def dataset_isomorphic():
            expect(len(graphs) == len(FORMATS), "not every format was fetched")
            for ext, g in graphs.items():
                if ext != "ttl":
                    self.assert_isomorphic(graphs["ttl"], g, f"{self.dataset}.ttl vs .{ext}")

        self.check("the dataset's graph is the same (isomorphic) in every format", dataset_isomorphic)

        def by_id():
            g = self.fetch(f"/dataset/{pkg['id']}", "ttl")
            self.assert_isomorphic(graphs["ttl"], g, "by name vs by id")

        self.check("GET /dataset/{id}.ttl is the same graph as by name", by_id)

        def unknown():
            for ext in ("ttl", "jsonld"):
                r = self.http.get(f"{self.url}/dataset/no-such-dataset.{ext}", timeout=30)
                eq(r.status_code, 404, f"no-such-dataset.{ext} status")

        self.check("an unknown dataset's DCAT is 404", unknown)

        total = self.action("package_search", rows=0)["count"]
        pages = {}

        def catalog_formats():
            expect(total > 100, f"the instance has {total} datasets; the paging checks need more than 100")
            for ext in FORMATS:
                g = self.fetch("/catalog", ext)
                found = self.datasets(g)
                eq(len(found), 100, f"catalog.{ext}: datasets on page 1")
                catalogs = set(g.subjects(RDF.type, DCAT.Catalog))
                eq(len(catalogs), 1, f"catalog.{ext}: dcat:Catalog nodes")
                eq(set(g.objects(next(iter(catalogs)), DCAT.dataset)), found, f"catalog.{ext}: dcat:dataset links")
                pages[ext] = g

        self.check("GET /catalog.{ttl,rdf,xml,jsonld,n3}: media types, rdflib parses each, 100 datasets a page",
                   catalog_formats)

        def hydra():
            g = pages.get("ttl") or self.fetch("/catalog", "ttl")
            hydra_triples = [t for t in g if str(t[1]).startswith(str(HYDRA))]
            expect(hydra_triples, "page 1 has no Hydra paging triples")
            nexts = [str(o) for p in (HYDRA.next, HYDRA.nextPage) for o in g.objects(None, p)]
            expect(nexts and all("page=2" in n for n in nexts), f"page 1's next page link: {nexts}")
            totals = [o for o in g.objects(None, HYDRA.totalItems)]
            for t in totals:
                eq(int(t), total, "hydra:totalItems")
            g2 = self.fetch("/catalog", "ttl", {"page": "2"})
            second = self.datasets(g2)
            eq(len(second), total - 100, "datasets on page 2")
            expect(not (second & self.datasets(g)), "pages 1 and 2 share datasets")
            expect(any(str(t[1]).startswith(str(HYDRA)) for t in g2), "page 2 has no Hydra paging triples")
            prevs = [str(o) for p in (HYDRA.previous, HYDRA.previousPage) for o in g2.objects(None, p)]
            expect(prevs, "page 2 has no previous page link")
            every = {str(g.value(d, DCT.title)) for d in self.datasets(g)} | self.titles(g2)
            eq(len(every), total, "titles over both pages")

        self.check("catalog paging: Hydra triples, page=2 has the rest, no dataset twice", hydra)

        def catalog_q():
            small = {}
            for ext in FORMATS:
                g = self.fetch("/catalog", ext, {"q": "公園"})
                eq(self.titles(g), {"市立公園一覧"}, f"catalog.{ext}?q=公園")
                small[ext] = g
            for ext, g in small.items():
                if ext != "ttl":
                    self.assert_isomorphic(self.without_paging(small["ttl"]), self.without_paging(g),
                                           f"catalog.ttl?q=公園 vs .{ext} (less the Hydra paging node)")

        self.check("catalog ?q=公園: the one dataset, the same graph in every format (apart from Hydra paging)", catalog_q)

        def catalog_fq():
            fq = "organization:mie-kosodate"
            expected = {p["title"] for p in self.action("package_search", fq=fq, rows=1000)["results"]}
            expect(len(expected) >= 2, f"{fq} finds {expected}")
            eq(self.titles(self.fetch("/catalog", "ttl", {"fq": fq})), expected, f"catalog.ttl?fq={fq}")

        self.check("catalog ?fq=organization:…", catalog_fq)

        def modified_since():
            latest = self.action("package_search", sort="metadata_modified desc", rows=3)["results"]
            eq(len(latest), 3, "three datasets")
            since = latest[-1]["metadata_modified"]
            expected = {p["title"] for p in latest}
            got = self.titles(self.fetch("/catalog", "ttl", {"modified_since": since + "Z"}))
            eq(got, expected, f"catalog.ttl?modified_since={since}Z (inclusive)")
            got = self.titles(self.fetch("/catalog", "ttl", {"modified_since": "2999-01-01T00:00:00Z"}))
            eq(got, set(), "modified_since in the future")
            g = self.fetch("/catalog", "ttl", {"modified_since": "2024-01-01"})
            eq(len(self.datasets(g)), 100, "modified_since=2024-01-01: a full first page")

        self.check("catalog ?modified_since", modified_since)

        total_checks = self.passed + len(self.failed)
        print(f"dcat_suite: {self.passed} passed, {len(self.failed)} failed ({total_checks} checks)", flush=True)
        if self.failed:
            print("failed: " + ", ".join(self.failed), flush=True)
        return 1 if self.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--dataset", default="shiritsu-koen")
    args = p.parse_args()
    try:
        return Suite(args.url, args.dataset).run()
    except Exception as e:  # noqa: BLE001 - e.g. the instance is not reachable
        print(f"FAIL dcat_suite could not start: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
