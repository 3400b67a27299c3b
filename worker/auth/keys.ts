/**
 * API key material. Keys are 32 random bytes (base62-ish), so a plain SHA-256 is a safe
 * one-way store: there is nothing to brute-force. Only the hash ever reaches D1.
 */
import { sha256Hex } from "../../shared/digest";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomToken(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length))) {
      // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export function newSecretKey(): string {
  return `sk_${randomToken(40)}`;
}

export function newPublicKey(): string {
  return `pk_${randomToken(32)}`;
}

export function newKeyId(): string {
  return `key_${randomToken(16)}`;
}

/** What is stored of a key: its SHA-256, never the key. */
export const hashKey = (key: string): Promise<string> => sha256Hex(key);

/** What lists show instead of the key: the kind prefix and a few characters. */
export function keyPrefix(key: string): string {
  return `${key.slice(0, 7)}…`;
}
