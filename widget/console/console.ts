import { ContextProvider } from "@lit/context";
import { css, html, LitElement, nothing } from "lit";
import { defineElement } from "../src/define";
import { tokens } from "../tokens";
import { apiContext, ConsoleApi } from "./api";
import "./views/profiles";
import "./views/dashboard";
import "./views/batches";
import "./views/segments";
import "./views/computed";
import "./views/identity";
import "./views/destinations";
import "./views/reports";
import "./views/keys";

type Tab =
  | "profiles"
  | "dashboard"
  | "batches"
  | "segments"
  | "computed"
  | "identity"
  | "destinations"
  | "reports"
  | "keys";
const TABS: [Tab, string][] = [
  ["profiles", "Profiles"],
  ["dashboard", "Dashboard"],
  ["batches", "Batches"],
  ["segments", "Segments"],
  ["computed", "Computed"],
  ["identity", "Identity rules"],
  ["destinations", "Destinations"],
  ["reports", "Reports"],
  ["keys", "Keys"],
];
const KEY_STORAGE = "tessera.console.key";

/**
 * @summary The admin console (`/console`): a shell with the sign-in and the tabs. Each tab is its
 * own element (views/) with its own requests, so a slow answer for a tab the user left
 * never lands in another. The admin key is kept in sessionStorage (gone when the tab
 * closes). Every value from the API is rendered as text.
 *
 * @tag tessera-console
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts); the header bar
 *   uses `--tessera-chrome-*`
 */
export class TesseraConsole extends LitElement {
  static override properties = {
    key: { state: true },
    tab: { state: true },
    error: { state: true },
  };

  static override styles = [
    tokens,
    css`
    :host { display: block; font: 14px/1.5 var(--_font); color: var(--_fg); }
    header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 12px 20px; background: var(--_chrome-bg); color: var(--_chrome-fg); }
    header .signout { margin-left: auto; background: none; border: 1px solid var(--_chrome-border); color: var(--_chrome-fg); font: inherit; padding: 4px 10px; border-radius: 6px; cursor: pointer; }
    nav { display: flex; flex-wrap: wrap; gap: 2px; }
    header strong { font-size: 16px; }
    nav button { background: none; border: 0; color: var(--_chrome-muted); font: inherit; padding: 6px 10px; border-radius: 6px; cursor: pointer; }
    nav button[aria-selected="true"] { background: var(--_chrome-selected); color: var(--_chrome-fg); }
    main { padding: 20px; max-width: 1100px; margin: 0 auto; }
    @media (max-width: 700px) {
      header { padding: 10px 12px; }
      main { padding: 12px; }
      input { max-width: 100%; box-sizing: border-box; }
    }
    .panel { background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 14px 16px; }
    input, button.action { font: inherit; padding: 6px 10px; border: 1px solid var(--_field-border); border-radius: 6px; }
    button.action { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); cursor: pointer; }
    .error { color: var(--_denied); }
    .muted { color: var(--_muted); }
  `,
  ];

  declare key: string;
  declare tab: Tab;
  declare error: string;
  private readonly provider = new ContextProvider(this, { context: apiContext });

  constructor() {
    super();
    this.key = sessionStorage.getItem(KEY_STORAGE) ?? "";
    this.tab = "profiles";
    this.error = "";
    if (this.key) this.provide(this.key);
  }

  private provide(key: string) {
    this.provider.setValue(
      new ConsoleApi(key, () => {
        sessionStorage.removeItem(KEY_STORAGE);
        this.key = "";
        this.error = "That key is not valid.";
      }),
    );
  }

  private signIn(event: SubmitEvent) {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem("key") as HTMLInputElement;
    this.key = input.value.trim();
    this.error = "";
    sessionStorage.setItem(KEY_STORAGE, this.key);
    this.provide(this.key);
  }

  /** Forgets the key (this tab's copy) and asks for one again. */
  private signOut() {
    sessionStorage.removeItem(KEY_STORAGE);
    this.key = "";
    this.error = "";
    this.tab = "profiles";
  }

  private renderTab() {
    switch (this.tab) {
      case "profiles":
        return html`<tessera-console-profiles></tessera-console-profiles>`;
      case "dashboard":
        return html`<tessera-console-dashboard></tessera-console-dashboard>`;
      case "batches":
        return html`<tessera-console-batches></tessera-console-batches>`;
      case "segments":
        return html`<tessera-console-segments></tessera-console-segments>`;
      case "computed":
        return html`<tessera-console-computed></tessera-console-computed>`;
      case "identity":
        return html`<tessera-console-identity></tessera-console-identity>`;
      case "destinations":
        return html`<tessera-console-destinations></tessera-console-destinations>`;
      case "reports":
        return html`<tessera-console-reports></tessera-console-reports>`;
      case "keys":
        return html`<tessera-console-keys></tessera-console-keys>`;
    }
  }

  protected override render() {
    if (!this.key) {
      return html`<header><strong>Tessera console</strong></header>
        <main><form class="panel" @submit=${this.signIn}>
          <label for="key">Admin key (kept for this tab only)</label><br />
          <input id="key" name="key" type="password" autocomplete="off" required size="40" />
          <button class="action" type="submit">Open console</button>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
          <p class="muted">Running locally? <code>npm start</code> printed the key; it is also in <code>.dev.vars</code>.</p>
        </form></main>`;
    }
    return html`<header>
        <strong>Tessera console</strong>
        <nav role="tablist">${TABS.map(([id, label]) => html`<button role="tab" aria-selected=${this.tab === id ? "true" : "false"} @click=${() => (this.tab = id)}>${label}</button>`)}</nav>
        <button class="signout" @click=${this.signOut}>Sign out</button>
      </header>
      <main role="tabpanel">${this.renderTab()}</main>`;
  }
}

defineElement("tessera-console", TesseraConsole);
