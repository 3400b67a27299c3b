// The one ES module served at /widget.js.
export { TesseraPersonalize } from "./personalize";
export { TesseraField } from "./field";
export { TesseraContextEvent } from "./events";
