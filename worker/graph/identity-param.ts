import { normalizeIdentity, parseIdentityString } from "../../shared/identity/normalize";
import { ok, problem, type Result } from "../lib/result";
import type { IdentityRef } from "../model/graph";
import type { IdentityConfig } from "./identity-config";

/**
 * Turns an identity from a URL (`:namespace/:id`, or `ns:id` in a query) into its
 * normalized form, so a lookup finds what ingest stored: `John@X.com` finds `john@x.com`.
 * `path` names the input in the problem's details.
 */
export function resolveIdentity(
  config: IdentityConfig,
  namespace: string,
  id: string,
  path = "id",
): Result<IdentityRef> {
  const ns = config.namespaces.get(namespace);
  if (!ns)
    return problem("unknown_namespace", `unknown namespace "${namespace}"`, [
      { path: "namespace", message: "not a namespace" },
    ]);
  const result = normalizeIdentity(ns, id, config.phoneRegion);
  if (!result.ok) return problem(result.code, result.message, [{ path, message: result.message }]);
  return ok({ namespace, value: result.value });
}

export function resolveIdentityString(
  config: IdentityConfig,
  text: string,
  path: string,
): Result<IdentityRef> {
  const parsed = parseIdentityString(text);
  if (!parsed)
    return problem("invalid_identity", `"${text}" is not an identity like email:john@luma.com`, [
      { path, message: "expected namespace:id" },
    ]);
  return resolveIdentity(config, parsed.namespace, parsed.id, path);
}
