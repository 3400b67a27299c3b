import { normalizeIdentity, parseIdentityString } from "../../shared/identity/normalize";
import type { IdentityConfig } from "./rules";
import type { IdentityRef } from "./workspace";
import { ApiError } from "../lib/errors";

/**
 * Turns an identity from a URL (`:namespace/:id`, or `ns:id` in a query) into its
 * normalized form, so a lookup finds what ingest stored: `John@X.com` finds `john@x.com`.
 */
export function resolveIdentity(config: IdentityConfig, namespace: string, id: string, path = "id"): IdentityRef {
  const ns = config.namespaces.get(namespace);
  if (!ns) throw new ApiError("unknown_namespace", `unknown namespace "${namespace}"`, { details: [{ path: "namespace", message: "not a namespace" }] });
  const result = normalizeIdentity(ns, id, config.phoneRegion);
  if (!result.ok) throw new ApiError(result.code, result.message, { details: [{ path, message: result.message }] });
  return { namespace, value: result.value };
}

export function resolveIdentityString(config: IdentityConfig, text: string, path: string): IdentityRef {
  const parsed = parseIdentityString(text);
  if (!parsed) throw new ApiError("invalid_identity", `"${text}" is not an identity like email:john@luma.com`, { details: [{ path, message: "expected namespace:id" }] });
  return resolveIdentity(config, parsed.namespace, parsed.id, path);
}
