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

export function deviceId(doc: Document = document): string {
  const existing = doc.cookie
    .split("; ")
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  if (existing && DEVICE_PATTERN.test(existing)) return existing;
  const id = mintDeviceId();
  const secure = location.protocol === "https:" ? "; Secure" : "";
  doc.cookie = `${COOKIE}=${id}; Max-Age=${ONE_YEAR_SECONDS}; Path=/; SameSite=Lax${secure}`;
  return id;
}
