import { ContextConsumer } from "@lit/context";
import { LitElement } from "lit";
import { apiContext, type ConsoleApi } from "../api";
import { viewStyles } from "../ui";

/** A console tab: its own element and its own request state, with the API from context. */
export abstract class ConsoleView extends LitElement {
  static override styles = viewStyles;
  private readonly apiConsumer = new ContextConsumer(this, { context: apiContext });

  protected get api(): ConsoleApi {
    const api = this.apiConsumer.value;
    if (!api) throw new Error("a console view needs the console around it");
    return api;
  }
}
