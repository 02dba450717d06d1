// The NGSI leg of the compatibility suite: ngsijs, a real NGSI-v2 client
// (npm), lists and reads the entities madoguchi publishes for a standard
// dataset (自治体標準オープンデータセット).
//
//     node ngsi.mjs NGSI_INFO.json
//
// NGSI_INFO.json is written by ckan_suite.py --ngsi-out: the instance's URL,
// the dataset's NGSI resource (entity type, tenant, service path) and the
// rows it uploaded ({名称, latitude, longitude}).
//
// Prints one `PASS name` or `FAIL name: reason` line per check and a summary;
// exits non-zero when any check fails.

import fs from "node:fs";
import assert from "node:assert/strict";
import NGSI from "ngsijs";

const infoPath = process.argv[2];
if (!infoPath || !fs.existsSync(infoPath)) {
  console.log(
    `FAIL ngsi: no NGSI information at ${infoPath} (ckan_suite.py writes it after a valid standard CSV upload)`,
  );
  process.exit(1);
}
const info = JSON.parse(fs.readFileSync(infoPath, "utf8"));
const type = info.entity_type;
const scope = {
  service: info.tenant === "" ? undefined : info.tenant,
  servicepath: info.service_path,
};
const connection = new NGSI.Connection(info.url, scope);
const plain = new NGSI.Connection(info.url);

let passed = 0;
const failed = [];

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS ${name}`);
  } catch (e) {
    failed.push(name);
    const detail = e instanceof assert.AssertionError ? e.message : `${e?.name ?? "Error"}: ${e?.message ?? e}`;
    console.log(`FAIL ${name}: ${detail}`);
  }
}

const near = (a, b) => Math.abs(a - b) < 1e-6;

// The attribute holding 名称, found by its value (the attribute names are the server's choice).
function nameAttribute(entity) {
  const first = info.rows[0]["名称"];
  const found = Object.keys(entity).find((k) => entity[k] === first);
  return found;
}

let listed = [];
let attr;

await check("GET /version (getServerDetails): orion.version", async () => {
  const res = await plain.getServerDetails();
  assert.equal(typeof res.details?.orion?.version, "string", JSON.stringify(res.details));
});

await check("listEntities type + keyValues + count: every row, location a GeoJSON Point", async () => {
  const res = await connection.v2.listEntities({ type, keyValues: true, count: true, limit: 100 });
  listed = res.results;
  assert.equal(listed.length, info.rows.length, "entities listed");
  assert.equal(res.count, info.rows.length, "Fiware-Total-Count");
  for (const e of listed) {
    assert.equal(e.type, type, `type of ${e.id}`);
    assert.equal(typeof e.id, "string");
  }
  attr = listed.map(nameAttribute).find((a) => a);
  assert.ok(attr, `no attribute holds ${info.rows[0]["名称"]}: ${JSON.stringify(listed[0])}`);
  for (const row of info.rows) {
    const e = listed.find((x) => x[attr] === row["名称"]);
    assert.ok(e, `no entity for ${row["名称"]}`);
    assert.equal(e.location?.type, "Point", `location of ${row["名称"]}: ${JSON.stringify(e.location)}`);
    const [lon, lat] = e.location.coordinates;
    assert.ok(near(lon, row.longitude) && near(lat, row.latitude),
      `coordinates of ${row["名称"]} are [longitude, latitude]: ${JSON.stringify(e.location.coordinates)}`);
  }
});

await check("listEntities normalized: location is geo:json", async () => {
  const res = await connection.v2.listEntities({ type, limit: 100 });
  assert.equal(res.results.length, info.rows.length);
  const e = res.results.find((x) => x[attr]?.value === info.rows[0]["名称"]);
  assert.ok(e, `normalized entity for ${info.rows[0]["名称"]}: ${JSON.stringify(res.results[0])}`);
  assert.equal(e.location.type, "geo:json");
  assert.equal(e.location.value.type, "Point");
  assert.equal(typeof e[attr].type, "string", "attributes have a type");
  assert.equal(typeof e[attr].metadata, "object", "attributes have metadata");
});

await check("getEntity by id (keyValues) equals the listed entity", async () => {
  assert.ok(listed.length > 0, "nothing listed");
  for (const e of listed) {
    const res = await connection.v2.getEntity({ id: e.id, keyValues: true });
    assert.deepEqual(res.entity, e);
  }
});

await check("getEntity of an unknown id: NotFoundError", async () => {
  await assert.rejects(
    connection.v2.getEntity({ id: "no-such-entity" }),
    (e) => e instanceof NGSI.NotFoundError,
  );
});

await check("orderBy=id, limit and offset", async () => {
  const all = await connection.v2.listEntities({ type, keyValues: true, orderBy: "id", limit: 100 });
  const ids = all.results.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort(), "ascending ids");
  const page = await connection.v2.listEntities({ type, keyValues: true, orderBy: "id", limit: 1, offset: 1, count: true });
  assert.deepEqual(page.results.map((e) => e.id), ids.slice(1, 2));
  assert.equal(page.count, ids.length, "Fiware-Total-Count with limit");
});

await check("id, idPattern and q filters", async () => {
  const one = listed[0];
  const byId = await connection.v2.listEntities({ id: one.id, keyValues: true });
  assert.deepEqual(byId.results.map((e) => e.id), [one.id]);
  const pattern = await connection.v2.listEntities({ idPattern: ".*", type, limit: 100 });
  assert.equal(pattern.results.length, info.rows.length);
  const q = await connection.v2.listEntities({ type, q: `${attr}==${info.rows[1]["名称"]}`, keyValues: true });
  assert.deepEqual(q.results.map((e) => e[attr]), [info.rows[1]["名称"]]);
});

await check("options=values with attrs", async () => {
  const res = await connection.v2.listEntities({ type, values: true, attrs: attr, orderBy: "id", limit: 100 });
  const byId = [...listed].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.deepEqual(res.results, byId.map((e) => [e[attr]]));
});

await check("listTypes and getType", async () => {
  const types = await connection.v2.listTypes();
  const t = types.results.find((x) => x.type === type);
  assert.ok(t, `type ${type} in ${JSON.stringify(types.results)}`);
  assert.equal(t.count, info.rows.length, "count in /v2/types");
  const one = await connection.v2.getType(type);
  assert.ok(one.type.attrs?.location?.types?.includes("geo:json"), JSON.stringify(one.type));
  assert.equal(one.type.count, info.rows.length, "count in /v2/types/{type}");
});

await check("another tenant sees no entities", async () => {
  const other = new NGSI.Connection(info.url, { service: "no_such_tenant", servicepath: "/" });
  const res = await other.v2.listEntities({ type, count: true });
  assert.deepEqual(res.results, []);
  assert.equal(res.count, 0);
});

console.log(`ngsi: ${passed} passed, ${failed.length} failed (${passed + failed.length} checks)`);
if (failed.length) {
  console.log(`failed: ${failed.join(", ")}`);
}
process.exit(failed.length ? 1 : 0);
