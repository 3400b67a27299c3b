// Records the example request and response of every operation in the OpenAPI document
// from the real API: starts a Worker on a fresh local D1, seeds a small demo set, calls
// each operation once in a sensible order, and writes worker/openapi/examples.json.
// `/v1/openapi.json` and `/docs` show these. Run after changing a route's shape:
//
//   bash scripts/with-node.sh node scripts/openapi-examples.mjs
//
// test/browser/openapi.test.ts checks that every operation has both, and Redocly's
// recommended lint checks that they conform to their schemas.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, ROOT, startWorker } from "./lib/local-worker.mjs";
import { seedDemoData } from "./seed.mjs";

const ADMIN = "sk_examples_admin_key_local_only";
const ORIGIN = "https://shop.example.org";
const DEVICE = "dev_7f3a9c2e4b1d8f60";
const EMAIL = "ann.jansen@example.com";

/**
 * One call per operation. `request` is what the document shows as the example request
 * body; `query` and `params` are filled into the path. Order matters: later calls use
 * what earlier ones created.
 */
function calls(state) {
  const event = {
    id: "evt-2026-11-30-0001",
    type: "Order Completed",
    timestamp: "2026-11-30T09:12:00Z",
    dataset: "orders",
    identities: [{ namespace: "email", id: EMAIL }],
    data: { orderId: "A-1001", total: 89.5, currency: "EUR" },
  };
  const record = {
    dataset: "crm",
    identities: [
      { namespace: "crm", id: "CUST-20001" },
      { namespace: "email", id: EMAIL },
    ],
    attributes: { firstName: "Ann", lastName: "Jansen", loyalty: { tier: "gold" } },
    timestamp: "2026-11-30T09:00:00Z",
  };
  const message = (type, extra) => ({
    type,
    messageId: `msg-${type}-1`,
    userId: "CUST-20001",
    timestamp: "2026-11-30T09:15:00Z",
    ...extra,
  });
  const track = (op, p, type, extra) => ({
    op,
    method: "POST",
    path: p,
    request: message(type, extra),
  });
  const identify = { traits: { email: EMAIL, firstName: "Ann" } };
  return [
    { op: "getHealth", method: "GET", path: "/health" },
    {
      op: "createKey",
      method: "POST",
      path: "/v1/keys",
      request: { name: "checkout service", kind: "secret", scopes: ["ingest", "profiles:read"] },
    },
    { op: "listKeys", method: "GET", path: "/v1/keys" },
    {
      op: "putDataset",
      method: "PUT",
      path: "/v1/datasets/orders",
      request: { kind: "events", description: "Web shop orders", ttlDays: 730 },
    },
    { op: "getDataset", method: "GET", path: "/v1/datasets/orders" },
    { op: "listDatasets", method: "GET", path: "/v1/datasets" },
    {
      op: "putNamespace",
      method: "PUT",
      path: "/v1/namespaces/member",
      request: {
        normalize: "trim",
        unique: true,
        priority: 85,
        maxPerGraph: 1,
        description: "Member number of the partner program",
      },
    },
    { op: "listNamespaces", method: "GET", path: "/v1/namespaces" },
    { op: "ingestRecords", method: "POST", path: "/v1/records", request: record },
    { op: "ingestEvents", method: "POST", path: "/v1/events", request: event },
    {
      op: "trackBatch",
      method: "POST",
      path: "/v1/batch",
      request: {
        batch: [
          message("identify", identify),
          message("track", { event: "Product Viewed", properties: { sku: "TENT-2P" } }),
        ],
        sentAt: "2026-11-30T09:15:01Z",
      },
    },
    {
      op: "analyticsJsBatch",
      method: "POST",
      path: "/v1/b",
      request: {
        batch: [
          message("page", { name: "Tents", properties: { url: "https://shop.example.org/tents" } }),
        ],
        sentAt: "2026-11-30T09:15:01Z",
      },
    },
    track("trackIdentify", "/v1/identify", "identify", identify),
    track("trackTrack", "/v1/track", "track", {
      event: "Order Completed",
      properties: { total: 89.5 },
    }),
    track("trackPage", "/v1/page", "page", {
      name: "Tents",
      properties: { url: "https://shop.example.org/tents" },
    }),
    track("trackScreen", "/v1/screen", "screen", { name: "Basket" }),
    track("trackGroup", "/v1/group", "group", { groupId: "acme", traits: { name: "Acme BV" } }),
    track("trackAlias", "/v1/alias", "alias", { previousId: "CUST-OLD-7" }),
    track("analyticsJsIdentify", "/v1/i", "identify", identify),
    track("analyticsJsTrack", "/v1/t", "track", {
      event: "Product Viewed",
      properties: { sku: "TENT-2P" },
    }),
    track("analyticsJsPage", "/v1/p", "page", { name: "Home" }),
    track("analyticsJsScreen", "/v1/s", "screen", { name: "Home" }),
    track("analyticsJsGroup", "/v1/g", "group", { groupId: "acme" }),
    track("analyticsJsAlias", "/v1/a", "alias", { previousId: "CUST-OLD-8" }),
    {
      op: "getAnalyticsJsSettings",
      method: "GET",
      path: `/v1/projects/${state.publicKey}/settings`,
      headers: { origin: ORIGIN },
    },
    {
      op: "lookupProfile",
      method: "GET",
      path: `/v1/profiles/by-identity/email/${EMAIL}`,
      query: "include=segments,events&events.limit=2",
    },
    { op: "getProfile", method: "GET", path: () => `/v1/profiles/${state.profileId}` },
    { op: "searchProfiles", method: "GET", path: "/v1/profiles", query: "q=ann&limit=2" },
    {
      op: "listProfileEvents",
      method: "GET",
      path: () => `/v1/profiles/${state.profileId}/events`,
      query: "limit=2",
    },
    {
      op: "simulateIdentities",
      method: "POST",
      path: "/v1/identities/simulate",
      request: {
        items: [
          {
            type: "login",
            identities: [
              { namespace: "email", id: EMAIL },
              { namespace: "crm", id: "CUST-20009" },
            ],
          },
        ],
      },
    },
    {
      op: "simulateIdentities",
      method: "POST",
      path: "/v1/identities/simulate",
      request: {
        config: { namespaces: { device: { maxPerGraph: 1 } } },
        scope: { namespace: "device", limit: 100 },
      },
      also: true,
    },
    {
      op: "putGraphSettings",
      method: "PUT",
      path: "/v1/settings/graph",
      query: "preview=true",
      request: { maxIdentities: 20 },
    },
    { op: "getGraphSettings", method: "GET", path: "/v1/settings/graph" },
    {
      op: "putGraphSettings",
      method: "PUT",
      path: "/v1/settings/graph",
      query: "apply=retroactive",
      request: { maxIdentities: 50 },
      also: true,
    },
    { op: "getGraphRun", method: "GET", path: () => `/v1/graph-runs/${state.graphRunId}` },
    { op: "listGraphRuns", method: "GET", path: "/v1/graph-runs" },
    {
      op: "revertGraphRun",
      method: "POST",
      path: () => `/v1/graph-runs/${state.graphRunId}/revert`,
    },
    { op: "getIdentityGraph", method: "GET", path: `/v1/identities/email/${EMAIL}/graph` },
    { op: "listMergePolicies", method: "GET", path: "/v1/merge-policies" },
    {
      op: "putMergePolicy",
      method: "PUT",
      path: "/v1/merge-policies/crm-first",
      request: { type: "dataset-precedence", datasets: ["crm", "loyalty"], idStitching: "graph" },
    },
    {
      op: "putSegment",
      method: "PUT",
      path: "/v1/segments/gold",
      query: "preview=true",
      request: {
        name: "Gold members",
        rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
        public: true,
      },
      also: true,
    },
    {
      op: "putSegment",
      method: "PUT",
      path: "/v1/segments/gold",
      request: {
        name: "Gold members",
        rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
        public: true,
      },
    },
    { op: "getSegment", method: "GET", path: "/v1/segments/gold" },
    { op: "listSegments", method: "GET", path: "/v1/segments" },
    {
      op: "putComputedAttribute",
      method: "PUT",
      path: "/v1/computed-attributes/ltv",
      request: {
        name: "Lifetime value",
        aggregate: "sum",
        field: "data.amount",
        filter: { type: ["purchase"] },
      },
    },
    {
      op: "putComputedAttribute",
      method: "PUT",
      path: "/v1/computed-attributes/orders_90d",
      request: {
        name: "Orders in 90 days",
        aggregate: "count",
        filter: { type: ["purchase"] },
        within: "P90D",
      },
      also: true,
    },
    { op: "getComputedAttribute", method: "GET", path: "/v1/computed-attributes/ltv" },
    { op: "listComputedAttributes", method: "GET", path: "/v1/computed-attributes" },
    { op: "deleteComputedAttribute", method: "DELETE", path: "/v1/computed-attributes/orders_90d" },
    {
      op: "listSegmentMembers",
      method: "GET",
      path: "/v1/segments/gold/members",
      query: "limit=2",
    },
    {
      op: "putPersonalizationSettings",
      method: "PUT",
      path: "/v1/settings/personalization",
      request: { attributes: ["firstName", "loyalty.tier"] },
    },
    { op: "getPersonalizationSettings", method: "GET", path: "/v1/settings/personalization" },
    {
      op: "putCollectSettings",
      method: "PUT",
      path: "/v1/settings/collect",
      request: { types: ["page.view", "click", "form.submit"] },
    },
    {
      op: "putConsentSettings",
      method: "PUT",
      path: "/v1/settings/consent",
      request: {
        purposes: [
          { id: "marketing", default: "granted", gpc: "deny" },
          { id: "research", default: "denied" },
        ],
        conflict: "most-restrictive",
        categories: { Advertising: "marketing", Analytics: "analytics" },
      },
    },
    { op: "getConsentSettings", method: "GET", path: "/v1/settings/consent" },
    {
      op: "recordConsent",
      method: "POST",
      path: "/v1/consent",
      request: {
        identities: [{ namespace: "email", id: "consent@example.com" }],
        purposes: { marketing: "denied", research: "granted" },
        timestamp: "2026-11-30T09:00:00Z",
        source: "preference-center",
      },
    },
    { op: "getPersonalizationContext", method: "GET", path: "/v1/context", public: true },
    {
      op: "collectBrowserEvents",
      method: "POST",
      path: "/v1/collect",
      public: true,
      request: {
        events: [{ type: "page.view", timestamp: "2026-11-30T09:20:00Z", data: { url: "/tents" } }],
      },
    },
    {
      op: "createIdentityToken",
      method: "POST",
      path: "/v1/tokens",
      request: {
        scopes: ["profiles:read"],
        ttlSeconds: 900,
        identity: { namespace: "email", id: EMAIL },
      },
    },
    { op: "getProfileMetrics", method: "GET", path: "/v1/metrics/profiles" },
    {
      op: "getMessagesReport",
      method: "GET",
      path: "/v1/reports/messages",
      query: "groupBy=journey",
    },
    { op: "getEventsReport", method: "GET", path: "/v1/reports/events", query: "groupBy=type" },
    {
      op: "getJourneysReport",
      method: "GET",
      path: "/v1/reports/journeys",
      query: "conversion=purchase&window=P7D&model=linear&value=data.amount",
    },
    {
      op: "putDataView",
      method: "PUT",
      path: "/v1/data-views/shop-orders",
      request: {
        name: "Shop orders",
        dimensions: [{ id: "day", field: "time.day" }],
        metrics: [
          { id: "orders", aggregate: "count", filter: { type: ["purchase"] } },
          { id: "revenue", aggregate: "sum", field: "data.amount", filter: { type: ["purchase"] } },
        ],
        calculated: [{ id: "averageOrder", formula: "revenue / orders" }],
      },
    },
    { op: "getDataView", method: "GET", path: "/v1/data-views/shop-orders" },
    { op: "listDataViews", method: "GET", path: "/v1/data-views" },
    {
      op: "getDataViewReport",
      method: "GET",
      path: "/v1/data-views/shop-orders/report",
      query: "from=2026-11-28&to=2026-11-30&tz=Europe/Amsterdam",
    },
    {
      op: "getDataViewReport",
      method: "GET",
      path: "/v1/data-views/shop-orders/report",
      query: "from=2026-11-28&to=2026-11-30&tz=Europe/Amsterdam&format=csv",
      also: true,
    },
    { op: "deleteDataView", method: "DELETE", path: "/v1/data-views/shop-orders" },
    {
      op: "putRetentionSettings",
      method: "PUT",
      path: "/v1/settings/retention",
      request: { pseudonymousProfileDays: 395, archiveDestination: null },
    },
    { op: "getRetentionSettings", method: "GET", path: "/v1/settings/retention" },
    { op: "startMaintenanceRun", method: "POST", path: "/v1/maintenance/runs" },
    { op: "listMaintenanceRuns", method: "GET", path: "/v1/maintenance/runs" },
    {
      op: "putDestination",
      method: "PUT",
      path: "/v1/destinations/lake",
      request: {
        type: "r2",
        prefix: "tessera/",
        schedule: "daily",
        format: "parquet",
        content: "profiles",
        mode: "incremental",
      },
    },
    { op: "getDestination", method: "GET", path: "/v1/destinations/lake" },
    { op: "listDestinations", method: "GET", path: "/v1/destinations" },
    { op: "startDestinationRun", method: "POST", path: "/v1/destinations/lake/runs" },
    { op: "listDestinationRuns", method: "GET", path: "/v1/destinations/lake/runs" },
    {
      op: "putDestination",
      method: "PUT",
      path: "/v1/destinations/crm-hook",
      record: false,
      request: {
        type: "webhook",
        url: "https://hooks.example.org/tessera",
        events: ["segment.entered", "segment.exited"],
        segments: ["gold"],
        attributes: ["firstName"],
      },
    },
    {
      op: "ingestRecords",
      method: "POST",
      path: "/v1/records",
      record: false,
      request: {
        dataset: "crm",
        identities: [{ namespace: "crm", id: "CUST-20003" }],
        attributes: { firstName: "Noor", loyalty: { tier: "gold" } },
      },
    },
    { op: "rotateDestinationSecret", method: "POST", path: "/v1/destinations/crm-hook/secret" },
    {
      op: "listDestinationDeliveries",
      method: "GET",
      path: "/v1/destinations/crm-hook/deliveries",
      query: "limit=2",
    },
    {
      op: "retryDestinationDelivery",
      method: "POST",
      path: () => `/v1/destinations/crm-hook/deliveries/${state.deliveryId}/retry`,
    },
    { op: "testDestination", method: "POST", path: "/v1/destinations/crm-hook/test" },
    {
      op: "redriveDestinationDeliveries",
      method: "POST",
      path: "/v1/destinations/crm-hook/deliveries/redrive",
      query: "status=dead",
    },
    { op: "deleteDestination", method: "DELETE", path: "/v1/destinations/crm-hook" },
    {
      op: "createBatch",
      method: "POST",
      path: "/v1/batches",
      query: "dataset=crm&format=csv",
      contentType: "text/csv",
      text: "identity.crm,identity.email,firstName,lastName\nCUST-20002,piet@example.com,Piet,de Vries\nCUST-20004,not-an-email,Bad,Row\n",
    },
    {
      op: "createBatch",
      method: "POST",
      path: "/v1/batches",
      query: "dataset=crm&format=ndjson",
      contentType: "application/x-ndjson",
      text: `${JSON.stringify({ identities: [{ namespace: "crm", id: "CUST-20005" }], attributes: { firstName: "Sanne" } })}\n`,
      also: true,
    },
    { op: "getBatch", method: "GET", path: () => `/v1/batches/${state.batchId}` },
    { op: "listBatches", method: "GET", path: "/v1/batches", query: "limit=1" },
    {
      op: "getBatchErrors",
      method: "GET",
      path: () => `/v1/batches/${state.batchId}/errors`,
      contentType: "application/x-ndjson",
    },
    {
      op: "exportProfileData",
      method: "GET",
      path: "/v1/profiles/by-identity/email/piet@example.com/export",
    },
    { op: "removeIdentity", method: "DELETE", path: `/v1/identities/device/${DEVICE}` },
    {
      op: "deleteLink",
      method: "DELETE",
      path: "/v1/links",
      query: `from=crm:CUST-20001&to=email:${EMAIL}`,
    },
    {
      op: "eraseProfile",
      method: "DELETE",
      path: "/v1/profiles/by-identity/email/piet@example.com",
      query: "suppress=true",
    },
    { op: "listSuppressions", method: "GET", path: "/v1/suppressions", query: "limit=2" },
    {
      op: "deleteSuppressionByIdentity",
      method: "DELETE",
      path: "/v1/suppressions",
      query: "identity=email:piet@example.com",
    },
    {
      op: "deleteSuppression",
      method: "DELETE",
      path: () => `/v1/suppressions/${state.suppressionHash}`,
      expectError: true,
    },
    { op: "listAuditEntries", method: "GET", path: "/v1/audit", query: "limit=2" },
    { op: "listShards", method: "GET", path: "/v1/admin/shards" },
    { op: "deleteKey", method: "DELETE", path: () => `/v1/keys/${state.keyId}` },
  ];
}

/** Shortens lists so examples stay readable: two items, the rest dropped. */
function trim(value, depth = 0) {
  if (Array.isArray(value)) return value.slice(0, 2).map((v) => trim(v, depth + 1));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trim(v, depth + 1)]));
  return value;
}

async function main() {
  const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-examples-"));
  await applyMigrations({ persistTo });
  const worker = await startWorker({
    persistTo,
    vars: {
      TESSERA_ADMIN_KEY: ADMIN,
      TESSERA_SECRET: "examples-secret-local-only",
      TESSERA_DEMO: "true",
      TESSERA_WEBHOOK_ALLOW_INSECURE: "false",
    },
  });
  const out = {};
  const localHost = new URL(worker.url).host;
  try {
    await seedDemoData({ url: worker.url, adminKey: ADMIN, people: 40, log: () => {} });
    const state = {};
    const publicKey = await fetch(`${worker.url}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "shop site", kind: "public", scopes: [], origins: [ORIGIN] }),
    }).then((r) => r.json());
    state.publicKey = publicKey.key;
    for (const call of calls(state)) {
      const p = typeof call.path === "function" ? call.path() : call.path;
      const url = `${worker.url}${p}${call.query ? `?${call.query}` : ""}`;
      const headers = call.public
        ? { authorization: `Bearer ${state.publicKey}`, origin: ORIGIN, "x-tessera-device": DEVICE }
        : { authorization: `Bearer ${ADMIN}`, ...call.headers };
      let body;
      if (call.text !== undefined) {
        headers["content-type"] = call.contentType;
        body = call.text;
      } else if (call.request !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(call.request);
      }
      const response = await fetch(url, { method: call.method, headers, body });
      const text = await response.text();
      const type = response.headers.get("content-type") ?? "";
      const json =
        /\bjson\b/.test(type) && !type.includes("ndjson") && text ? JSON.parse(text) : undefined;
      if (!response.ok && !call.expectError)
        throw new Error(`${call.op}: ${call.method} ${p} answered ${response.status} ${text}`);
      if (call.op === "createKey") state.keyId = json.id;
      if (call.op === "lookupProfile") state.profileId = json.profileId;
      if (call.op === "putGraphSettings" && json.runId) state.graphRunId = json.runId;
      if (call.op === "createBatch" && !call.also) {
        state.batchId = json.batchId;
        await waitForBatch(worker.url, state.batchId);
      }
      if (call.op === "eraseProfile")
        state.suppressionHash =
          (
            await fetch(`${worker.url}/v1/suppressions`, {
              headers: { authorization: `Bearer ${ADMIN}` },
            }).then((r) => r.json())
          ).items[0]?.hash ?? "0".repeat(64);
      if (call.op === "listDestinationDeliveries")
        state.deliveryId = json.items[0]?.id ?? (await firstDelivery(worker.url));
      if (call.record === false || !response.ok) continue;
      const requestType = call.text !== undefined ? call.contentType : "application/json";
      const responseType = type.split(";")[0] || "application/json";
      const entry = (out[call.op] ??= { status: response.status });
      if (call.text !== undefined || call.request !== undefined)
        (entry.requests ??= {})[requestType] = call.text ?? call.request;
      // `also`: a second media type of the same operation (NDJSON batches, CSV reports).
      if (!call.also || entry.status === response.status) {
        if (json !== undefined || text)
          (entry.responses ??= {})[responseType] = json !== undefined ? trim(json) : text;
      }
    }
  } finally {
    await worker.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
  const file = path.join(ROOT, "worker/openapi/examples.json");
  // Answers that echo the host (tracking settings' apiHost) show a deployment's, not this run's port.
  writeFileSync(
    file,
    `${JSON.stringify(out, null, 2).replaceAll(localHost, "tessera.example.com")}\n`,
  );
  console.log(
    `wrote ${Object.keys(out).length} operations' examples to ${path.relative(process.cwd(), file)}`,
  );
}

async function waitForBatch(url, id) {
  for (let i = 0; i < 100; i++) {
    const batch = await fetch(`${url}/v1/batches/${id}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }).then((r) => r.json());
    if (batch.status === "completed" || batch.status === "failed") return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A webhook delivery exists once a segment entry was queued for the hook; make one. */
async function firstDelivery(url) {
  for (let i = 0; i < 50; i++) {
    const list = await fetch(`${url}/v1/destinations/crm-hook/deliveries`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }).then((r) => r.json());
    if (list.items[0]) return list.items[0].id;
    await new Promise((r) => setTimeout(r, 200));
  }
  return "none";
}

await main();
