#!/usr/bin/env python3
"""The CKAN compatibility suite: drives a running madoguchi with unmodified
real clients, the `ckanapi` library (RemoteCKAN) and the `ckanapi` command
line, plus raw HTTP for what the clients do not show (the response envelope,
request encodings, token headers).

    ckan_suite.py --url http://127.0.0.1:PORT_A --token TOKEN_A \
                  --url-b http://127.0.0.1:PORT_B --token-b TOKEN_B \
                  --ckanapi .venv/bin/ckanapi [--ngsi-out FILE] [--work DIR]

Instance A must be fresh (no datasets, only the installation's own
organisation); instance B must be empty too: the suite seeds A, checks every
search pattern, mutation, upload and error class on it, then migrates A into
B with `ckanapi dump` / `ckanapi load` and compares the dumps.

Prints one `PASS name` or `FAIL name: reason` line per check and a summary;
exits non-zero when any check fails. With --ngsi-out it writes what the NGSI
check (ngsi.mjs) needs: the standard dataset's NGSI resource and its rows.
"""

import argparse
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback

# ckanapi reads its request timeout when imported; the CLI workers inherit it.
os.environ.setdefault("CKANAPI_REQUEST_TIMEOUT", "60")

import requests  # noqa: E402
from ckanapi import RemoteCKAN  # noqa: E402
from ckanapi.errors import (  # noqa: E402
    CKANAPIError,
    NotAuthorized,
    NotFound,
    SearchQueryError,
    ValidationError,
)

# ---------------------------------------------------------------------------
# The data the suite seeds. Every search check computes its expected result
# from this model, so each filter is checked against a set it must change.

ORGS = [
    {"name": "mie-toshi", "title": "三重県 県土整備部", "description": "道路と河川を担当します。"},
    {"name": "mie-kosodate", "title": "三重県 子ども・福祉部", "description": "こども家庭支援を担当します。"},
    {"name": "mie-toukei", "title": "三重県 統計課", "description": "県の統計表を作成します。"},
]

GROUPS = [
    {"name": "kanko", "title": "観光", "description": "観光に関するデータ"},
    {"name": "kosodate", "title": "子育て", "description": "子育てに関するデータ"},
    {"name": "bousai", "title": "防災", "description": "防災に関するデータ"},
]

SITE = "https://www.pref.mie.example.jp/opendata"

FEATURED = [
    {
        "name": "shiritsu-koen",
        "title": "市立公園一覧",
        "notes": "津市内の市立公園の名称、所在地、面積の一覧です。",
        "org": "mie-toshi",
        "tags": ["公園", "緑", "都市計画"],
        "groups": ["kanko"],
        "license_id": "cc-by-4.0",
        "extras": {"update_frequency": "年次", "target_area": "津市"},
        "resources": [
            ("公園一覧（CSV）", "CSV", SITE + "/koen.csv"),
            ("公園マップ", "PDF", SITE + "/koen.pdf"),
        ],
    },
    {
        "name": "kosodate-shien",
        "title": "子育て支援施設一覧",
        "notes": "子育て支援センターや児童館の所在地と開館時間です。",
        "org": "mie-kosodate",
        "tags": ["子育て", "福祉"],
        "groups": ["kosodate"],
        "license_id": "gov-jp-2.0",
        "extras": {"update_frequency": "月次"},
        "resources": [("施設一覧", "PDF", SITE + "/shien.pdf")],
    },
    {
        "name": "hoikusho",
        "title": "保育所一覧",
        "notes": "子育て世帯向けに、県内の保育所の所在地と定員をまとめました。",
        "org": "mie-kosodate",
        "tags": ["子育て", "保育"],
        "groups": ["kosodate"],
        "license_id": "pdl-1.0",
        "extras": {"update_frequency": "年次"},
        "resources": [("保育所一覧（CSV）", "CSV", SITE + "/hoikusho.csv")],
    },
    {
        "name": "kanko-spot",
        "title": "観光スポット一覧",
        "notes": "県内の観光スポットの名称と所在地です。",
        "org": "mie-toshi",
        "tags": ["観光", "海"],
        "groups": ["kanko"],
        "license_id": "cc-zero",
        "extras": {"update_frequency": "随時"},
        "resources": [
            ("観光スポット（CSV）", "CSV", SITE + "/kanko.csv"),
            ("観光パンフレット", "PDF", SITE + "/kanko.pdf"),
        ],
    },
    {
        "name": "hinanjo",
        "title": "指定緊急避難場所一覧",
        "notes": "災害時に使う指定緊急避難場所の一覧です。",
        "org": "mie-toshi",
        "tags": ["防災", "避難所", "海岸"],
        "groups": ["bousai"],
        "license_id": "cc-by-4.0",
        "extras": {"update_frequency": "随時"},
        "resources": [("避難場所（CSV）", "CSV", SITE + "/hinanjo.csv")],
    },
    {
        "name": "sakujo-yotei",
        "title": "削除予定データ",
        "notes": "論理削除の確認に使います。",
        "org": "mie-kosodate",
        "tags": ["テスト"],
        "groups": [],
        "license_id": "cc-by-4.0",
        "extras": {},
        "resources": [],
    },
]

BULK = [
    {
        "name": f"toukei-{i:03d}",
        "title": f"統計表 第{i:03d}表",
        "notes": "三重県の統計表です。",
        "org": "mie-toukei",
        "tags": ["統計"],
        "groups": [],
        "license_id": "cc-by-4.0",
        "extras": {},
        "resources": [],
    }
    for i in range(1, 106)
]

AED = {
    "name": "aed-secchi",
    "title": "AED設置箇所一覧",
    "notes": "津市内のAED（自動体外式除細動器）の設置箇所です。",
    "org": "mie-kosodate",
    "extras": {"standard_template": "aed"},
}

# 所在地_連結表記 and 設置位置 are required (◎) in the AED template.
AED_ROWS = [
    {"ID": "AED-001", "名称": "三重県庁", "所在地_連結表記": "三重県津市広明町13番地", "設置位置": "1階 正面玄関",
     "緯度": "34.730283", "経度": "136.508588"},
    {"ID": "AED-002", "名称": "津市役所", "所在地_連結表記": "三重県津市西丸之内23番1号", "設置位置": "本庁舎1階 総合案内",
     "緯度": "34.718596", "経度": "136.505698"},
    {"ID": "AED-003", "名称": "津駅", "所在地_連結表記": "三重県津市羽所町", "設置位置": "改札口横",
     "緯度": "34.734077", "経度": "136.510940"},
]

LICENCES = {
    "cc-by-4.0": None,
    "cc-zero": None,
    "pdl-1.0": "公共データ利用規約",
    "gov-jp-2.0": "政府標準利用規約",
}

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")

PACKAGE_KEYS = {
    "author": (str, type(None)),
    "author_email": (str, type(None)),
    "creator_user_id": (str,),
    "extras": (list,),
    "groups": (list,),
    "id": (str,),
    "isopen": (bool,),
    "license_id": (str, type(None)),
    "license_title": (str, type(None)),
    "maintainer": (str, type(None)),
    "maintainer_email": (str, type(None)),
    "metadata_created": (str,),
    "metadata_modified": (str,),
    "name": (str,),
    "notes": (str, type(None)),
    "num_resources": (int,),
    "num_tags": (int,),
    "organization": (dict,),
    "owner_org": (str,),
    "private": (bool,),
    "resources": (list,),
    "state": (str,),
    "tags": (list,),
    "title": (str,),
    "type": (str,),
    "url": (str, type(None)),
    "version": (str, type(None)),
}

RESOURCE_KEYS = {
    "id": (str,),
    "package_id": (str,),
    "name": (str, type(None)),
    "description": (str, type(None)),
    "format": (str, type(None)),
    "url": (str,),
    "url_type": (str, type(None)),
    "created": (str,),
    "last_modified": (str, type(None)),
    "metadata_modified": (str, type(None)),
    "mimetype": (str, type(None)),
    "size": (int, type(None)),
    "hash": (str, type(None)),
    "position": (int,),
    "state": (str,),
}

ORGANIZATION_KEYS = {
    "id": (str,),
    "name": (str,),
    "title": (str,),
    "description": (str, type(None)),
    "image_url": (str, type(None)),
    "created": (str,),
    "is_organization": (bool,),
    "approval_status": (str, type(None)),
    "state": (str,),
    "type": (str,),
}


class Fail(Exception):
    pass


class Abort(Exception):
    """A check the rest of its section depends on failed."""


def expect(cond, message):
    if not cond:
        raise Fail(message)


def eq(actual, expected, what):
    if actual != expected:
        raise Fail(f"{what}: expected {short(expected)}, got {short(actual)}")


def short(value, limit=600):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_ts(value):
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f")


def raises(exc_class, fn, *args, **kwargs):
    """Calls fn and returns the exception it raised, which must be exactly exc_class."""
    try:
        result = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class is checked below
        if type(e) is not exc_class:
            raise Fail(f"expected {exc_class.__name__}, got {type(e).__name__}: {short(str(e))}")
        return e
    raise Fail(f"expected {exc_class.__name__}, got a result: {short(result)}")


def deep_diff(a, b, path="$", out=None, limit=25):
    """Where two JSON values differ, as `path: a != b` lines."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if type(a) is not type(b):
        out.append(f"{path}: {short(a, 200)} != {short(b, 200)}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: missing on the left, right has {short(b[k], 200)}")
            elif k not in b:
                out.append(f"{path}.{k}: missing on the right, left has {short(a[k], 200)}")
            else:
                deep_diff(a[k], b[k], f"{path}.{k}", out, limit)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)} items: {short(a, 300)} != {short(b, 300)}")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                deep_diff(x, y, f"{path}[{i}]", out, limit)
    elif a != b:
        out.append(f"{path}: {short(a, 200)} != {short(b, 200)}")
    return out


# ---------------------------------------------------------------------------
# Normalising a dump for the comparison of two instances.
#
# What may legitimately differ between the dump of A and the dump of B after
# `ckanapi load`, and nothing else:
# - identifiers each instance generates: the `id` of datasets, resources,
#   organizations, groups and tags (and every occurrence of such an id inside
#   another value: `owner_org`, `package_id`, ids inside URLs), replaced by a
#   label naming the object (`<package:NAME>`, `<resource:NAME#POSITION>`,
#   `<organization:NAME>`, `<group:NAME>`, `<tag:NAME>`); the user who created
#   a record (`creator_user_id`, each instance has its own token user) and
#   `revision_id`;
# - timestamps of when each instance wrote a record: `metadata_created`,
#   `metadata_modified`, `created`, `last_modified` (a string becomes
#   `<timestamp>`; null stays null, so a lost value still shows);
# - the two instances' own base URLs (they run on different ports), replaced
#   by `<site>` wherever they occur.
# Keys are never dropped: a key present on one side only is a difference.

TIMESTAMP_KEYS = {"metadata_created", "metadata_modified", "created", "last_modified"}
USER_KEYS = {"creator_user_id"}
REVISION_KEYS = {"revision_id"}
TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def id_labels(kind, records):
    labels = {}

    def put(value, label):
        if isinstance(value, str) and value:
            labels.setdefault(value, label)

    for rec in records:
        if kind == "datasets":
            put(rec.get("id"), f"<package:{rec.get('name')}>")
            org = rec.get("organization") or {}
            put(org.get("id"), f"<organization:{org.get('name')}>")
            for g in rec.get("groups") or []:
                put(g.get("id"), f"<group:{g.get('name')}>")
            for t in rec.get("tags") or []:
                put(t.get("id"), f"<tag:{t.get('name')}>")
            for i, r in enumerate(rec.get("resources") or []):
                put(r.get("id"), f"<resource:{rec.get('name')}#{r.get('position', i)}>")
        else:
            put(rec.get("id"), f"<{kind}:{rec.get('name')}>")
            for g in rec.get("groups") or []:
                put(g.get("id"), f"<group:{g.get('name')}>")
            for t in rec.get("tags") or []:
                put(t.get("id"), f"<tag:{t.get('name')}>")
            for p in rec.get("packages") or []:
                put(p.get("id"), f"<package:{p.get('name')}>")
            for u in rec.get("users") or []:
                put(u.get("id"), f"<user:{u.get('name')}>")
    return labels


def normalise(value, labels, bases, key=None):
    if isinstance(value, dict):
        return {k: normalise(v, labels, bases, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, labels, bases, key) for v in value]
    if isinstance(value, str):
        if key in TIMESTAMP_KEYS:
            return "<timestamp>"
        if key in USER_KEYS:
            return "<user>"
        if key in REVISION_KEYS:
            return "<revision>"
        if value in labels:
            return labels[value]
        for base in bases:
            value = value.replace(base, "<site>")
        return TOKEN.sub(lambda m: labels.get(m.group(0), m.group(0)), value)
    return value


def read_jsonl(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f if line.strip()]


def normalised_dump(kind, path, bases):
    records = read_jsonl(path)
    labels = id_labels(kind, records)
    return {rec["name"]: normalise(rec, labels, bases) for rec in records}


# ---------------------------------------------------------------------------


class Suite:
    def __init__(self, args):
        self.args = args
        self.url = args.url.rstrip("/")
        self.url_b = args.url_b.rstrip("/")
        self.token = args.token
        self.token_b = args.token_b
        self.ckan = RemoteCKAN(self.url, apikey=self.token)
        self.anon = RemoteCKAN(self.url)
        self.getter = RemoteCKAN(self.url, get_only=True)
        self.ckan_b = RemoteCKAN(self.url_b, apikey=self.token_b)
        self.http = requests.Session()
        self.work = args.work or tempfile.mkdtemp(prefix="madoguchi-compat-")
        os.makedirs(self.work, exist_ok=True)
        self.passed = 0
        self.failed = []
        self.model = {}  # name -> record of the seed, with id/mm/mc from the server
        self.created_order = []
        self.orgs = {}  # name -> organization dict from A
        self.started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        env = dict(os.environ)
        bindir = os.path.dirname(os.path.abspath(args.ckanapi))
        # The CLI starts its workers as `ckanapi` from PATH.
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        self.cli_env = env

    # -- running checks --------------------------------------------------

    def check(self, name, fn, fatal=False):
        try:
            fn()
        except (Fail, AssertionError) as e:
            self.failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
            if fatal:
                raise Abort(name)
        except Exception as e:  # noqa: BLE001 - every error is a failed check
            self.failed.append(name)
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            print(f"FAIL {name}: {short(detail, 1500)}", flush=True)
            if fatal:
                raise Abort(name)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)

    # -- helpers ---------------------------------------------------------

    def api(self, action, base=None):
        return f"{base or self.url}/api/3/action/{action}"

    def cli(self, *args, check=True):
        proc = subprocess.run(
            [self.args.ckanapi, *args],
            env=self.cli_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise Fail(
                f"`ckanapi {' '.join(args)}` exited {proc.returncode}:\n"
                f"{proc.stdout.decode(errors='replace')[-2000:]}\n{proc.stderr.decode(errors='replace')[-3000:]}"
            )
        return proc

    def dataset_dict(self, spec):
        d = {
            "name": spec["name"],
            "title": spec["title"],
            "notes": spec["notes"],
            "owner_org": spec["org"],
            "tags": [{"name": t} for t in spec.get("tags", [])],
            "groups": [{"name": g} for g in spec.get("groups", [])],
            "extras": [{"key": k, "value": v} for k, v in spec.get("extras", {}).items()],
            "resources": [{"name": n, "format": f, "url": u} for (n, f, u) in spec.get("resources", [])],
        }
        if spec.get("license_id"):
            d["license_id"] = spec["license_id"]
        return d

    def remember(self, spec, pkg):
        rec = {
            "name": spec["name"],
            "title": spec["title"],
            "org": spec["org"],
            "tags": set(spec.get("tags", [])),
            "groups": set(spec.get("groups", [])),
            "formats": {f for (_, f, _) in spec.get("resources", [])},
            "license_id": spec.get("license_id"),
            "extras": dict(spec.get("extras", {})),
            "id": pkg["id"],
            "mm": pkg["metadata_modified"],
            "mc": pkg["metadata_created"],
            "active": True,
        }
        self.model[spec["name"]] = rec
        self.created_order.append(spec["name"])

    def refresh(self, name):
        pkg = self.ckan.action.package_show(id=name)
        self.model[name]["mm"] = pkg["metadata_modified"]
        self.model[name]["mc"] = pkg["metadata_created"]
        return pkg

    def active(self, pred=lambda d: True):
        return {n for n, d in self.model.items() if d["active"] and pred(d)}

    def search(self, client=None, **params):
        params.setdefault("rows", 1000)
        r = (client or self.ckan).action.package_search(**params)
        names = [p["name"] for p in r["results"]]
        expect(len(names) == len(set(names)), f"a dataset appears twice in the results: {names}")
        if r["count"] <= params["rows"] and not params.get("start"):
            eq(len(names), r["count"], f"number of results for {params} (count says)")
        return r, names

    def expect_names(self, params, expected, client=None):
        r, names = self.search(client, **params)
        got = set(names)
        if got != expected:
            raise Fail(
                f"{short(params)}: missing {sorted(expected - got)}, unexpected {sorted(got - expected)[:20]}"
                f" ({len(got)} results, {len(expected)} expected)"
            )
        return r, names

    def facet_counts(self, field, names):
        counts = {}
        for n in names:
            d = self.model[n]
            values = {
                "organization": {d["org"]},
                "groups": d["groups"],
                "tags": d["tags"],
                "res_format": d["formats"],
                "license_id": {d["license_id"]} if d["license_id"] else set(),
            }[field]
            for v in values:
                counts[v] = counts.get(v, 0) + 1
        return counts

    def check_facets(self, result, fields, names, what):
        facets = result.get("facets")
        expect(isinstance(facets, dict), f"{what}: no `facets` dict: {short(result.get('facets'))}")
        eq(set(facets), set(fields), f"{what}: facet fields")
        search_facets = result.get("search_facets")
        expect(isinstance(search_facets, dict), f"{what}: no `search_facets` dict")
        eq(set(search_facets), set(fields), f"{what}: search_facets fields")
        for field in fields:
            eq(facets[field], self.facet_counts(field, names), f"{what}: facets[{field}]")
            sf = search_facets[field]
            expect(isinstance(sf.get("title"), str), f"{what}: search_facets[{field}].title")
            items = sf.get("items")
            expect(isinstance(items, list), f"{what}: search_facets[{field}].items")
            for item in items:
                expect(
                    isinstance(item.get("name"), str) and isinstance(item.get("display_name"), str)
                    and isinstance(item.get("count"), int),
                    f"{what}: search_facets item {short(item)}",
                )
            eq({i["name"]: i["count"] for i in items}, facets[field], f"{what}: search_facets[{field}] vs facets")

    def raw(self, method, action, base=None, **kwargs):
        r = self.http.request(method, self.api(action, base), timeout=60, **kwargs)
        try:
            body = r.json()
        except ValueError:
            raise Fail(f"{method} {action}: not JSON ({r.status_code}): {short(r.text)}")
        return r, body

    # -- the checks --------------------------------------------------------

    def run(self):
        # (section, whether every later section depends on it)
        sections = [
            (self.basics, True),
            (self.seed, True),
            (self.package_dict, False),
            (self.searches, False),
            (self.mutations, False),
            (self.uploads, False),
            (self.errors, False),
            (self.encodings, False),
            (self.standard_dataset, False),
            (self.migration, False),
        ]
        for section, critical in sections:
            try:
                section()
            except Abort as e:
                if critical:
                    print(f"ABORTED: every later check depends on `{e}`", flush=True)
                    break
                print(f"SKIPPED the rest of {section.__name__}: it depends on `{e}`", flush=True)
        total = self.passed + len(self.failed)
        print(f"ckan_suite: {self.passed} passed, {len(self.failed)} failed ({total} checks)", flush=True)
        if self.failed:
            print("failed: " + ", ".join(self.failed), flush=True)
        return 1 if self.failed else 0

    def basics(self):
        def status_show():
            s = self.anon.action.status_show()
            expect(isinstance(s.get("ckan_version"), str) and s["ckan_version"], f"ckan_version: {short(s)}")
            eq(s.get("locale_default"), "ja", "locale_default")

        self.check("status_show has ckan_version and locale_default ja", status_show, fatal=True)

        def envelope():
            for base_path in ("/api/3/action/", "/api/action/"):
                r = self.http.get(self.url + base_path + "status_show", timeout=30)
                eq(r.status_code, 200, f"GET {base_path}status_show status")
                expect(
                    r.headers.get("Content-Type", "").startswith("application/json"),
                    f"{base_path}: Content-Type {r.headers.get('Content-Type')}",
                )
                body = r.json()
                expect({"help", "success", "result"} <= set(body), f"{base_path}: envelope keys {sorted(body)}")
                expect(isinstance(body["help"], str), "help is a string")
                eq(body["success"], True, "success")

        self.check("envelope {help, success, result} on /api/3/action and /api/action", envelope)

        def licences():
            lics = self.anon.action.license_list()
            by_id = {lic.get("id"): lic for lic in lics}
            for lid, title_part in LICENCES.items():
                expect(lid in by_id, f"licence {lid} missing from {sorted(by_id)}")
                expect(isinstance(by_id[lid].get("title"), str), f"licence {lid} has a title")
                if title_part:
                    expect(title_part in by_id[lid]["title"], f"licence {lid} title {by_id[lid]['title']!r}")

        self.check("license_list has cc-by-4.0, cc-zero, pdl-1.0 (公共データ利用規約), gov-jp-2.0 (政府標準利用規約)", licences)

        def cli_status():
            out = self.cli("action", "status_show", "-r", self.url).stdout
            eq(json.loads(out).get("locale_default"), "ja", "ckanapi action status_show locale_default")

        self.check("ckanapi CLI: action status_show", cli_status)

        def empty():
            eq(self.ckan.action.package_list(), [], "package_list of instance A")
            eq(self.ckan_b.action.package_list(), [], "package_list of instance B")

        self.check("both instances start without datasets", empty, fatal=True)

    def seed(self):
        def orgs():
            for org in ORGS:
                created = self.ckan.action.organization_create(**org)
                eq(created.get("name"), org["name"], "organization_create name")
                eq(created.get("title"), org["title"], "organization_create title")
                self.orgs[org["name"]] = created
            names = self.anon.action.organization_list()
            for org in ORGS:
                expect(org["name"] in names, f"organization_list lacks {org['name']}: {names}")
            expect("mie-prefecture" in names, f"the installation's organisation mie-prefecture is listed: {names}")

        self.check("organization_create (3 organizations) and organization_list", orgs, fatal=True)

        def groups():
            for g in GROUPS:
                created = self.ckan.action.group_create(**g)
                eq(created.get("name"), g["name"], "group_create name")
            names = self.anon.action.group_list()
            eq(sorted(n for n in names if n in {g["name"] for g in GROUPS}), sorted(g["name"] for g in GROUPS), "group_list")

        self.check("group_create (3 groups) and group_list", groups, fatal=True)

        def featured():
            for spec in FEATURED:
                pkg = self.ckan.action.package_create(**self.dataset_dict(spec))
                eq(pkg.get("name"), spec["name"], "package_create returns the dataset")
                self.remember(spec, pkg)

        self.check("package_create: 6 datasets with tags, groups, extras, licences, CSV/PDF resources", featured, fatal=True)

        def bulk():
            for spec in BULK:
                pkg = self.ckan.action.package_create(**self.dataset_dict(spec))
                self.remember(spec, pkg)
            eq(len(self.anon.action.package_list()), len(FEATURED) + len(BULK), "package_list length")

        self.check("package_create: 105 more datasets (paging, default rows, DCAT pages)", bulk, fatal=True)

    def package_dict(self):
        def shape():
            pkg = self.anon.action.package_show(id="shiritsu-koen")
            for key, types in PACKAGE_KEYS.items():
                expect(key in pkg, f"package_show lacks `{key}`")
                expect(isinstance(pkg[key], types), f"`{key}` is {type(pkg[key]).__name__}: {short(pkg[key])}")
            eq(pkg["title"], "市立公園一覧", "title")
            eq(pkg["state"], "active", "state")
            eq(pkg["type"], "dataset", "type")
            eq(pkg["private"], False, "private")
            eq(pkg["num_resources"], len(pkg["resources"]), "num_resources")
            eq(pkg["num_tags"], len(pkg["tags"]), "num_tags")
            eq(pkg["num_resources"], 2, "num_resources")
            eq(sorted(t["name"] for t in pkg["tags"]), sorted(["公園", "緑", "都市計画"]), "tags")
            for t in pkg["tags"]:
                expect(isinstance(t.get("display_name"), str), f"tag display_name: {t}")
            eq({(e["key"], e["value"]) for e in pkg["extras"]}, {("update_frequency", "年次"), ("target_area", "津市")}, "extras")
            eq([g.get("name") for g in pkg["groups"]], ["kanko"], "groups")
            org = pkg["organization"]
            for key, types in ORGANIZATION_KEYS.items():
                expect(key in org, f"organization lacks `{key}`")
                expect(isinstance(org[key], types), f"organization `{key}` is {type(org[key]).__name__}")
            eq(org["name"], "mie-toshi", "organization.name")
            eq(org["title"], "三重県 県土整備部", "organization.title")
            eq(pkg["owner_org"], org["id"], "owner_org is the organization's id")
            eq(org["id"], self.orgs["mie-toshi"]["id"], "organization id as organization_create gave it")
            eq(org["is_organization"], True, "organization.is_organization")
            for i, res in enumerate(pkg["resources"]):
                for key, types in RESOURCE_KEYS.items():
                    expect(key in res, f"resource {i} lacks `{key}`")
                    expect(isinstance(res[key], types), f"resource `{key}` is {type(res[key]).__name__}")
                eq(res["package_id"], pkg["id"], "resource.package_id")
                eq(res["position"], i, "resource.position")
                expect(TIMESTAMP.match(res["created"]), f"resource.created format {res['created']!r}")
            eq([r["format"] for r in pkg["resources"]], ["CSV", "PDF"], "resource formats")
            eq(pkg["resources"][0]["url"], SITE + "/koen.csv", "link resource url kept")
            eq(pkg["license_id"], "cc-by-4.0", "license_id")
            lics = {lic["id"]: lic for lic in self.anon.action.license_list()}
            eq(pkg["license_title"], lics["cc-by-4.0"]["title"], "license_title is the licence's title")
            eq(pkg["isopen"], True, "isopen for cc-by-4.0")

        self.check("package_show: CKAN's keys and types (organization, resources, tags, extras, groups, num_*, isopen, license_title)", shape)

        def timestamps():
            pkg = self.anon.action.package_show(id="shiritsu-koen")
            for key in ("metadata_created", "metadata_modified"):
                expect(TIMESTAMP.match(pkg[key]), f"{key} {pkg[key]!r} is not naive ISO-8601 with microseconds")
            created, modified = parse_ts(pkg["metadata_created"]), parse_ts(pkg["metadata_modified"])
            expect(created <= modified, "metadata_created <= metadata_modified")
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            slack = dt.timedelta(minutes=5)
            expect(
                self.started - slack <= created <= now + slack,
                f"metadata_created {pkg['metadata_created']} is UTC (suite started {self.started.isoformat()}Z)",
            )

        self.check("metadata_created/metadata_modified: naive UTC ISO-8601 with microseconds", timestamps)

        def by_id():
            pkg = self.anon.action.package_show(id=self.model["hoikusho"]["id"])
            eq(pkg["name"], "hoikusho", "package_show by id")

        self.check("package_show by id", by_id)

    def searches(self):
        # The last modified dataset is now shiritsu-koen, so orders by
        # metadata_modified and by metadata_created differ.
        def patch_first():
            pkg = self.ckan.action.package_patch(id="shiritsu-koen", version="1.0")
            eq(pkg["version"], "1.0", "patched version")
            # Every dataset's timestamps as package_show gives them.
            for name in self.model:
                self.refresh(name)
            latest = max(self.model.values(), key=lambda d: parse_ts(d["mm"]))
            eq(latest["name"], "shiritsu-koen", "the patched dataset is the last modified")

        self.check("package_patch before searching (metadata_modified moves)", patch_first, fatal=True)

        m = self.model

        cases = [
            ("q free text 公園 finds 市立公園一覧", {"q": "公園"}, lambda d: d["name"] == "shiritsu-koen"),
            ("q free text 子育て finds 子育て支援施設一覧 and 保育所一覧", {"q": "子育て"},
             lambda d: d["name"] in {"kosodate-shien", "hoikusho"}),
            ("q with fq", {"q": "子育て", "fq": "license_id:pdl-1.0"}, lambda d: d["name"] == "hoikusho"),
            ("fq field:value (organization by name)", {"fq": "organization:mie-kosodate"},
             lambda d: d["org"] == "mie-kosodate"),
            ('fq field:"phrase" (title)', {"fq": 'title:"子育て支援施設"'}, lambda d: d["name"] == "kosodate-shien"),
            ('fq field:"phrase" (tags)', {"fq": 'tags:"都市計画"'}, lambda d: "都市計画" in d["tags"]),
            ("fq -field:value", {"fq": "-organization:mie-toukei"}, lambda d: d["org"] != "mie-toukei"),
            ("fq field:value -field:value", {"fq": "tags:子育て -license_id:pdl-1.0"},
             lambda d: "子育て" in d["tags"] and d["license_id"] != "pdl-1.0"),
            ("fq +field:value +field:value", {"fq": "+tags:子育て +license_id:pdl-1.0"},
             lambda d: "子育て" in d["tags"] and d["license_id"] == "pdl-1.0"),
            ("fq OR", {"fq": "tags:観光 OR tags:防災"}, lambda d: bool({"観光", "防災"} & d["tags"])),
            ("fq AND", {"fq": "organization:mie-toshi AND res_format:PDF"},
             lambda d: d["org"] == "mie-toshi" and "PDF" in d["formats"]),
            ("fq parentheses", {"fq": "res_format:CSV AND (groups:kanko OR groups:bousai)"},
             lambda d: "CSV" in d["formats"] and bool({"kanko", "bousai"} & d["groups"])),
            ("fq parentheses with a negated group",
             {"fq": "(tags:子育て OR tags:観光) AND -(license_id:cc-zero OR license_id:pdl-1.0)"},
             lambda d: bool({"子育て", "観光"} & d["tags"]) and d["license_id"] not in {"cc-zero", "pdl-1.0"}),
            ("fq metadata_modified:[2024-01-01T00:00:00Z TO *]",
             {"fq": "metadata_modified:[2024-01-01T00:00:00Z TO *]"}, lambda d: True),
            ("fq metadata_modified:[* TO 2024-01-01T00:00:00Z]",
             {"fq": "metadata_modified:[* TO 2024-01-01T00:00:00Z]"}, lambda d: False),
            ("fq metadata_modified:[2024-01-01T00:00:00Z TO NOW]",
             {"fq": "metadata_modified:[2024-01-01T00:00:00Z TO NOW]"}, lambda d: True),
            ("fq id:\"…\"", {"fq": f'id:"{m["kosodate-shien"]["id"]}"'}, lambda d: d["name"] == "kosodate-shien"),
            ("fq tags: one-kanji tag 海 (not 海岸)", {"fq": "tags:海"}, lambda d: "海" in d["tags"]),
            ("fq tags: one-kanji tag 緑", {"fq": "tags:緑"}, lambda d: "緑" in d["tags"]),
            ("fq groups:", {"fq": "groups:kosodate"}, lambda d: "kosodate" in d["groups"]),
            ("fq res_format:", {"fq": "res_format:PDF"}, lambda d: "PDF" in d["formats"]),
            ("fq license_id:", {"fq": "license_id:gov-jp-2.0"}, lambda d: d["license_id"] == "gov-jp-2.0"),
            ("fq license_id: cc-zero", {"fq": "license_id:cc-zero"}, lambda d: d["license_id"] == "cc-zero"),
            ("fq extras_<key>:", {"fq": "extras_update_frequency:月次"},
             lambda d: d["extras"].get("update_frequency") == "月次"),
            ("fq extras_<key>: (two matches)", {"fq": "extras_update_frequency:年次"},
             lambda d: d["extras"].get("update_frequency") == "年次"),
            ("fq_list (JSON list)", {"fq_list": ["tags:子育て", "license_id:pdl-1.0"]},
             lambda d: "子育て" in d["tags"] and d["license_id"] == "pdl-1.0"),
            ("fq_list with fq", {"fq": "organization:mie-toshi", "fq_list": ["res_format:CSV", "-tags:海"]},
             lambda d: d["org"] == "mie-toshi" and "CSV" in d["formats"] and "海" not in d["tags"]),
        ]
        for name, params, pred in cases:
            self.check(f"package_search {name}", lambda p=params, f=pred: self.expect_names(p, self.active(f)))

        def ranges():
            ordered = sorted(self.active(), key=lambda n: parse_ts(m[n]["mm"]))
            pivot = m["kanko-spot"]["mm"]
            expected = {n for n in ordered if parse_ts(m[n]["mm"]) >= parse_ts(pivot)}
            expect(0 < len(expected) < len(ordered), "the pivot splits the datasets")
            expect("kosodate-shien" not in expected and "shiritsu-koen" in expected, "pivot sanity")
            self.expect_names({"fq": f"metadata_modified:[{pivot}Z TO *]"}, expected)
            self.expect_names({"fq": f"metadata_modified:[{pivot}Z TO NOW]"}, expected)

        self.check("package_search fq metadata_modified:[<a dataset's metadata_modified>Z TO *] and TO NOW", ranges)

        def anonymous_search():
            self.expect_names({"q": "公園"}, self.active(lambda d: d["name"] == "shiritsu-koen"), client=self.anon)

        self.check("package_search anonymous", anonymous_search)

        def get_request():
            self.expect_names(
                {"fq_list": ["tags:子育て", "license_id:pdl-1.0"], "q": "保育"},
                {"hoikusho"},
                client=self.getter,
            )

        self.check("package_search over GET (RemoteCKAN get_only: repeated fq_list keys)", get_request)

        def cli_search():
            out = self.cli("action", "package_search", "q=公園", "rows:5", "-j", "-r", self.url).stdout
            r = json.loads(out)
            eq([p["name"] for p in r["results"]], ["shiritsu-koen"], "ckanapi action package_search q=公園")
            out = self.cli(
                "action", "package_search", 'fq_list:["tags:子育て", "license_id:pdl-1.0"]', "-g", "-j", "-r", self.url
            ).stdout
            eq([p["name"] for p in json.loads(out)["results"]], ["hoikusho"], "ckanapi action -g fq_list")

        self.check("ckanapi CLI: action package_search (POST KEY=STRING, GET -g KEY:JSON list)", cli_search)

        # rows, start, sort, paging
        not_bulk = "-organization:mie-toukei"

        def default_rows():
            r = self.ckan.action.package_search(fq="organization:mie-toukei")
            eq(r["count"], 105, "count")
            eq(len(r["results"]), 10, "results without rows (default 10)")

        self.check("package_search rows defaults to 10", default_rows)

        def rows_start():
            everything = sorted(self.active(lambda d: d["org"] == "mie-toukei"))
            r = self.ckan.action.package_search(fq="organization:mie-toukei", rows=3, sort="name asc")
            eq([p["name"] for p in r["results"]], everything[:3], "rows=3")
            r = self.ckan.action.package_search(fq="organization:mie-toukei", rows=5, start=5, sort="name asc")
            eq([p["name"] for p in r["results"]], everything[5:10], "rows=5 start=5")
            eq(r["count"], 105, "count with start")
            r = self.ckan.action.package_search(fq="organization:mie-toukei", rows=5, start=200)
            eq(r["results"], [], "start past the end")
            r = self.ckan.action.package_search(fq="organization:mie-toukei", rows=0, **{"facet.field": ["tags"]})
            eq((r["count"], r["results"]), (105, []), "rows=0")

        self.check("package_search rows and start", rows_start)

        def rows_cap():
            r = self.ckan.action.package_search(rows=5000)
            total = len(self.active())
            eq(r["count"], total, "count")
            eq(len(r["results"]), min(total, 1000), "rows above 1000 are capped, not an error")

        self.check("package_search rows=5000 accepted (capped at 1000)", rows_cap)

        def paging():
            seen = []
            start = 0
            while True:
                r = self.anon.action.package_search(rows=7, start=start, sort="id asc")
                page = [p["id"] for p in r["results"]]
                if not page:
                    break
                seen.extend(page)
                start += 7
                expect(start < 1000, "paging does not end")
            expect(len(seen) == len(set(seen)), "a dataset came twice while paging")
            eq(seen, sorted(seen), "ids ascending across pages")
            eq(set(seen), {m[n]["id"] for n in self.active()}, "every dataset exactly once")
            names = set(self.anon.action.package_list())
            eq(names, self.active(), "package_list")

        self.check("paging with sort=id asc returns every dataset exactly once", paging)

        def sorts():
            names_asc = sorted(self.active(lambda d: d["org"] != "mie-toukei"))
            _, got = self.search(fq=not_bulk, sort="name asc")
            eq(got, names_asc, "sort=name asc")
            _, got = self.search(fq=not_bulk, sort="id asc")
            eq(got, sorted(names_asc, key=lambda n: m[n]["id"]), "sort=id asc")
            by_title = sorted(names_asc, key=lambda n: m[n]["title"])
            _, got = self.search(fq=not_bulk, sort="title_string asc")
            eq([m[n]["title"] for n in got], [m[n]["title"] for n in by_title], "sort=title_string asc (code point order)")
            _, got = self.search(fq=not_bulk, sort="title_string desc")
            eq([m[n]["title"] for n in got], [m[n]["title"] for n in reversed(by_title)], "sort=title_string desc")
            by_mm = sorted(names_asc, key=lambda n: parse_ts(m[n]["mm"]), reverse=True)
            eq(by_mm[0], "shiritsu-koen", "model: last modified first")
            _, got = self.search(fq=not_bulk, sort="metadata_modified desc")
            eq(got, by_mm, "sort=metadata_modified desc")
            by_mc = [n for n in reversed(self.created_order) if n in names_asc]
            _, got = self.search(fq=not_bulk, sort="metadata_created desc")
            eq(got, by_mc, "sort=metadata_created desc (reverse creation order)")
            _, got = self.search(fq=not_bulk, sort="score desc, metadata_modified desc")
            eq(got, by_mm, "sort=score desc, metadata_modified desc without q")
            _, got = self.search(q="子育て", sort="score desc, metadata_modified desc")
            eq(set(got), {"kosodate-shien", "hoikusho"}, "sort=score desc, metadata_modified desc with q")

        self.check("package_search sort: id, name, title_string asc/desc, metadata_modified, metadata_created, score", sorts)

        # facets
        fields = ["organization", "groups", "tags", "res_format", "license_id"]

        def facets_json_list():
            r, names = self.search(**{"facet.field": fields})
            self.check_facets(r, fields, names, "facet.field as a JSON list")
            r, names = self.search(fq=not_bulk, **{"facet.field": fields})
            self.check_facets(r, fields, names, "facet.field as a JSON list, with fq")

        self.check("facet.field as a JSON list (POST JSON)", facets_json_list)

        def facets_json_string():
            r, names = self.search(fq=not_bulk, **{"facet.field": json.dumps(["tags", "license_id"])})
            self.check_facets(r, ["tags", "license_id"], names, "facet.field as a JSON string")

        self.check("facet.field as a JSON string (POST JSON)", facets_json_string)

        def facets_get_encodings():
            expected_names = sorted(self.active(lambda d: d["org"] != "mie-toukei"))
            for label, params, fs in [
                ("JSON string", [("fq", not_bulk), ("rows", "1000"), ("facet.field", '["tags","license_id"]')],
                 ["tags", "license_id"]),
                ("repeated keys", [("fq", not_bulk), ("rows", "1000"), ("facet.field", "tags"),
                                   ("facet.field", "license_id")], ["tags", "license_id"]),
                ("single bare value", [("fq", not_bulk), ("rows", "1000"), ("facet.field", "tags")], ["tags"]),
            ]:
                r, body = self.raw("GET", "package_search", params=params)
                eq(r.status_code, 200, f"GET facet.field {label}: status ({short(body)})")
                result = body["result"]
                eq(sorted(p["name"] for p in result["results"]), expected_names, f"GET facet.field {label}: results")
                self.check_facets(result, fs, expected_names, f"GET facet.field {label}")
            r = self.getter.action.package_search(fq=not_bulk, rows=1000, **{"facet.field": ["groups", "res_format"]})
            self.check_facets(r, ["groups", "res_format"], expected_names, "RemoteCKAN get_only facet.field list")

        self.check("facet.field over GET: JSON string, repeated keys, single bare value, get_only list", facets_get_encodings)

        def facet_limit():
            r, names = self.search(**{"facet.field": ["tags"], "facet.limit": 1})
            counts = self.facet_counts("tags", names)
            top = max(counts.items(), key=lambda kv: kv[1])
            eq(r["facets"]["tags"], {top[0]: top[1]}, "facet.limit=1")
            eq(len(r["search_facets"]["tags"]["items"]), 1, "facet.limit=1 search_facets items")

        self.check("facet.limit", facet_limit)

        def facet_mincount():
            r, names = self.search(fq=not_bulk, **{"facet.field": ["tags"], "facet.mincount": 2})
            counts = {k: v for k, v in self.facet_counts("tags", names).items() if v >= 2}
            eq(counts, {"子育て": 2}, "model sanity")
            eq(r["facets"]["tags"], counts, "facet.mincount=2")

        self.check("facet.mincount", facet_mincount)

        def results_equal_show():
            r, _ = self.search(fq=not_bulk)
            for p in r["results"]:
                shown = self.anon.action.package_show(id=p["id"])
                d = deep_diff(p, shown)
                expect(not d, f"{p['name']}: search result != package_show:\n  " + "\n  ".join(d))

        self.check("package_search results are equal to package_show", results_equal_show)


    def mutations(self):
        def patch():
            before = self.ckan.action.package_show(id="hinanjo")
            after = self.ckan.action.package_patch(id="hinanjo", notes="災害時に使う指定緊急避難場所の一覧です（令和8年4月更新）。")
            eq(after["notes"], "災害時に使う指定緊急避難場所の一覧です（令和8年4月更新）。", "patched notes")
            expect(parse_ts(after["metadata_modified"]) > parse_ts(before["metadata_modified"]), "metadata_modified moves")
            shown = self.ckan.action.package_show(id="hinanjo")
            eq(shown["notes"], after["notes"], "package_show after patch")
            strip = lambda p: {  # noqa: E731
                **{k: v for k, v in p.items() if k not in ("notes", "metadata_modified")},
                "resources": [{k: v for k, v in r.items() if k != "metadata_modified"} for r in p["resources"]],
            }
            d = deep_diff(strip(before), strip(shown))
            expect(not d, "package_patch changed other fields:\n  " + "\n  ".join(d))

        self.check("package_patch changes only the given field", patch)

        def update_keeps_resources():
            before = self.ckan.action.package_show(id="kanko-spot")
            data = {k: v for k, v in before.items() if k != "resources"}
            data["title"] = "観光スポット一覧（令和8年度）"
            after = self.ckan.action.package_update(**data)
            eq(after["title"], "観光スポット一覧（令和8年度）", "updated title")
            eq([r["id"] for r in after["resources"]], [r["id"] for r in before["resources"]], "resources kept")
            eq(after["num_resources"], 2, "num_resources")
            eq(sorted(t["name"] for t in after["tags"]), ["海", "観光"], "tags kept")
            eq([g["name"] for g in after["groups"]], ["kanko"], "groups kept")
            self.model["kanko-spot"]["title"] = after["title"]

        self.check("package_update without `resources` keeps them", update_keeps_resources)

        def update_replaces():
            before = self.ckan.action.package_show(id="kanko-spot")
            data = dict(before)
            data["resources"] = before["resources"][:1]
            data["tags"] = before["tags"] + [{"name": "旅行"}]
            after = self.ckan.action.package_update(**data)
            eq([r["id"] for r in after["resources"]], [before["resources"][0]["id"]], "resources replaced")
            eq(sorted(t["name"] for t in after["tags"]), ["旅行", "海", "観光"], "tags replaced")
            data = dict(after)
            data["resources"] = after["resources"] + [
                {"name": "観光パンフレット", "format": "PDF", "url": SITE + "/kanko.pdf"}
            ]
            data["tags"] = [t for t in after["tags"] if t["name"] != "旅行"]
            again = self.ckan.action.package_update(**data)
            eq(again["num_resources"], 2, "resource added back")
            eq(again["resources"][0]["id"], before["resources"][0]["id"], "kept resource keeps its id")

        self.check("package_update with `resources` and `tags` replaces them", update_replaces)

        def delete():
            self.ckan.action.package_delete(id="sakujo-yotei")
            self.model["sakujo-yotei"]["active"] = False
            owner = self.ckan.action.package_show(id="sakujo-yotei")
            eq(owner["state"], "deleted", "package_show by the owner after package_delete")
            raises(NotFound, self.anon.action.package_show, id="sakujo-yotei")
            _, names = self.search(q="論理削除")
            expect("sakujo-yotei" not in names, "deleted dataset still in package_search")
            _, names = self.search(fq="organization:mie-kosodate")
            expect("sakujo-yotei" not in names, "deleted dataset still in package_search by organization")
            expect("sakujo-yotei" not in self.anon.action.package_list(), "deleted dataset in package_list")
            expect("sakujo-yotei" not in self.ckan.action.package_list(), "deleted dataset in the owner's package_list")

        self.check("package_delete is soft: state deleted for the owner, NotFound for anonymous, gone from search and package_list", delete)

    def uploads(self):
        sjis = "施設名,所在地,定員\r\n津中央保育園,津市西丸之内,120\r\n".encode("shift_jis")
        blob = bytes(range(256)) * 40 + b"\x00\r\n\x1a end"

        def library_upload():
            res = self.ckan.action.resource_create(
                package_id="hoikusho",
                name="保育所一覧（Shift_JIS）",
                format="CSV",
                upload=("hoikusho-sjis.csv", io.BytesIO(sjis)),
            )
            eq(res.get("url_type"), "upload", "url_type")
            expect(res.get("url", "").startswith(self.url + "/"), f"download url on the instance: {res.get('url')}")
            expect(res["url"].endswith("/hoikusho-sjis.csv"), f"download url ends with the file name: {res['url']}")
            eq(res.get("size"), len(sjis), "size")
            got = self.http.get(res["url"], timeout=60)
            eq(got.status_code, 200, "download status")
            expect(got.content == sjis, f"downloaded {len(got.content)} bytes differ from the {len(sjis)} uploaded")
            pkg = self.ckan.action.package_show(id="hoikusho")
            eq(pkg["num_resources"], 2, "num_resources after upload")
            eq(pkg["resources"][-1], res, "package_show's resource == resource_create's result")
            eq(self.anon.action.resource_show(id=res["id"]), res, "resource_show")

        self.check("resource_create upload (library, multipart) then download identical bytes", library_upload)

        def cli_upload():
            path = os.path.join(self.work, "binary.dat")
            with open(path, "wb") as f:
                f.write(blob)
            out = self.cli(
                "action", "resource_create", "package_id=hoikusho", "name=バイナリ", "format=BIN",
                f"upload@{path}", "-j", "-r", self.url, "-a", self.token,
            ).stdout
            res = json.loads(out)
            eq(res.get("url_type"), "upload", "url_type")
            got = self.http.get(res["url"], timeout=60)
            eq(got.status_code, 200, "download status")
            expect(got.content == blob, "downloaded bytes differ from the uploaded file")

        self.check("ckanapi CLI: action resource_create upload@FILE then download identical bytes", cli_upload)

        def too_large():
            before = self.ckan.action.package_show(id="hoikusho")["num_resources"]
            big = b"a,b\r\n" + b"1,2\r\n" * 300_000  # 1.5 MB
            e = raises(
                ValidationError,
                self.ckan.action.resource_create,
                package_id="hoikusho",
                name="too large",
                upload=("big.csv", io.BytesIO(big)),
            )
            eq(e.error_dict.get("upload"), ["File upload too large"], f"error dict {short(e.error_dict)}")
            eq(e.error_dict.get("__type"), "Validation Error", "__type")
            r = self.http.post(
                self.api("resource_create"),
                headers={"Authorization": self.token},
                data={"package_id": "hoikusho", "name": "too large"},
                files={"upload": ("big.csv", big)},
                timeout=60,
            )
            eq(r.status_code, 409, "status")
            body = r.json()
            eq(body.get("success"), False, "success")
            eq(body["error"].get("upload"), ["File upload too large"], "error.upload")
            eq(self.ckan.action.package_show(id="hoikusho")["num_resources"], before, "nothing added")

        self.check("upload above the configured size: 409 {upload: [File upload too large]} (ValidationError)", too_large)

    def errors(self):
        def not_found():
            raises(NotFound, self.anon.action.package_show, id="no-such-dataset")
            raises(NotFound, self.ckan.action.package_update, id="no-such-dataset", name="no-such-dataset", title="x",
                   owner_org="mie-toshi")
            raises(NotFound, self.anon.action.organization_show, id="no-such-organization")
            raises(NotFound, self.anon.action.resource_show, id="no-such-resource")
            r, body = self.raw("POST", "package_show", json={"id": "no-such-dataset"})
            eq(r.status_code, 404, "status")
            eq(body.get("success"), False, "success")
            eq(body["error"].get("__type"), "Not Found Error", "__type")
            expect(isinstance(body["error"].get("message"), str), "error.message")
            expect(isinstance(body.get("help"), str), "help")

        self.check("Not Found Error: 404, ckanapi raises NotFound", not_found)

        def not_authorized():
            raises(NotAuthorized, self.anon.action.package_create, name="anonymous-write", owner_org="mie-toshi")
            raises(NotAuthorized, self.anon.action.package_patch, id="hinanjo", notes="x")
            raises(NotAuthorized, self.anon.action.package_delete, id="hinanjo")
            raises(NotAuthorized, self.anon.action.organization_create, name="anonymous-org")
            raises(NotAuthorized, self.anon.action.resource_create, package_id="hinanjo", url=SITE + "/x.csv")
            r, body = self.raw("POST", "package_create", json={"name": "anonymous-write", "owner_org": "mie-toshi"})
            eq(r.status_code, 403, "status")
            eq(body.get("success"), False, "success")
            eq(body["error"].get("__type"), "Authorization Error", "__type")
            raises(NotFound, self.anon.action.package_show, id="anonymous-write")

        self.check("Authorization Error: anonymous writes 403, ckanapi raises NotAuthorized", not_authorized)

        def validation():
            e = raises(ValidationError, self.ckan.action.package_create, name="不正 な名前", owner_org="mie-toshi")
            expect(isinstance(e.error_dict.get("name"), list) and e.error_dict["name"]
                   and all(isinstance(x, str) for x in e.error_dict["name"]), f"error_dict: {short(e.error_dict)}")
            e = raises(ValidationError, self.ckan.action.package_create, name="shiritsu-koen", owner_org="mie-toshi")
            expect(e.error_dict.get("name"), f"duplicate name: {short(e.error_dict)}")
            r, body = self.raw("POST", "package_create", json={"name": "BAD NAME", "owner_org": "mie-toshi"},
                               headers={"Authorization": self.token})
            eq(r.status_code, 409, "status")
            eq(body["error"].get("__type"), "Validation Error", "__type")
            expect(isinstance(body["error"].get("name"), list), f"field-keyed messages: {short(body['error'])}")

        self.check("Validation Error: 409 with field-keyed messages, ckanapi raises ValidationError", validation)

        def search_query_error():
            raises(SearchQueryError, self.anon.action.package_search, fq="tags:(子育て OR")
            raises(SearchQueryError, self.anon.action.package_search, fq="metadata_modified:[2024-01-01T00:00:00Z TO")
            r, body = self.raw("GET", "package_search", params={"fq": "tags:(子育て OR"})
            eq(r.status_code, 400, "status")
            eq(body["error"].get("__type"), "Search Query Error", "__type")

        self.check("Search Query Error: 400, ckanapi raises SearchQueryError", search_query_error)

        def unknown_action():
            r = self.http.post(self.api("no_such_action"), json={}, timeout=30)
            eq(r.status_code, 400, "status")
            body = r.json()
            expect(isinstance(body, str), f"bare JSON string, got {short(body)}")
            e = raises(CKANAPIError, self.anon.call_action, "no_such_action", {})
            expect("400" in str(e), f"ckanapi's message names the status: {e}")

        self.check("unknown action: 400 with a bare JSON string (CKANAPIError)", unknown_action)

    def encodings(self):
        def get_repeated():
            r, body = self.raw("GET", "package_search",
                               params=[("fq_list", "tags:子育て"), ("fq_list", "license_id:pdl-1.0"), ("rows", "50")])
            eq(r.status_code, 200, f"status ({short(body)})")
            eq([p["name"] for p in body["result"]["results"]], ["hoikusho"], "results")
            r, body = self.raw("GET", "package_show", params={"id": "shiritsu-koen"})
            eq(body["result"]["name"], "shiritsu-koen", "GET package_show?id=")

        self.check("GET with query parameters and repeated keys", get_repeated)

        def form():
            r, body = self.raw("POST", "package_search", data={"q": "公園", "rows": "5"})
            eq(r.status_code, 200, f"status ({short(body)})")
            eq([p["name"] for p in body["result"]["results"]], ["shiritsu-koen"], "results")
            r, body = self.raw("POST", "package_patch", data={"id": "hinanjo", "version": "form"},
                               headers={"Authorization": self.token})
            eq(r.status_code, 200, f"status ({short(body)})")
            eq(body["result"]["version"], "form", "version written through a form")

        self.check("form-encoded body (read and write)", form)

        def single_json_key():
            for raw in (b'{"id":"shiritsu-koen"}', b'{"id":"shiritsu-koen"}='):
                r, body = self.raw("POST", "package_show", data=raw,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
                eq(r.status_code, 200, f"{raw!r}: status ({short(body)})")
                eq(body["result"]["name"], "shiritsu-koen", f"{raw!r}")
            r, body = self.raw("POST", "package_patch", data=b'{"id":"hinanjo","version":"json-key"}',
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Authorization": self.token})
            eq(r.status_code, 200, f"write: status ({short(body)})")
            eq(body["result"]["version"], "json-key", "version written through a form whose key is JSON")

        self.check("form whose single key is JSON (curl -d '{...}')", single_json_key)

        def multipart():
            r, body = self.raw("POST", "package_patch", files={"id": (None, "hinanjo"), "version": (None, "multipart")},
                               headers={"Authorization": self.token})
            eq(r.status_code, 200, f"status ({short(body)})")
            eq(body["result"]["version"], "multipart", "version written through multipart fields")

        self.check("multipart form fields without a file", multipart)

        def tokens():
            for label, headers in [
                ("Authorization: <token>", {"Authorization": self.token}),
                ("Authorization: Bearer <token>", {"Authorization": f"Bearer {self.token}"}),
                ("X-CKAN-API-Key: <token>", {"X-CKAN-API-Key": self.token}),
            ]:
                version = re.sub(r"[^a-z]", "", label.lower())[:20]
                r, body = self.raw("POST", "package_patch", json={"id": "hinanjo", "version": version}, headers=headers)
                eq(r.status_code, 200, f"{label}: status ({short(body)})")
                eq(body["result"]["version"], version, f"{label}: written")
            for label, headers in [
                ("no token", {}),
                ("wrong token", {"Authorization": "not-a-token"}),
                ("wrong bearer token", {"Authorization": "Bearer not-a-token"}),
            ]:
                r, body = self.raw("POST", "package_patch", json={"id": "hinanjo", "version": "x"}, headers=headers)
                eq(r.status_code, 403, f"{label}: status ({short(body)})")
                eq(body["error"].get("__type"), "Authorization Error", f"{label}: __type")

        self.check("tokens in Authorization, Authorization: Bearer, X-CKAN-API-Key; none or wrong → 403", tokens)

    def standard_dataset(self):
        state = {}

        def templates():
            for key in ("aed", "public_facility", "childcare_facility"):
                r = self.http.get(f"{self.url}/dataset/templates/{key}.csv", timeout=30)
                eq(r.status_code, 200, f"{key}.csv status")
                header = r.content.decode("utf-8-sig").splitlines()[0]
                cols = [c.strip().strip('"') for c in header.split(",")]
                for required in ("全国地方公共団体コード", "ID", "名称", "緯度", "経度"):
                    expect(required in cols, f"{key}.csv header lacks {required}: {cols}")
                if key == "aed":
                    state["columns"] = cols

        self.check("GET /dataset/templates/{aed,public_facility,childcare_facility}.csv: the header line", templates, fatal=True)

        def csv_of(rows):
            cols = state["columns"]
            lines = [",".join(cols)]
            for row in rows:
                full = {"全国地方公共団体コード": "242012", "地方公共団体名": "津市", **row}
                lines.append(",".join(full.get(c, "") for c in cols))
            return ("\r\n".join(lines) + "\r\n").encode("utf-8")

        def create():
            data = self.dataset_dict({**AED, "tags": [], "groups": [], "resources": []})
            pkg = self.ckan.action.package_create(**data)
            tags = {t["name"] for t in pkg["tags"]}
            expect({"自治体標準ODS", "AED設置箇所一覧"} <= tags, f"tags {sorted(tags)}")
            eq(pkg["license_id"], "cc-by-4.0", "licence defaults to cc-by-4.0")
            eq({e["key"]: e["value"] for e in pkg["extras"]}.get("standard_template"), "aed", "extras")

        self.check("a dataset with standard_template=aed is tagged 自治体標準ODS, AED設置箇所一覧, licence cc-by-4.0", create,
                   fatal=True)

        def bad_upload():
            rows = [dict(r) for r in AED_ROWS]
            rows[1]["全国地方公共団体コード"] = "242011"  # wrong check digit, line 3
            rows[2]["緯度"] = "北緯34度"  # not a number, line 4
            body = csv_of(rows)
            e = raises(ValidationError, self.ckan.action.resource_create, package_id="aed-secchi", name="AED設置箇所一覧",
                       format="CSV", upload=("aed.csv", io.BytesIO(body)))
            messages = []

            def collect(v):
                if isinstance(v, str):
                    messages.append(v)
                elif isinstance(v, list):
                    for x in v:
                        collect(x)
                elif isinstance(v, dict):
                    for k, x in v.items():
                        if k != "__type":
                            collect(k)
                            collect(x)

            collect(e.error_dict)
            for line, column in ((3, "全国地方公共団体コード"), (4, "緯度")):
                expect(
                    any(column in msg and re.search(rf"(?<!\d){line}(?!\d)", msg) for msg in messages),
                    f"no message names line {line} and column {column}: {short(e.error_dict)}",
                )
            r = self.http.post(self.api("resource_create"), headers={"Authorization": self.token},
                               data={"package_id": "aed-secchi", "format": "CSV"},
                               files={"upload": ("aed.csv", body)}, timeout=60)
            eq(r.status_code, 409, "raw status")
            eq(r.json()["error"].get("__type"), "Validation Error", "raw __type")
            eq(self.ckan.action.package_show(id="aed-secchi")["num_resources"], 0, "nothing added")

        self.check("an invalid standard CSV is refused: ValidationError naming line and column", bad_upload)

        def good_upload():
            body = csv_of(AED_ROWS)
            res = self.ckan.action.resource_create(package_id="aed-secchi", name="AED設置箇所一覧", format="CSV",
                                                   upload=("aed.csv", io.BytesIO(body)))
            eq(res.get("url_type"), "upload", "url_type")
            got = self.http.get(res["url"], timeout=60)
            expect(got.content == body, "the uploaded standard CSV downloads identical")
            pkg = self.ckan.action.package_show(id="aed-secchi")
            ngsi = [r for r in pkg["resources"] if r.get("caddec_resource_type") == "api/ngsi"]
            eq(len(ngsi), 1, f"one api/ngsi resource: {short(pkg['resources'])}")
            ngsi = ngsi[0]
            eq(ngsi.get("ngsi_entity_type"), "AED", "ngsi_entity_type")
            for key in ("ngsi_tenant", "ngsi_service_path"):
                expect(isinstance(ngsi.get(key), str), f"{key}: {short(ngsi)}")
            expect(ngsi["ngsi_service_path"].startswith("/"), f"ngsi_service_path {ngsi['ngsi_service_path']!r}")
            tags = {t["name"] for t in pkg["tags"]}
            expect({"自治体標準ODS", "AED設置箇所一覧"} <= tags, f"tags after upload {sorted(tags)}")
            state["ngsi"] = {
                "url": self.url,
                "dataset": "aed-secchi",
                "entity_type": ngsi["ngsi_entity_type"],
                "tenant": ngsi["ngsi_tenant"],
                "service_path": ngsi["ngsi_service_path"],
                "resource_url": ngsi.get("url"),
                "rows": [{"名称": r["名称"], "latitude": float(r["緯度"]), "longitude": float(r["経度"])}
                         for r in AED_ROWS],
            }
            r = self.http.get(f"{self.url}/v2/entities", params={"type": ngsi["ngsi_entity_type"], "limit": "100"},
                              headers={"Fiware-Service": ngsi["ngsi_tenant"],
                                       "Fiware-ServicePath": ngsi["ngsi_service_path"]}, timeout=30)
            eq(r.status_code, 200, "GET /v2/entities")
            eq(len(r.json()), len(AED_ROWS), "one entity per row")

        self.check("a valid standard CSV is accepted and published as NGSI (api/ngsi resource, /v2/entities)", good_upload)

        if self.args.ngsi_out and "ngsi" in state:
            with open(self.args.ngsi_out, "w", encoding="utf-8") as f:
                json.dump(state["ngsi"], f, ensure_ascii=False, indent=2)

    def migration(self):
        w = self.work
        a_sets = {k: os.path.join(w, f"a-{k}.jsonl") for k in ("groups", "organizations", "datasets")}
        b_sets = {k: os.path.join(w, f"b-{k}.jsonl") for k in ("groups", "organizations", "datasets")}
        bases = [self.url, self.url_b]

        def load_ok(kind, path):
            proc = self.cli("load", kind, "-I", path, "-r", self.url_b, "-a", self.token_b, check=False)
            log = proc.stderr.decode(errors="replace")
            bad = [line for line in log.splitlines()
                   if re.search(r"\b(ValidationError|NotAuthorized|NotFound|SearchIndexError|Traceback)\b", line)]
            expect(proc.returncode == 0 and not bad,
                   f"`ckanapi load {kind}` exited {proc.returncode}:\n" + "\n".join((bad or log.splitlines())[-15:]))

        def dump_structure():
            self.cli("dump", "groups", "--all", "-q", "-O", a_sets["groups"], "-r", self.url, "-a", self.token)
            self.cli("dump", "organizations", "--all", "-q", "-O", a_sets["organizations"], "-r", self.url,
                     "-a", self.token)
            groups = [g["name"] for g in read_jsonl(a_sets["groups"])]
            orgs = [o["name"] for o in read_jsonl(a_sets["organizations"])]
            eq(sorted(groups), sorted(g["name"] for g in GROUPS), "dumped groups")
            eq(sorted(orgs), sorted([o["name"] for o in ORGS] + ["mie-prefecture"]), "dumped organizations")

        self.check("ckanapi dump groups --all / dump organizations --all (A)", dump_structure, fatal=True)

        def load_structure():
            load_ok("groups", a_sets["groups"])
            load_ok("organizations", a_sets["organizations"])
            eq(sorted(self.ckan_b.action.group_list()), sorted(g["name"] for g in GROUPS), "B's groups")
            eq(sorted(self.ckan_b.action.organization_list()),
               sorted([o["name"] for o in ORGS] + ["mie-prefecture"]), "B's organizations")

        self.check("ckanapi load groups / load organizations (B)", load_structure, fatal=True)

        def dump_a():
            self.cli("dump", "datasets", "--all", "-q", "-O", a_sets["datasets"], "-r", self.url, "-a", self.token)
            names = [d["name"] for d in read_jsonl(a_sets["datasets"])]
            eq(sorted(names), sorted(self.active() | {"aed-secchi"}), "dumped datasets (all active, not the deleted)")

        self.check("ckanapi dump datasets --all (A)", dump_a, fatal=True)

        def load_b():
            load_ok("datasets", a_sets["datasets"])
            eq(sorted(self.ckan_b.action.package_list()), sorted(self.active() | {"aed-secchi"}), "B's package_list")

        self.check("ckanapi load datasets into the empty instance B", load_b, fatal=True)

        def dump_b_equal():
            self.cli("dump", "datasets", "--all", "-q", "-O", b_sets["datasets"], "-r", self.url_b, "-a", self.token_b)
            for path in (a_sets["datasets"], b_sets["datasets"]):
                for rec in read_jsonl(path):
                    eq(rec.get("owner_org"), (rec.get("organization") or {}).get("id"),
                       f"{path}: {rec.get('name')}: owner_org is organization.id")
            a = normalised_dump("datasets", a_sets["datasets"], bases)
            b = normalised_dump("datasets", b_sets["datasets"], bases)
            eq(sorted(b), sorted(a), "dataset names")
            problems = []
            for name in sorted(a):
                d = deep_diff(a[name], b[name])
                if d:
                    problems.append(f"{name}:\n    " + "\n    ".join(d))
            expect(not problems, "dumps differ (left A, right B):\n  " + "\n  ".join(problems[:8]))

        self.check("ckanapi dump datasets --all (B) is identical to A's apart from ids, timestamps, base URL",
                   dump_b_equal)

        def b_urls():
            for rec in read_jsonl(b_sets["datasets"]):
                for res in rec.get("resources") or []:
                    if res.get("url_type") == "upload":
                        expect(res["url"].startswith(self.url_b + "/"),
                               f"{rec['name']}: B's upload resource points at {res['url']}")
                        expect(rec["id"] in res["url"] or rec["name"] in res["url"],
                               f"{rec['name']}: upload url names B's dataset: {res['url']}")

        self.check("B's uploaded resources have B's download URLs", b_urls)

        def structure_equal():
            for kind in ("groups", "organizations"):
                self.cli("dump", kind, "--all", "-q", "-O", b_sets[kind], "-r", self.url_b, "-a", self.token_b)
                a = normalised_dump(kind, a_sets[kind], bases)
                b = normalised_dump(kind, b_sets[kind], bases)
                eq(sorted(b), sorted(a), f"{kind} names")
                problems = []
                for name in sorted(a):
                    d = deep_diff(a[name], b[name])
                    if d:
                        problems.append(f"{name}:\n    " + "\n    ".join(d))
                expect(not problems, f"{kind} dumps differ (left A, right B):\n  " + "\n  ".join(problems[:8]))

        self.check("ckanapi dump groups/organizations (B) identical to A's apart from ids and timestamps",
                   structure_equal)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="instance A (seeded by the suite)")
    p.add_argument("--token", required=True, help="an API token of instance A")
    p.add_argument("--url-b", required=True, help="instance B (empty; receives `ckanapi load`)")
    p.add_argument("--token-b", required=True, help="an API token of instance B")
    p.add_argument("--ckanapi", default="ckanapi", help="the ckanapi command line (its directory goes first on PATH)")
    p.add_argument("--ngsi-out", help="where to write the NGSI resource and rows for ngsi.mjs")
    p.add_argument("--work", help="a directory for dumps and files (default: a new temporary one)")
    args = p.parse_args()
    return Suite(args).run()


if __name__ == "__main__":
    sys.exit(main())
