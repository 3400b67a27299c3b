import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { validationHook } from "../lib/validation";

/** A router for one resource; mounted by `createApp()` and by tests the same way. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook, strict: false });
}
