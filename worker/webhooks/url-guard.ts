/**
 * SSRF guard for webhook URLs (SPEC §5): `https://` only, and never a private, loopback,
 * link-local or otherwise internal address — unless TESSERA_WEBHOOK_ALLOW_INSECURE is set
 * (local development: `npm start` sets it). A Worker cannot resolve DNS itself, so names
 * are judged as written (IP literals, `localhost`, `.local`, `.internal`, …); on
 * Cloudflare, fetches to private ranges are refused by the platform as well.
 */
function ipv4Private(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return (
    a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224
  );
}

function ipv6Private(host: string): boolean {
  if (!host.startsWith("[")) return false;
  const ip = host.slice(1, -1).toLowerCase();
  return ip === "::1" || ip === "::" || ip.startsWith("fc") || ip.startsWith("fd") || ip.startsWith("fe80") || ip.startsWith("::ffff:");
}

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa)$/i;

/** Why the URL is refused, or undefined when it may be called. */
export function webhookUrlProblem(raw: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a URL";
  }
  if (url.username || url.password) return "credentials in the URL are not allowed (put a token in the path or query)";
  if (allowInsecure) return url.protocol === "https:" || url.protocol === "http:" ? undefined : "must be http(s)";
  if (url.protocol !== "https:") return "must be https:// (plain http is allowed only with TESSERA_WEBHOOK_ALLOW_INSECURE)";
  const host = url.hostname;
  if (ipv4Private(host) || ipv6Private(host) || LOCAL_NAMES.test(host) || !host.includes(".")) {
    return "must not be a private, loopback, link-local or local address";
  }
  return undefined;
}
