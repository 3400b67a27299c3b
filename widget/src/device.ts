/** The first-party device id (SPEC §3): cookie `tessera_device`, 1 year, SameSite=Lax. */
const COOKIE = "tessera_device";
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;
const DEVICE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

function mintDeviceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  // 18 random bytes → 24 base64url characters, inside the API's 16–64 [A-Za-z0-9_-].
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_");
}

/** A first-party cookie's value, or undefined. */
export function readCookie(name: string, doc: Document = document): string | undefined {
  return doc.cookie
    .split("; ")
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

/** Sets a first-party cookie for the whole site: SameSite=Lax, Secure on https. */
export function writeCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  doc: Document = document,
): void {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  doc.cookie = `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=Lax${secure}`;
}

export function deviceId(doc: Document = document): string {
  const existing = readCookie(COOKIE, doc);
  if (existing && DEVICE_PATTERN.test(existing)) return existing;
  const id = mintDeviceId();
  writeCookie(COOKIE, id, ONE_YEAR_SECONDS, doc);
  return id;
}
