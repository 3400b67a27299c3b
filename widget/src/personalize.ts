import { ContextProvider } from "@lit/context";
import { html, LitElement, nothing, type PropertyValues } from "lit";
import {
  CONSENT_EVENT,
  choicesSent,
  globalPrivacyControl,
  listenToCmp,
  setConsent,
  storedChoices,
  unsentChoices,
} from "./consent";
import { consistencyToken, keepConsistencyToken } from "./consistency";
import { type ContextState, type VisitorContext, visitorContext } from "./context";
import { defineElement } from "./define";
import { deviceId } from "./device";
import { TesseraContextEvent } from "./events";

/** A failed or slow context fetch renders `default` after this long (SPEC §3). */
const CONTEXT_TIMEOUT_MS = 1500;

/**
 * Personalizes part of a page for the current visitor.
 *
 * Renders the first child `<template segment="…">` whose segment the visitor is in, or
 * `<template default>`. The chosen template is rendered into the light DOM, so the page's
 * own styles apply. The page never breaks: any failure renders `default`.
 *
 * @fires tessera-context - when the context is loaded (or failed: `context` undefined)
 * @attr endpoint - base URL of the Tessera Worker
 * @attr key - public key (`pk_…`)
 * @attr identity-token - optional signed identity token from the site's back end
 * @attr track - `none` to send no `page.view`
 */
export class TesseraPersonalize extends LitElement {
  static override properties = {
    endpoint: { type: String },
    key: { type: String },
    identityToken: { type: String, attribute: "identity-token" },
    track: { type: String },
  };

  declare endpoint: string;
  declare key: string;
  declare identityToken: string | undefined;
  declare track: string | undefined;

  private readonly provider = new ContextProvider(this, {
    context: visitorContext,
    initialValue: { status: "pending" },
  });
  private controller: AbortController | undefined;
  private tracked = false;
  private readonly onConsent = () => void this.load();

  constructor() {
    super();
    this.endpoint = "";
    this.key = "";
  }

  override connectedCallback() {
    super.connectedCallback();
    // Performance marks a site can read: connection → first personalized render.
    performance.mark("tessera:connected");
    // A choice made on the page (tessera.setConsent or a TCF CMP) is sent with a fresh context read.
    document.addEventListener(CONSENT_EVENT, this.onConsent);
  }

  // Light DOM: the rendered template is part of the page and styled by it.
  protected override createRenderRoot() {
    return this;
  }

  protected override updated(changed: PropertyValues<this>) {
    if (changed.has("endpoint") || changed.has("key") || changed.has("identityToken"))
      void this.load();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.controller?.abort();
    document.removeEventListener(CONSENT_EVENT, this.onConsent);
  }

  private url(path: string, device: string): string {
    const url = new URL(path, this.endpoint || location.origin);
    url.searchParams.set("key", this.key);
    url.searchParams.set("device", device);
    if (globalPrivacyControl()) url.searchParams.set("gpc", "1");
    return url.toString();
  }

  private async load() {
    this.controller?.abort();
    // Not configured yet (a page may set `key` from script): wait for it.
    if (!this.key) return;
    const controller = (this.controller = new AbortController());
    const device = deviceId();
    let state: ContextState;
    try {
      const url = new URL(this.url("/v1/context", device));
      if (this.identityToken) url.searchParams.set("identityToken", this.identityToken);
      const choices = unsentChoices();
      if (choices) url.searchParams.set("consent", choices);
      const timeout = setTimeout(() => controller.abort(), CONTEXT_TIMEOUT_MS);
      // The visitor's last write, if recent: the context must include it (a header only then,
      // so the common read stays a simple request without a CORS preflight).
      const token = consistencyToken();
      const response = await fetch(url, {
        signal: controller.signal,
        credentials: "omit",
        ...(token ? { headers: { "tessera-consistency": token } } : {}),
      }).finally(() => clearTimeout(timeout));
      if (!response.ok) throw new Error(`context: HTTP ${response.status}`);
      state = { status: "complete", value: (await response.json()) as VisitorContext };
      if (choices) choicesSent(choices);
    } catch {
      if (this.controller !== controller) return; // superseded by a newer load
      state = { status: "error" };
    }
    if (this.controller !== controller) return;
    this.provider.setValue(state);
    this.requestUpdate();
    await this.updateComplete;
    performance.mark("tessera:rendered");
    this.dispatchEvent(new TesseraContextEvent(state.value));
    // A page view only where the visitor's analytics consent allows it (the server's answer;
    // when the context could not be read, only if no choice on this device denied it).
    const analytics =
      state.value?.consent?.analytics ??
      (storedChoices()?.includes("analytics:denied") ? "denied" : undefined);
    if (!this.tracked && this.track !== "none" && analytics !== "denied") this.sendPageView(device);
  }

  private sendPageView(device: string) {
    this.tracked = true;
    const body = JSON.stringify({
      events: [
        {
          type: "page.view",
          data: { url: location.href, referrer: document.referrer || undefined },
        },
      ],
    });
    // text/plain keeps it a simple CORS request (no preflight); keepalive survives navigation.
    fetch(this.url("/v1/collect", device), {
      method: "POST",
      body,
      keepalive: true,
      credentials: "omit",
      headers: { "content-type": "text/plain" },
    })
      .then((response) => keepConsistencyToken(response.headers.get("tessera-consistency")))
      .catch(() => undefined);
  }

  private chosenTemplate(): HTMLTemplateElement | undefined {
    const state = this.provider.value;
    if (state.status === "pending") return undefined;
    const templates = [...this.querySelectorAll<HTMLTemplateElement>(":scope > template")];
    const segments = new Set(state.value?.segments ?? []);
    return (
      templates.find(
        (t) => t.hasAttribute("segment") && segments.has(t.getAttribute("segment")!),
      ) ?? templates.find((t) => t.hasAttribute("default"))
    );
  }

  protected override render() {
    const template = this.chosenTemplate();
    // `importNode` copies the site author's own markup; data only ever enters as text
    // through <tessera-field>, never as HTML.
    return template
      ? html`<div part="content">${document.importNode(template.content, true)}</div>`
      : nothing;
  }
}

defineElement("tessera-personalize", TesseraPersonalize);

// The page's API: `tessera.setConsent({ analytics: true, marketing: false })`.
const api = ((window as Window & { tessera?: Record<string, unknown> }).tessera ??= {});
api.setConsent = (choices: Record<string, boolean>) => setConsent(choices);
listenToCmp();

declare global {
  interface HTMLElementTagNameMap {
    "tessera-personalize": TesseraPersonalize;
  }
}
