/** The one guard and fetch for URLs someone configured (webhooks, S3 and Azure endpoints). */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeFetchError,
  internalAddress,
  ipv6Groups,
  outboundUrlProblem,
  resolvedUrlProblem,
  retryAfterOf,
} from "../../worker/lib/outbound";

const strict = { allowInsecure: false };
const dev = { allowInsecure: true };

describe("outboundUrlProblem", () => {
  it.each([
    "https://localhost./x",
    "https://LOCALHOST/x",
    "https://printer.local./x",
    "https://db.internal/x",
    "https://[::1]/x",
    "https://[0:0:0:0:0:0:0:1]/x",
    "https://[::ffff:10.0.0.1]/x",
    "https://[64:ff9b::a00:1]/x",
    "https://[fc00::1]/x",
    "https://[febf::1]/x",
    "https://[ff02::1]/x",
    "https://[2001:db8::1]/x",
    "https://0177.0.0.1/x",
    "https://100.64.0.1/x",
    "https://224.0.0.1/x",
    "http://example.com/x",
    "javascript:alert(1)",
    "data:text/plain,hi",
    "gopher://example.com/",
  ])("refuses %s", (url) => {
    expect(outboundUrlProblem(url, strict)).toBeDefined();
  });

  it.each([
    "https://example.com/x",
    "https://example.com./x",
    "https://[2606:4700:4700::1111]/x",
    "https://[2a00:1450:4001:82b::200e]:8443/x",
    "https://8.8.8.8/x",
  ])("allows %s", (url) => {
    expect(outboundUrlProblem(url, strict)).toBeUndefined();
  });

  it("local development allows http and loopback, never another scheme nor a metadata address", () => {
    expect(outboundUrlProblem("http://127.0.0.1:8080/hook", dev)).toBeUndefined();
    expect(outboundUrlProblem("http://localhost:9000", dev)).toBeUndefined();
    for (const url of [
      "file:///etc/passwd",
      "http://169.254.169.254/latest/meta-data",
      "http://metadata.google.internal/",
      "http://[fd00:ec2::254]/",
      "http://100.100.100.200/",
    ]) {
      expect(outboundUrlProblem(url, dev), url).toBeDefined();
    }
  });
});

describe("addresses", () => {
  it("parses IPv6 forms", () => {
    expect(ipv6Groups("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(ipv6Groups("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups("1::2::3")).toBeUndefined();
    expect(ipv6Groups("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(ipv6Groups("12345::")).toBeUndefined();
  });
  it("judges resolved addresses", () => {
    expect(internalAddress("127.0.0.1")).toBe(true);
    expect(internalAddress("::ffff:192.168.1.1")).toBe(true);
    expect(internalAddress("2606:4700::6810:84e5")).toBe(false);
    expect(internalAddress("93.184.215.14")).toBe(false);
  });
});

describe("what a failed send did", () => {
  it("names time-outs and refused connections as a receiver's operator would", () => {
    expect(
      describeFetchError(
        Object.assign(new Error("The operation was aborted due to timeout"), {
          name: "TimeoutError",
        }),
        10,
      ),
    ).toBe("timed out after 10 s");
    expect(describeFetchError(new Error("internal error; reference = abc123"), 10)).toBe(
      "could not connect (connection refused or host unreachable)",
    );
  });
  it("caps Retry-After and reads both forms", () => {
    const cap = 12 * 3600_000;
    expect(retryAfterOf("99999999", cap)).toBe(cap);
    expect(retryAfterOf("30", cap)).toBe(30_000);
    expect(retryAfterOf(new Date(Date.now() + 60_000).toUTCString(), cap)).toBeGreaterThan(55_000);
    expect(retryAfterOf("soon", cap)).toBeUndefined();
    expect(retryAfterOf(null, cap)).toBeUndefined();
  });
});

describe("names resolved through a DNS-over-HTTPS resolver", () => {
  // A real HTTP server answering in the DoH JSON format (RFC 8484's JSON sibling, as 1.1.1.1 and 8.8.8.8 serve it).
  const zone: Record<string, { A?: string[]; AAAA?: string[] }> = {
    "rebind.example.com": { A: ["127.0.0.1"] },
    "v6-internal.example.com": { A: ["93.184.215.14"], AAAA: ["fd00::5"] },
    "public.example.com": {
      A: ["93.184.215.14"],
      AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    },
  };
  let server: http.Server;
  let resolver: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      const type = url.searchParams.get("type") as "A" | "AAAA";
      const answers = zone[url.searchParams.get("name")!]?.[type] ?? [];
      res.writeHead(200, { "content-type": "application/dns-json" }).end(
        JSON.stringify({
          Status: 0,
          Answer: answers.map((data) => ({ type: type === "A" ? 1 : 28, data })),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    resolver = `http://127.0.0.1:${(server.address() as { port: number }).port}/dns-query`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("refuses a public name that points at an internal address, by A or AAAA", async () => {
    expect(
      await resolvedUrlProblem("https://rebind.example.com/hook", {
        allowInsecure: false,
        resolver,
      }),
    ).toMatch(/127\.0\.0\.1/);
    expect(
      await resolvedUrlProblem("https://v6-internal.example.com./hook", {
        allowInsecure: false,
        resolver,
      }),
    ).toMatch(/fd00::5/);
    expect(
      await resolvedUrlProblem("https://public.example.com/hook", {
        allowInsecure: false,
        resolver,
      }),
    ).toBeUndefined();
  });
});
