import { ContextConsumer } from "@lit/context";
import { LitElement, type PropertyDeclarations } from "lit";
import { apiContext, type ConsoleApi } from "../api";
import { errorText, viewStyles } from "../ui";

/**
 * A console tab: its own element and its own request state, with the API from context.
 * `attempt` runs a change the user asked for — `busy` while it runs (buttons disable), its
 * error in `problem` (shown by the tab) — so every tab reports failures the same way.
 */
export abstract class ConsoleView extends LitElement {
  static override styles = viewStyles;
  static override properties: PropertyDeclarations = {
    busy: { state: true },
    problem: { state: true },
  };
  declare busy: boolean;
  declare problem: string;
  private readonly apiConsumer = new ContextConsumer(this, { context: apiContext });

  constructor() {
    super();
    this.busy = false;
    this.problem = "";
  }

  protected get api(): ConsoleApi {
    const api = this.apiConsumer.value;
    if (!api) throw new Error("a console view needs the console around it");
    return api;
  }

  /** Runs `change`; whether it worked. */
  protected async attempt(change: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.problem = "";
    try {
      await change();
      return true;
    } catch (err) {
      this.problem = errorText(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
