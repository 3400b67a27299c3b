import { describe, expect, it } from "vitest";
import { isBlocked, type NamespaceRules, normalizeIdentity } from "../../shared/identity/normalize";

const ns = (
  code: string,
  normalize: NamespaceRules["normalize"],
  extra: Partial<NamespaceRules> = {},
): NamespaceRules => ({
  code,
  normalize,
  unique: false,
  priority: 0,
  maxPerGraph: null,
  blockedValues: [],
  ...extra,
});
const email = ns("email", "email");
const phone = ns("phone", "phone");
const crm = ns("crm", "trim", { unique: true });

describe("normalizeIdentity", () => {
  it("makes e-mails that differ in case and spaces one identity", () => {
    const values = [
      "John.Greene@Luma.com",
      " john.greene@luma.com",
      "JOHN.GREENE@LUMA.COM",
      "john.greene@luma.com ",
    ].map((v) => normalizeIdentity(email, v));
    expect(new Set(values.map((v) => (v.ok ? v.value : "ERR")))).toEqual(
      new Set(["john.greene@luma.com"]),
    );
  });

  it("rejects malformed e-mails as invalid_identity", () => {
    for (const bad of ["not-an-email", "a@b", "two@@x.com", "sp ace@x.com"]) {
      expect(normalizeIdentity(email, bad)).toMatchObject({ ok: false, code: "invalid_identity" });
    }
  });

  it("writes phones as E.164 using the default region", () => {
    expect(normalizeIdentity(phone, "+31 6 12345678", "NL")).toEqual({
      ok: true,
      value: "+31612345678",
    });
    expect(normalizeIdentity(phone, "0031612345678", "NL")).toEqual({
      ok: true,
      value: "+31612345678",
    });
    expect(normalizeIdentity(phone, "06-12345678", "NL")).toEqual({
      ok: true,
      value: "+31612345678",
    });
    expect(normalizeIdentity(phone, "12", "NL")).toMatchObject({
      ok: false,
      code: "invalid_identity",
    });
  });

  it("blocks the spec's junk values in every namespace", () => {
    for (const junk of [
      "",
      "null",
      "NULL",
      "undefined",
      "anonymous",
      "Unknown",
      "none",
      "n/a",
      "-1",
      "0",
      "000-000",
      "---",
    ]) {
      expect(normalizeIdentity(crm, junk)).toMatchObject({ ok: false, code: "blocked_identity" });
    }
    expect(normalizeIdentity(email, "null")).toMatchObject({ ok: false, code: "blocked_identity" });
    expect(normalizeIdentity(crm, "100")).toEqual({ ok: true, value: "100" });
  });

  it("applies per-namespace blocked values, exact and /regex/", () => {
    const custom = ns("crm", "trim", { blockedValues: ["test-user", "/^guest-\\d+$/"] });
    expect(normalizeIdentity(custom, "test-user")).toMatchObject({ code: "blocked_identity" });
    expect(normalizeIdentity(custom, "guest-42")).toMatchObject({ code: "blocked_identity" });
    expect(normalizeIdentity(custom, "guest-x")).toEqual({ ok: true, value: "guest-x" });
    expect(isBlocked("  ANONYMOUS ")).toBe(true);
  });

  it("checks device id format", () => {
    const device = ns("device", "trim");
    expect(normalizeIdentity(device, "short")).toMatchObject({ code: "invalid_identity" });
    expect(normalizeIdentity(device, "d_0123456789abcdef")).toEqual({
      ok: true,
      value: "d_0123456789abcdef",
    });
  });
});
