/** The console in a page: sign in with the admin key, open a tab. */
import type { Page } from "playwright-core";
import { adminKey, workerUrl } from "./api";

/** Opens /console (unless `goto` is false: the page is already there) and signs in. */
export async function signIn(page: Page, goto = true): Promise<void> {
  if (goto) await page.goto(`${workerUrl}/console`);
  await page.fill("tessera-console >> #key", adminKey);
  await page.click("tessera-console >> button[type=submit]");
}

export const openTab = (page: Page, label: string) =>
  page.click(`tessera-console >> button[role=tab]:has-text('${label}')`);
