/**
 * Every request Tessera makes to a URL someone configured (webhook receivers, S3 and Azure
 * export endpoints) passes one guard and one fetch (SPEC §5):
 *
 * - `outboundUrlProblem`: `https://` only and never a private, loopback, link-local,
 *   multicast, documentation or cloud-metadata address — unless TESSERA_WEBHOOK_ALLOW_INSECURE
 *   is set (local development: `npm start` sets it), which allows `http://` and local hosts
 *   but still never another scheme nor a metadata address. Host names are judged after the
 *   trailing dot is dropped (`localhost.` is `localhost`); IPv6 literals are parsed, so public
 *   ones are allowed and internal ones refused. With TESSERA_DNS_RESOLVER (a DNS-over-HTTPS
 *   JSON endpoint), `resolvedUrlProblem` also resolves the name and refuses it when any
 *   address it resolves to is internal. On Cloudflare, fetches to private ranges are
 *   refused by the platform as well.
 * - `outboundFetch`: never follows a redirect — a 3xx is a failure naming its `Location`,
 *   because a redirect would carry the request past the guard.
 */

interface OutboundPolicy {
  /** http:// and local hosts allowed (local development). */
  allowInsecure: boolean;
  /** A DNS-over-HTTPS JSON endpoint (e.g. https://cloudflare-dns.com/dns-query) to resolve names with. */
  resolver?: string;
}

/** The deployment's policy, from its variables. */
export function outboundPolicy(env: {
  TESSERA_WEBHOOK_ALLOW_INSECURE?: string;
  TESSERA_DNS_RESOLVER?: string;
}): OutboundPolicy {
  return {
    allowInsecure: /^(1|true|yes)$/i.test(env.TESSERA_WEBHOOK_ALLOW_INSECURE ?? ""),
    resolver: env.TESSERA_DNS_RESOLVER || undefined,
  };
}

/** Metadata services of the clouds, by name and address; refused even in local development. */
const METADATA_HOSTS = new Set([
  "169.254.169.254",
  "169.254.170.2",
  "100.100.100.200",
  "metadata.google.internal",
  "metadata",
  "[fd00:ec2::254]",
]);

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/i;

function ipv4Octets(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

function ipv4Internal([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a! >= 224
  );
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  let ip = text.toLowerCase();
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(ip);
  if (v4) {
    const o = ipv4Octets(v4[1]!);
    if (!o) return undefined;
    ip = `${ip.slice(0, -v4[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = ip.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === ""
      ? []
      : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(Math.max(fill, 0)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some(Number.isNaN) || (halves.length === 2 && fill < 1))
    return undefined;
  return groups;
}

function ipv6Internal(g: number[]): boolean {
  const [a, b] = g;
  if (g.slice(0, 7).every((x) => x === 0) && (g[7] === 0 || g[7] === 1)) return true; // :: and ::1
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible: judged as the IPv4 address.
    return ipv4Internal([g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]);
  }
  if (a === 0x64 && b === 0xff9b) return ipv4Internal([g[6]! >> 8, g[6]! & 255]); // NAT64
  return (
    (a! & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (a! & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (a! & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (a! & 0xff00) === 0xff00 || // multicast
    (a === 0x2001 && b === 0x0db8) || // documentation
    (a === 0x2001 && b! < 0x200) // Teredo and other special-purpose 2001::/23
  );
}

/** Whether an address (an IPv4 or IPv6 literal, IPv6 with or without brackets) is internal. */
export function internalAddress(address: string): boolean {
  const bare = address.startsWith("[") ? address.slice(1, -1) : address;
  const v4 = ipv4Octets(bare);
  if (v4) return ipv4Internal(v4);
  const v6 = ipv6Groups(bare);
  return v6 ? ipv6Internal(v6) : false;
}

/** Why the URL may not be called, or undefined when it may (names judged as written). */
export function outboundUrlProblem(raw: string, policy: OutboundPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https:// URL";
  if (url.username || url.password)
    return "credentials in the URL are not allowed (put a token in the path or query)";
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  // The URL parser has already written IP literals in their one canonical form.
  if (METADATA_HOSTS.has(host)) return "must not be a cloud metadata address";
  if (policy.allowInsecure) return undefined;
  if (url.protocol !== "https:")
    return "must be https:// (plain http is allowed only with TESSERA_WEBHOOK_ALLOW_INSECURE)";
  const literal = host.startsWith("[") || ipv4Octets(host) !== undefined;
  if (host.startsWith("[") && !ipv6Groups(host.slice(1, -1))) return "not a valid IPv6 address";
  if (internalAddress(host) || (!literal && (LOCAL_NAMES.test(host) || !host.includes(".")))) {
    return "must not be a private, loopback, link-local or local address";
  }
  return undefined;
}

/**
 * As `outboundUrlProblem`, then, when a DNS-over-HTTPS resolver is configured and the host
 * is a name, resolves it (A and AAAA) and refuses it if any address is internal — a public
 * name can point at 127.0.0.1.
 */
export async function resolvedUrlProblem(
  raw: string,
  policy: OutboundPolicy,
): Promise<string | undefined> {
  const problem = outboundUrlProblem(raw, policy);
  if (problem || policy.allowInsecure || !policy.resolver) return problem;
  const host = new URL(raw).hostname.replace(/\.+$/, "");
  if (host.startsWith("[") || ipv4Octets(host)) return undefined;
  for (const type of ["A", "AAAA"]) {
    const url = new URL(policy.resolver);
    url.searchParams.set("name", host);
    url.searchParams.set("type", type);
    let answers: { type: number; data: string }[];
    try {
      const res = await fetch(url, {
        headers: { accept: "application/dns-json" },
        redirect: "manual",
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) return `could not resolve ${host} (resolver answered HTTP ${res.status})`;
      answers = ((await res.json()) as { Answer?: { type: number; data: string }[] }).Answer ?? [];
    } catch (err) {
      return `could not resolve ${host} (${describeFetchError(err, 5)})`;
    }
    const internal = answers.find(
      (a) => (a.type === 1 || a.type === 28) && internalAddress(a.data),
    );
    if (internal)
      return `must not resolve to a private or loopback address (${host} is ${internal.data})`;
  }
  return undefined;
}

/** What a failed fetch did, as a receiver's operator would say it. */
export function describeFetchError(err: unknown, timeoutSeconds: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))
    return `timed out after ${timeoutSeconds} s`;
  const message = err instanceof Error ? err.message : String(err);
  // workerd reports refused and unreachable connections as an opaque "internal error".
  if (/internal error|network connection lost|connection refused|ECONNREFUSED/i.test(message))
    return "could not connect (connection refused or host unreachable)";
  if (/dns|resolve|ENOTFOUND/i.test(message)) return "could not resolve the host name";
  return message.slice(0, 200);
}

export class RedirectRefused extends Error {
  constructor(
    readonly status: number,
    readonly location: string | null,
  ) {
    super(`HTTP ${status} redirect to ${location ?? "(no Location)"} — redirects are not followed`);
  }
}

/**
 * fetch that never follows redirects: a 3xx answer throws RedirectRefused (its body is
 * discarded). `doFetch` lets a signing client (aws4fetch) do the sending.
 */
export async function outboundFetch(
  input: RequestInfo | URL,
  init: RequestInit,
  doFetch: (input: RequestInfo | URL, init: RequestInit) => Promise<Response> = fetch,
): Promise<Response> {
  const res = await doFetch(input, { ...init, redirect: "manual" });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new RedirectRefused(res.status, res.headers.get("location"));
  }
  return res;
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds, at most `capMs`; undefined when absent or past. */
export function retryAfterOf(
  header: string | null,
  capMs: number,
  now = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, capMs);
}
