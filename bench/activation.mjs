// Bench steps for the tracking API and webhook activation (against the bench's Worker).
//   tracking: /v1/batch with 100-message batches from 8 clients, next to /v1/events with
//             the same data in 100-event calls, in one run;
//   webhooks: time from sending an ingest call to the receiver's arrival (p50/p99),
//             deliveries per second with a fast receiver (127.0.0.1), and the same again
//             while a second destination's receiver takes connections and never answers.
import http from "node:http";
import { concurrently, percentile } from "./load.mjs";

async function call(url, key, method, path, body, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: key.startsWith("Basic") ? key : `Bearer ${key}`,
      "content-type": "application/json",
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function tracking(url, admin) {
  const key = (
    await call(url, admin, "POST", "/v1/keys", {
      name: "bench tracking",
      kind: "secret",
      scopes: ["ingest"],
    })
  ).key;
  const basic = `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
  const batches = 80;
  const message = (run, b, i) => ({
    type: "track",
    messageId: `${run}-${b}-${i}`,
    userId: `bench-track-${(b * 100 + i) % 2000}`,
    event: "Order Completed",
    properties: { total: i, sku: `S${i % 50}` },
    timestamp: new Date().toISOString(),
  });
  const { seconds: trackingSeconds } = await concurrently(batches, 8, (b) =>
    call(url, basic, "POST", "/v1/batch", {
      batch: Array.from({ length: 100 }, (_, i) => message("t", b, i)),
    }),
  );
  const { seconds: eventsSeconds } = await concurrently(batches, 8, (b) =>
    call(url, key, "POST", "/v1/events", {
      events: Array.from({ length: 100 }, (_, i) => {
        const m = message("e", b, i);
        return {
          id: m.messageId,
          type: m.event,
          timestamp: m.timestamp,
          identities: [{ namespace: "crm", id: m.userId }],
          data: { properties: m.properties },
        };
      }),
    }),
  );
  return {
    messages: batches * 100,
    batchPerSecond: Math.round((batches * 100) / trackingSeconds),
    eventsPerSecond: Math.round((batches * 100) / eventsSeconds),
  };
}

export async function webhooks(url, admin) {
  const arrivals = new Map();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      arrivals.set(req.headers["webhook-id"], performance.now());
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const receiver = `http://127.0.0.1:${server.address().port}/hook`;
  try {
    await call(url, admin, "PUT", "/v1/segments/bench-hook", {
      name: "bench hook",
      rule: { attr: "hookTier", op: "eq", value: "gold" },
    });
    await call(url, admin, "PUT", "/v1/destinations/bench-hook", {
      type: "webhook",
      url: receiver,
      events: ["segment.entered"],
      segments: ["bench-hook"],
    });
    // Latency: one profile at a time enters the segment; ingest call sent → arrival at the
    // receiver (the delivery often arrives before the call's own answer does).
    const latencies = [];
    for (let i = 0; i < 200; i++) {
      const before = arrivals.size;
      const sent = performance.now();
      await call(url, admin, "POST", "/v1/records", {
        dataset: "default",
        identities: [{ namespace: "crm", id: `hook-lat-${i}` }],
        attributes: { hookTier: "gold" },
      });
      const deadline = Date.now() + 30_000;
      while (arrivals.size === before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
      const at = [...arrivals.values()].at(-1);
      latencies.push(at - sent);
    }
    latencies.sort((a, b) => a - b);
    // Throughput: 5,000 profiles enter in 1,000-record calls; deliveries per second until all arrived.
    const start = arrivals.size;
    const started = performance.now();
    for (let c = 0; c < 5; c++) {
      await call(url, admin, "POST", "/v1/records", {
        records: Array.from({ length: 1000 }, (_, i) => ({
          dataset: "default",
          identities: [{ namespace: "crm", id: `hook-tp-${c}-${i}` }],
          attributes: { hookTier: "gold" },
        })),
      });
    }
    const deadline = Date.now() + 300_000;
    while (arrivals.size - start < 5000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    const deliveries = arrivals.size - start;
    const withHanging = await beside(url, admin, arrivals, "hook-hang");
    return {
      latencyMs: {
        p50: Number(percentile(latencies, 50).toFixed(1)),
        p99: Number(percentile(latencies, 99).toFixed(1)),
      },
      deliveries,
      deliveriesPerSecond: Math.round(deliveries / seconds),
      ...withHanging,
    };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/**
 * The fast receiver's rate alone, then with a second destination on the same segment whose
 * receiver takes connections and never answers (every send waits for the 10 s time-out):
 * 2,000 profiles each, in 100-record calls from 4 clients.
 */
async function beside(url, admin, arrivals, prefix) {
  const hanging = http.createServer(() => {});
  await new Promise((r) => hanging.listen(0, "127.0.0.1", r));
  const rate = async (tag) => {
    const start = arrivals.size;
    const started = performance.now();
    await concurrently(20, 4, (c) =>
      call(url, admin, "POST", "/v1/records", {
        records: Array.from({ length: 100 }, (_, i) => ({
          dataset: "default",
          identities: [{ namespace: "crm", id: `${prefix}-${tag}-${c}-${i}` }],
          attributes: { hookTier: "gold" },
        })),
      }),
    );
    const deadline = Date.now() + 300_000;
    while (arrivals.size - start < 2000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    return Math.round((arrivals.size - start) / ((performance.now() - started) / 1000));
  };
  try {
    const alone = await rate("alone");
    await call(url, admin, "PUT", "/v1/destinations/bench-hang", {
      type: "webhook",
      url: `http://127.0.0.1:${hanging.address().port}/hook`,
      events: ["segment.entered"],
      segments: ["bench-hook"],
    });
    const beside = await rate("beside");
    await call(url, admin, "DELETE", "/v1/destinations/bench-hang");
    return { aloneDeliveriesPerSecond: alone, besideHangingPerSecond: beside };
  } finally {
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  }
}
