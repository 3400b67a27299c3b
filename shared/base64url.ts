/** base64 and base64url (RFC 4648 §4 and §5, the latter unpadded) over bytes and over UTF-8 text. */
export function bytesToBase64(bytes: ArrayBuffer | Uint8Array): string {
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = "";
  for (const b of arr) bin += String.fromCharCode(b);
  return btoa(bin);
}

export const bytesToBase64url = (bytes: ArrayBuffer | Uint8Array): string =>
  bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Throws on anything that is not base64 (`atob` accepts it). */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Throws on anything that is not base64url. */
export function base64urlToBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  return base64ToBytes(text.replace(/-/g, "+").replace(/_/g, "/"));
}

export const textToBase64url = (text: string): string =>
  bytesToBase64url(new TextEncoder().encode(text));

/** Throws on invalid base64url or invalid UTF-8. */
export const base64urlToText = (text: string): string =>
  new TextDecoder("utf-8", { fatal: true }).decode(base64urlToBytes(text));
