/**
 * The visitor's own writes, seen by their next context read (SPEC §6): a tracking answer's
 * `Tessera-Consistency` token is kept in the first-party cookie `tessera_consistency`, and
 * sent back as a header with `/v1/context`, so a read replica that has not caught up with
 * the visitor's page view is not used for them. Ten minutes is far beyond any replica lag.
 */
import { readCookie, writeCookie } from "./device";

const COOKIE = "tessera_consistency";
const MAX_AGE_SECONDS = 600;
const TOKEN_PATTERN = /^t1\.[0-9A-Za-z.-]{1,240}$/;

export function consistencyToken(doc: Document = document): string | undefined {
  const value = readCookie(COOKIE, doc);
  return value && TOKEN_PATTERN.test(value) ? value : undefined;
}

export function keepConsistencyToken(token: string | null, doc: Document = document): void {
  if (token && TOKEN_PATTERN.test(token)) writeCookie(COOKIE, token, MAX_AGE_SECONDS, doc);
}
